"""The methods an evaluation can score: the engine and two classic baselines.

Every method turns one set item into a :class:`Prediction` in the same frame as
the ground truth (the upright image), so the runner scores them alike:

``engine``
    :func:`engine.process` for signature sets, :func:`engine.binarize_image` for
    binarisation sets.
``otsu``
    A global Otsu threshold on the grey image (Otsu, 1979); the crop is the
    bounding box of every ink pixel; no deskew.
``sauvola``
    A local Sauvola threshold (scikit-image ``threshold_sauvola``, window 25 px,
    k = 0.2; Sauvola and Pietikäinen, 2000) with components under 8 px removed.
    The crop is the bounding box of the ink. The baseline angle comes from the
    ``deskew`` package (Hough transform of the edges) run on the crop.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from samples.manifest import SetItem

__all__ = ["METHODS", "MethodSpec", "Prediction", "make_method", "read_upright_rgb"]

METHODS = ("engine", "otsu", "sauvola")


@dataclass
class Prediction:
    """Output of a method on one image.

    Attributes
    ----------
    accepted : bool
        False when the method rejected the image.
    code : str or None
        Error code of a rejection.
    mask : ndarray or None
        ``(H, W)`` bool ink mask of the whole upright image; None when rejected.
    crop_box : tuple of int or None
        ``(x, y, width, height)`` crop in upright pixels.
    angle_estimated : float or None
        Measured baseline angle, degrees, counter-clockwise positive.
    angle_applied : float
        Rotation applied to the output, degrees, counter-clockwise positive (the
        negative of the baseline angle when levelling).
    output : ndarray or None
        The output picture for the report: ``(h, w, 4)`` RGBA or ``(h, w)`` bool.
    warnings : list of str
    seconds : float
        Wall time of the method on this image, decoding included.
    """

    accepted: bool
    code: str | None = None
    mask: np.ndarray | None = None
    crop_box: tuple[int, int, int, int] | None = None
    angle_estimated: float | None = None
    angle_applied: float = 0.0
    output: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class MethodSpec:
    """A picklable description of a method, sent to worker processes.

    ``params`` is a profile name, a profile path, or a dict of parameter fields;
    only the engine uses it and ``backend``.
    """

    name: str = "engine"
    params: str | dict[str, Any] | None = None
    backend: str | None = None

    def label(self) -> str:
        return self.name


def read_upright_rgb(data: bytes) -> np.ndarray:
    """Decode image bytes to ``(H, W, 3)`` uint8 RGB with the EXIF orientation applied."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        return np.asarray(upright.convert("RGB"))


def _grey(rgb: np.ndarray) -> np.ndarray:
    # ITU-R BT.601 luma on RGB order.
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float64)


def _mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    from engine.evaluation.metrics import mask_box

    return mask_box(mask)


def _crop_output(mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return mask[y : y + h, x : x + w]


def _engine(spec: MethodSpec) -> Callable[[SetItem, str], Prediction]:
    import engine
    from engine.errors import SignatureEngineError
    from engine.params import resolve_params
    from engine.pipeline import binarize_image

    params = resolve_params(spec.params)

    def run(item: SetItem, task: str) -> Prediction:
        data = item.read_image()
        start = time.perf_counter()
        if task == "binarization":
            mask = binarize_image(read_upright_rgb(data), params=params, backend=spec.backend)
            return Prediction(True, mask=mask, output=mask, seconds=time.perf_counter() - start)
        try:
            result = engine.process(data, params=params, backend=spec.backend)
        except SignatureEngineError as error:
            return Prediction(False, code=error.code, seconds=time.perf_counter() - start)
        seconds = time.perf_counter() - start
        box = result.crop_box
        return Prediction(
            True,
            mask=result.ink_mask_full(),
            crop_box=(box.x, box.y, box.width, box.height),
            angle_estimated=float(result.angle_estimated),
            angle_applied=float(result.angle),
            output=result.image,
            warnings=list(result.warning_codes),
            seconds=seconds,
        )

    return run


def _threshold_method(kind: str) -> Callable[[SetItem, str], Prediction]:
    from skimage.filters import threshold_otsu, threshold_sauvola
    from skimage.morphology import remove_small_objects

    def run(item: SetItem, task: str) -> Prediction:
        data = item.read_image()
        start = time.perf_counter()
        grey = _grey(read_upright_rgb(data))
        if kind == "otsu":
            mask = grey < threshold_otsu(grey)
        else:
            # scikit-image takes R as half the dtype's range: [0, 1] floats give R = 0.5.
            unit = grey / 255.0
            mask = unit < threshold_sauvola(unit, window_size=25, k=0.2)
            mask = remove_small_objects(mask, max_size=7)
        if task == "binarization":
            return Prediction(True, mask=mask, output=mask, seconds=time.perf_counter() - start)

        box = _mask_box(mask)
        if box is None:
            return Prediction(False, code="no_ink_found", seconds=time.perf_counter() - start)
        estimated = None
        applied = 0.0
        if kind == "sauvola":
            from deskew import determine_skew

            # deskew returns the counter-clockwise rotation that levels the text,
            # the negative of the baseline angle; None when it finds no line.
            crop = _crop_output(mask, box).astype(np.uint8) * 255
            skew = determine_skew(crop, max_angle=45.0, min_angle=-45.0)
            if skew is not None and np.isfinite(skew):
                applied = float(skew)
                estimated = -applied
        return Prediction(
            True,
            mask=mask,
            crop_box=box,
            angle_estimated=estimated,
            angle_applied=applied,
            output=_crop_output(mask, box),
            seconds=time.perf_counter() - start,
        )

    return run


def make_method(spec: MethodSpec) -> Callable[[SetItem, str], Prediction]:
    """Build the function that runs ``spec`` on one item for a task (``signature`` or ``binarization``).

    Raises
    ------
    ValueError
        If ``spec.name`` is not one of :data:`METHODS`.
    """
    if spec.name == "engine":
        return _engine(spec)
    if spec.name in ("otsu", "sauvola"):
        return _threshold_method(spec.name)
    raise ValueError(f"unknown method {spec.name!r}: expected one of {', '.join(METHODS)}")
