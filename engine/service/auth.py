"""The caller's authentication context and the strong-authentication rule."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.service.errors import InvalidAuthContext, InvalidRequest, StrongAuthRequired

__all__ = [
    "ACCOUNT_ID_PATTERN",
    "ID_PATTERN",
    "STRONG_AUTH_METHODS",
    "AuthContext",
    "loggable_id",
    "loggable_method",
    "require_strong_auth",
    "validate_account_id",
]

# The health-professional smart card ("cps") and its app-based e-card ("e-cps").
# No other sign-in method counts as strong authentication.
STRONG_AUTH_METHODS = frozenset({"cps", "e-cps"})

# Actor, session and account ids are opaque, pseudonymous tokens issued by the
# portal. The alphabet leaves out "@" and spaces, so an e-mail address or a
# person's name cannot pass for an id and reach the logs.
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ACCOUNT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass(frozen=True)
class AuthContext:
    """The caller's authentication context: actor, session and sign-in method.

    Attributes
    ----------
    auth_method : str or None
        The sign-in method reported by the portal, such as ``"cps"``,
        ``"e-cps"`` or ``"password"``. Compared case-insensitively.
    actor_id : str or None
        Pseudonymous id of the person acting (1-128 characters from
        ``A-Z a-z 0-9 . _ : -``).
    session_id : str or None
        Id of the portal session the call belongs to, same alphabet.
    """

    auth_method: str | None
    actor_id: str | None
    session_id: str | None

    @property
    def normalized_method(self) -> str:
        """The sign-in method in lower case without surrounding spaces, or ``""``."""
        return (self.auth_method or "").strip().lower()


def require_strong_auth(auth: AuthContext) -> AuthContext:
    """Check that ``auth`` comes from a CPS or e-CPS sign-in with actor and session ids.

    Returns
    -------
    AuthContext
        A copy whose ``auth_method`` is normalised to ``"cps"`` or ``"e-cps"``.

    Raises
    ------
    StrongAuthRequired
        When the sign-in method is missing or is not ``cps`` / ``e-cps``.
    InvalidAuthContext
        When the actor id or the session id is missing or malformed.
    """
    method = auth.normalized_method
    if method not in STRONG_AUTH_METHODS:
        # Echo at most a short, printable prefix: the header comes from the client.
        echoed_method = re.sub(r"[^a-z0-9._-]", "?", method[:32])
        raise StrongAuthRequired(echoed_method or None)

    for label_en, label_fr, value in (
        ("actor id", "identifiant de l'acteur", auth.actor_id),
        ("session id", "identifiant de session", auth.session_id),
    ):
        if not value:
            raise InvalidAuthContext(
                None, reason_fr=f"{label_fr} manquant", reason_en=f"missing {label_en}"
            )
        if not ID_PATTERN.fullmatch(value):
            raise InvalidAuthContext(
                None,
                reason_fr=f"{label_fr} mal formé (1 à 128 caractères parmi A-Z a-z 0-9 . _ : -)",
                reason_en=f"malformed {label_en} (1 to 128 characters from A-Z a-z 0-9 . _ : -)",
            )

    return AuthContext(auth_method=method, actor_id=auth.actor_id, session_id=auth.session_id)


def validate_account_id(account_id: str) -> str:
    """Return ``account_id`` when it is a well-formed pseudonymous id, else raise InvalidRequest.

    A valid id has 1-128 characters from ``A-Z a-z 0-9 . _ : -`` and starts with
    a letter or digit.
    """
    if not isinstance(account_id, str) or not ACCOUNT_ID_PATTERN.fullmatch(account_id):
        raise InvalidRequest(
            None,
            reason_fr=(
                "identifiant de compte mal formé (1 à 128 caractères parmi A-Z a-z 0-9 . _ : -)"
            ),
            reason_en="malformed account id (1 to 128 characters from A-Z a-z 0-9 . _ : -)",
        )
    return account_id


def loggable_id(value: object, pattern: re.Pattern[str] = ID_PATTERN) -> str | None:
    """Return ``value`` if it is a well-formed id and so safe to log, else None."""
    if isinstance(value, str) and pattern.fullmatch(value):
        return value
    return None


def loggable_method(value: object) -> str | None:
    """Return a sign-in method for the logs: the method in lower case, ``"other"`` or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    method = value.strip().lower()
    return method if re.fullmatch(r"[a-z0-9._-]{1,32}", method) else "other"
