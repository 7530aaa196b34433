"""Quality warnings: stable codes with the French and English messages the portal shows."""

from __future__ import annotations

from engine.result import QualityWarning

__all__ = ["WARNINGS", "make_warning"]

# code -> (French, English)
WARNINGS: dict[str, tuple[str, str]] = {
    "low_contrast": (
        "La signature est peu contrastée. Signez à l'encre foncée et photographiez-la sous une "
        "lumière franche.",
        "The signature has little contrast. Sign in dark ink and photograph it in good light.",
    ),
    "blurry": (
        "La photo semble floue. Tenez le téléphone immobile et faites la mise au point sur la "
        "signature.",
        "The photo looks blurry. Hold the phone still and focus on the signature.",
    ),
    "signature_cut_off": (
        "La signature touche le bord de la photo et pourrait être coupée. Reprenez la photo en "
        "laissant une marge autour.",
        "The signature touches the edge of the photo and may be cut off. Take the photo again "
        "with a margin around it.",
    ),
    "low_resolution": (
        "La signature est petite sur la photo. Rapprochez-vous pour qu'elle occupe une plus "
        "grande partie de l'image.",
        "The signature is small in the photo. Move closer so that it fills more of the picture.",
    ),
    "lined_paper": (
        "Le papier est ligné ou quadrillé. Les lignes ont été retirées ; vérifiez le résultat, "
        "ou signez sur une feuille blanche.",
        "The paper is ruled or squared. The lines were removed; check the result, or sign on "
        "a blank sheet.",
    ),
    "rotated_photo": (
        "La signature semble tournée d'un quart de tour ou à l'envers. Utilisez le bouton de "
        "rotation pour la redresser.",
        "The signature seems turned sideways or upside down. Use the rotate button to "
        "straighten it.",
    ),
}


def make_warning(code: str) -> QualityWarning:
    """Return the warning ``code`` with its messages."""
    french, english = WARNINGS[code]
    return QualityWarning(code=code, message_fr=french, message_en=english)
