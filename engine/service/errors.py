"""Typed errors of the signature service.

They extend the engine's error tree, so the API turns every one of them into the
same JSON body ``{"code", "message"}`` with ``http_status``, and scripts match on
the stable ``code``. Messages are in French by default and in English on request.
"""

from __future__ import annotations

from typing import Any

from engine.errors import SignatureEngineError, normalize_language

__all__ = [
    "ConfirmationRequired",
    "ConsentRequired",
    "DatabaseUnavailable",
    "InternalError",
    "InvalidAuthContext",
    "InvalidRequest",
    "MethodNotAllowed",
    "RouteNotFound",
    "ServiceError",
    "SignatureExists",
    "SignatureNotFound",
    "StrongAuthRequired",
    "Unauthorized",
]


class ServiceError(SignatureEngineError):
    """A request that breaks one of the service's rules; nothing was changed."""


class _ReasonedError(ServiceError):
    """An error whose message embeds a reason given in both languages."""

    def __init__(self, value: Any = None, *, reason_fr: str, reason_en: str) -> None:
        super().__init__(value, reason=reason_en, reason_fr=reason_fr)

    def message(self, lang: str | None = "fr") -> str:
        if normalize_language(lang) == "en":
            return self.message_en.format(reason=self.context["reason"])
        return self.message_fr.format(reason=self.context["reason_fr"])


class Unauthorized(ServiceError):
    """The API call carries no bearer token, or the wrong one."""

    code = "unauthorized"
    http_status = 401
    message_fr = (
        "L'appel n'est pas authentifié : le jeton d'API est absent ou invalide. "
        "Envoyez l'en-tête « Authorization: Bearer <jeton> »."
    )
    message_en = (
        "The call is not authenticated: the API token is missing or invalid. "
        "Send the header 'Authorization: Bearer <token>'."
    )


class StrongAuthRequired(ServiceError):
    """The user signed in with a method other than the CPS card or e-CPS."""

    code = "strong_auth_required"
    http_status = 403
    message_fr = (
        "Cette action exige une connexion par carte CPS ou e-CPS (méthode utilisée : {method}). "
        "Reconnectez-vous avec votre carte CPS ou l'application e-CPS."
    )
    message_en = (
        "This action requires signing in with a CPS card or e-CPS (method used: {method}). "
        "Please sign in again with your CPS card or the e-CPS app."
    )

    def __init__(self, value: str | None) -> None:
        super().__init__(value)

    def message(self, lang: str | None = "fr") -> str:
        if normalize_language(lang) == "en":
            return self.message_en.format(method=self.value or "none")
        return self.message_fr.format(method=self.value or "aucune")


class InvalidAuthContext(_ReasonedError):
    """The authentication context lacks the actor or session id, or one is malformed."""

    code = "invalid_auth_context"
    http_status = 400
    message_fr = "Le contexte d'authentification est invalide : {reason}."
    message_en = "The authentication context is invalid: {reason}."


class InvalidRequest(_ReasonedError):
    """A request field is missing or malformed (account id, cursor, form field, ...)."""

    code = "invalid_request"
    http_status = 422
    message_fr = "La requête est invalide : {reason}."
    message_en = "The request is invalid: {reason}."


class ConsentRequired(ServiceError):
    code = "consent_required"
    http_status = 400
    message_fr = (
        "Votre consentement est nécessaire pour enregistrer votre signature. "
        "Cochez la case de consentement, puis validez de nouveau."
    )
    message_en = (
        "Your consent is needed to save your signature. "
        "Please tick the consent box, then submit again."
    )


class SignatureExists(ServiceError):
    code = "signature_exists"
    http_status = 409
    message_fr = (
        "Une signature est déjà enregistrée pour ce compte. "
        "Utilisez « Modifier » pour la remplacer."
    )
    message_en = "A signature is already saved for this account. Use 'Modify' to replace it."


class SignatureNotFound(ServiceError):
    code = "signature_not_found"
    http_status = 404
    message_fr = (
        "Aucune signature n'est enregistrée pour ce compte. Ajoutez d'abord votre signature."
    )
    message_en = "No signature is saved for this account. Please add your signature first."


class ConfirmationRequired(ServiceError):
    code = "confirmation_required"
    http_status = 400
    message_fr = (
        "La suppression de la signature doit être confirmée. "
        "Confirmez la suppression pour continuer."
    )
    message_en = "Deleting the signature must be confirmed. Please confirm the deletion."


class RouteNotFound(ServiceError):
    code = "not_found"
    http_status = 404
    message_fr = "Cette adresse n'existe pas dans l'API ({value})."
    message_en = "This address does not exist in the API ({value})."


class MethodNotAllowed(ServiceError):
    code = "method_not_allowed"
    http_status = 405
    message_fr = "La méthode {value} n'est pas acceptée sur cette adresse."
    message_en = "The {value} method is not allowed on this address."


class DatabaseUnavailable(ServiceError):
    code = "database_unavailable"
    http_status = 503
    message_fr = "La base de données ne répond pas. Réessayez dans quelques instants."
    message_en = "The database is not responding. Please try again in a moment."


class InternalError(ServiceError):
    code = "internal_error"
    http_status = 500
    message_fr = (
        "Une erreur interne est survenue et rien n'a été modifié. "
        "Réessayez plus tard ; si le problème persiste, contactez le support."
    )
    message_en = (
        "An internal error occurred and nothing was changed. "
        "Please try again later; if the problem persists, contact support."
    )
