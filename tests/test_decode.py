"""Tests of engine.decode: upload checks, orientation, colour and reduced decoding."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile

from engine.decode import (
    DecodedImage,
    Limits,
    UnrecognizedFile,
    Upload,
    load_image,
    open_upload,
    read_upload_file,
    sniff_format,
)
from engine.decode._heif import heif_image_class
from engine.errors import (
    AnimatedNotSupported,
    CorruptImage,
    EmptyFile,
    FileTooLarge,
    ImageTooLarge,
    ImageTooSmall,
    InputError,
    InvalidParameter,
    UnsupportedFormat,
)

_SHARED_DIR = Path(__file__).resolve().parents[1] / ".." / "shared"

# Error codes decided by the input layer; the other codes of the shared cases
# (no_ink_found) belong to later steps, so those inputs must decode here.
INPUT_ERRORS: dict[str, type[InputError]] = {
    "empty_file": EmptyFile,
    "file_too_large": FileTooLarge,
    "image_too_large": ImageTooLarge,
    "image_too_small": ImageTooSmall,
    "unsupported_format": UnsupportedFormat,
    "animated_not_supported": AnimatedNotSupported,
    "corrupt_image": CorruptImage,
}

# Shared cases whose expected output is about a later step (deskew), not about decoding.
NOT_DECODE_COMPARABLE_KINDS = {"deskew_flip"}

# Tolerances for "decodes to the same picture as orient_1.jpg", in grey levels.
# Measured on the shared cases: the rotated JPEGs and the HEIF, 16-bit and CMYK
# copies differ from orient_1.jpg by at most 1.02 on average (9 at the 99.9th
# percentile). A wrong mirror or rotation differs by 9.5 to 11.3 on average.
SAME_PICTURE_MEAN_DIFF = 2.0
SAME_PICTURE_OUTLIER_DIFF = 48
SAME_PICTURE_MAX_OUTLIER_SHARE = 0.001

# Upright (width, height) of the shared case images that state no truth_size_wh.
DEFAULT_CASE_SIZE = (1000, 500)

INK_THRESHOLD = 128  # grey level below which a pixel counts as ink
MIN_INK_IOU = 0.85


def _load_case_list() -> list[dict]:
    path = _SHARED_DIR / "cases" / "expected.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def _list_realdata(folder: str) -> list[str]:
    path = _SHARED_DIR / "realdata" / folder
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


_CASES = _load_case_list()
def _or_skip(values: list, what: str) -> list:
    """Return ``values``, or one skipped parameter naming what is missing when it is empty."""
    if values:
        return values
    return [pytest.param(None, marks=pytest.mark.skip(reason=f"{what} not found beside the repository"))]


REJECTED_CASES = [c["file"] for c in _CASES if c.get("error_code") in INPUT_ERRORS]
DECODED_CASES = [c["file"] for c in _CASES if c["file"] not in REJECTED_CASES]
SAME_PICTURE_CASES = [
    c["file"]
    for c in _CASES
    if c.get("same_output_as") == "inputs/orient_1.jpg"
    and c["kind"] not in NOT_DECODE_COMPARABLE_KINDS
]
INK_MASK_CASES = [
    c["file"] for c in _CASES if c["kind"] in {"transparency_black", "icc_profile"}
]
ORIENTATION_CASES = [c["file"] for c in _CASES if c["kind"] == "exif_orientation"]
FORMAT_FILES = _list_realdata("formats")


# ---------------------------------------------------------------- helpers


def _grey(pixels: np.ndarray) -> np.ndarray:
    """Return BT.601 luminance of an (H, W, 3) uint8 array as int, or the grey array as int."""
    if pixels.ndim == 2:
        return pixels.astype(int)
    return np.asarray(Image.fromarray(pixels).convert("L")).astype(int)


def _encode(pixels: np.ndarray, format_name: str, *, orientation: int | None = None, **options) -> bytes:
    image = Image.fromarray(pixels)
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    buffer = io.BytesIO()
    image.save(buffer, format_name, **options)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_header_only(width: int, height: int) -> bytes:
    """Build a 1-bit greyscale PNG that declares width × height but contains a few bytes of data."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append((data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def _display_p3_profile(cases) -> bytes:
    with Image.open(cases["inputs/icc_display_p3.png"]["path"]) as image:
        return image.info["icc_profile"]


def _block_image(rng: np.random.Generator, rows: int, columns: int, block: int = 16) -> np.ndarray:
    """Return an RGB image of flat ``block``-pixel squares: JPEG and DCT scaling keep it almost exact."""
    colours = rng.integers(0, 256, size=(rows, columns, 3), dtype=np.uint8)
    return np.repeat(np.repeat(colours, block, axis=0), block, axis=1)


# Displayed raster for each EXIF orientation, written from the EXIF 2.3 definitions of where
# the stored 0th row and 0th column appear, independently of the engine's transpose table.
DISPLAYED = {
    1: lambda s: s,  # 0th row top, 0th column left
    2: lambda s: s[:, ::-1],  # 0th row top, 0th column right
    3: lambda s: s[::-1, ::-1],  # 0th row bottom, 0th column right
    4: lambda s: s[::-1],  # 0th row bottom, 0th column left
    5: lambda s: s.swapaxes(0, 1),  # 0th row left, 0th column top
    6: lambda s: np.rot90(s, -1),  # 0th row right, 0th column top
    7: lambda s: s[::-1, ::-1].swapaxes(0, 1),  # 0th row right, 0th column bottom
    8: lambda s: np.rot90(s, 1),  # 0th row left, 0th column bottom
}


@pytest.fixture
def decode_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every pixel decode that Pillow starts (its ``ImageFile.load``)."""
    calls: list[str] = []
    original = ImageFile.ImageFile.load

    def spy(image: ImageFile.ImageFile):
        calls.append(image.format or "?")
        return original(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


@pytest.fixture(scope="module")
def orient_1(cases) -> DecodedImage:
    return load_image(cases["inputs/orient_1.jpg"]["path"].read_bytes())


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    """A 4000 × 3000 (12 MP) photo-like JPEG: smooth shading plus sensor-like noise."""
    rng = np.random.default_rng(12)
    shade = 200 + 30 * np.sin(np.arange(4000) / 300)[None, :] + 20 * np.cos(np.arange(3000) / 200)[:, None]
    noise = np.tile(rng.normal(0, 6, size=(250, 250)), (12, 16))
    grey = np.clip(shade + noise, 0, 235).astype(np.uint8)
    pixels = np.dstack([grey + 10, grey + 5, grey])
    return _encode(pixels, "JPEG", quality=90)


# ---------------------------------------------------------------- shared cases


@pytest.mark.parametrize("file", _or_skip(REJECTED_CASES, "shared cases"))
def test_open_upload_rejects_case(cases, file, decode_spy):
    case = cases[file]
    code = case["error_code"]

    with pytest.raises(INPUT_ERRORS[code], match=rf"^\[{code}\]") as raised:
        open_upload(case["path"].read_bytes()).decode()

    assert raised.value.code == code
    if code != "corrupt_image":
        assert decode_spy == [], "rejected before any pixel decode"


@pytest.mark.parametrize("file", _or_skip(REJECTED_CASES, "shared cases"))
def test_rejected_case_messages_in_french_and_english(cases, file):
    with pytest.raises(InputError) as raised:
        load_image(cases[file]["path"].read_bytes())
    error = raised.value

    assert error.message("fr") != error.message("en")
    assert "{" not in error.message("fr")
    assert "{" not in error.message("en")
    assert error.http_status < 500


@pytest.mark.parametrize("file", _or_skip(DECODED_CASES, "shared cases"))
def test_load_image_decodes_case_upright(cases, file):
    case = cases[file]
    decoded = load_image(case["path"].read_bytes())
    width, height = case.get("truth_size_wh", DEFAULT_CASE_SIZE)

    assert decoded.full_size == (width, height)
    assert decoded.pixels.shape == (height, width, 3)
    assert decoded.pixels.dtype == np.uint8


@pytest.mark.parametrize("file", _or_skip(SAME_PICTURE_CASES, "shared cases"))
def test_load_image_matches_orient_1(cases, orient_1, file):
    decoded = load_image(cases[file]["path"].read_bytes())
    difference = np.abs(_grey(decoded.pixels) - _grey(orient_1.pixels))

    assert difference.mean() < SAME_PICTURE_MEAN_DIFF
    assert (difference > SAME_PICTURE_OUTLIER_DIFF).mean() < SAME_PICTURE_MAX_OUTLIER_SHARE


@pytest.mark.parametrize("file", _or_skip(INK_MASK_CASES, "shared cases"))
def test_load_image_keeps_ink_of_case(cases, shared_dir, file):
    case = cases[file]
    with Image.open(shared_dir / "cases" / case["truth_mask"]) as mask:
        truth = np.asarray(mask.convert("L")) > 0
    ink = load_image(case["path"].read_bytes(), gray=True).pixels < INK_THRESHOLD

    assert (ink & truth).sum() / (ink | truth).sum() >= MIN_INK_IOU


@pytest.mark.parametrize("file", _or_skip(ORIENTATION_CASES, "shared cases"))
def test_load_image_reports_case_orientation(cases, file):
    expected = int(Path(file).stem.split("_")[-1])

    assert load_image(cases[file]["path"].read_bytes()).orientation == expected


def test_load_image_heic_orientation_applied_once(cases):
    decoded = load_image(cases["inputs/heic_orient_6.heic"]["path"].read_bytes())

    assert decoded.format == "HEIF"
    assert decoded.orientation == 1
    assert decoded.full_size == (1000, 500)


def test_load_image_mpo_is_jpeg_primary_frame(cases):
    decoded = load_image(cases["inputs/mpo_camera.jpg"]["path"].read_bytes())

    assert decoded.format == "JPEG"
    assert decoded.full_size == (1000, 500)


def test_load_image_transparent_cases_had_alpha(cases):
    for file in ("inputs/la_transparent.png", "inputs/rgba_transparent.png"):
        assert load_image(cases[file]["path"].read_bytes()).had_alpha, file


def test_open_upload_rejects_bomb_with_little_memory(cases):
    data = cases["inputs/bomb_30000x30000.png"]["path"].read_bytes()

    # tracemalloc traces Python and NumPy allocations, not Pillow's C buffers;
    # test_open_upload_rejects_case checks that no decoder started at all.
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLarge, match="30000"):
            open_upload(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4 * 2**20


def test_open_upload_skips_pillow_bomb_warning(cases):
    data = cases["inputs/huge_108mp.png"]["path"].read_bytes()
    limit_before = Image.MAX_IMAGE_PIXELS

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        upload = open_upload(data, Limits(max_pixels=120_000_000))

    assert upload.full_size == (12000, 9000)
    assert Image.MAX_IMAGE_PIXELS == limit_before


# ---------------------------------------------------------------- real files


@pytest.mark.parametrize("file", _or_skip(FORMAT_FILES, "real format files"))
def test_load_image_real_file_errors_typed(shared_dir, file):
    data = (shared_dir / "realdata" / "formats" / file).read_bytes()

    try:
        decoded = load_image(data)
    except ImageTooSmall:
        # Decode the tiny files anyway, so their colour modes are exercised too.
        try:
            decoded = load_image(data, Limits(min_side=1))
        except InputError:
            return
    except InputError:
        return

    width, height = decoded.full_size
    assert decoded.pixels.shape == (height, width, 3)
    assert decoded.pixels.dtype == np.uint8


@pytest.mark.parametrize(
    ("file", "error"),
    [
        ("heic_galaxy_s24_200mp_exif6.heic", ImageTooLarge),
        ("heic_corrupted.heic", CorruptImage),
        ("pillow_truncated_jpeg.jpg", CorruptImage),
        ("pillow_avif_exif.avif", UnsupportedFormat),
        ("pillow_avif_rot1mir0.avif", UnsupportedFormat),
    ],
)
def test_load_image_rejects_real_format_file(shared_dir, file, error):
    with pytest.raises(error):
        load_image((shared_dir / "realdata" / "formats" / file).read_bytes())


def test_load_image_names_avif_as_unsupported(shared_dir):
    data = (shared_dir / "realdata" / "formats" / "pillow_avif_exif.avif").read_bytes()

    with pytest.raises(UnsupportedFormat) as raised:
        load_image(data)

    assert raised.value.value == "AVIF"


def test_load_image_rejects_bmp_signature(shared_dir):
    data = (shared_dir / "realdata" / "signatures" / "vzat_theboss_blue.bmp").read_bytes()

    with pytest.raises(UnsupportedFormat, match="BMP"):
        load_image(data)


def test_load_image_real_mpo_uses_primary_frame(shared_dir):
    data = (shared_dir / "realdata" / "formats" / "pillow_sugarshack.mpo").read_bytes()
    primary = Image.open(io.BytesIO(data))
    primary.seek(0)
    expected = np.asarray(primary.convert("RGB"))

    decoded = load_image(data)

    assert decoded.format == "JPEG"
    assert np.array_equal(decoded.pixels, expected)


def test_load_image_real_exif_orientations_agree(shared_dir):
    folder = shared_dir / "realdata" / "formats"
    pictures = {
        orientation: _grey(
            load_image((folder / f"pillow_hopper_orientation_{orientation}.jpg").read_bytes()).pixels
        )
        for orientation in range(2, 9)
    }

    # Measured: at most 3.9 between the JPEG copies; a wrong mirror differs by 55.
    for orientation, picture in pictures.items():
        assert np.abs(picture - pictures[2]).mean() < 8, orientation


def test_load_image_heic_uses_primary_image(shared_dir):
    import pillow_heif

    data = (shared_dir / "realdata" / "formats" / "heic_3img_mixed_modes.heic").read_bytes()
    container = pillow_heif.open_heif(data)
    primary = np.asarray(container[container.primary_index].to_pillow().convert("L"))
    first = np.asarray(container[0].to_pillow().convert("L"))

    decoded = load_image(data, Limits(min_side=1), gray=True).pixels

    assert container.primary_index != 0
    assert np.array_equal(decoded, primary)
    assert not np.array_equal(decoded, first)


def test_load_image_scales_12_bit_heif(shared_dir):
    import pillow_heif

    data = (shared_dir / "realdata" / "formats" / "heif_gray_12bit.heif").read_bytes()
    # pillow-heif returns the 12-bit samples shifted into 16 bits.
    twelve_bit = np.asarray(pillow_heif.open_heif(data, convert_hdr_to_8bit=False)).astype(int) >> 4
    expected = np.round(twelve_bit * 255 / 4095)

    decoded = load_image(data, Limits(min_side=1), gray=True).pixels

    assert np.abs(decoded - expected).max() <= 1


def test_load_image_iphone_heic_rotated_once(shared_dir):
    data = (shared_dir / "realdata" / "formats" / "heic_iphone8plus_exif6.heic").read_bytes()

    upload = open_upload(data)

    # The raster is stored landscape with irot and EXIF 6; displayed, the photo is portrait.
    assert upload.full_size == (3024, 4032)
    assert upload.orientation == 1


def test_load_image_png_text_exif_orientation_ignored(shared_dir):
    data = (shared_dir / "realdata" / "formats" / "pillow_exif_imagemagick_orientation.png").read_bytes()
    stored = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    decoded = load_image(data)

    # The orientation sits in ImageMagick's "Raw profile type exif" text chunk,
    # which Chromium and Firefox do not apply; only a PNG eXIf chunk counts.
    assert decoded.orientation == 1
    assert np.array_equal(decoded.pixels, stored)


def test_load_image_png_xmp_orientation_ignored(shared_dir):
    data = (shared_dir / "realdata" / "formats" / "pillow_xmp_tags_orientation.png").read_bytes()

    assert load_image(data).orientation == 1


# ---------------------------------------------------------------- generated: orientation


@settings(max_examples=40, deadline=None)
@given(
    orientation=st.integers(1, 8),
    height=st.integers(32, 70),
    width=st.integers(32, 70),
    seed=st.integers(0, 2**32 - 1),
)
def test_load_image_png_exif_orientation_round_trip(orientation, height, width, seed):
    stored = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    data = _encode(stored, "PNG", orientation=orientation)

    decoded = load_image(data)

    assert decoded.orientation == orientation
    assert np.array_equal(decoded.pixels, DISPLAYED[orientation](stored))


@settings(max_examples=40, deadline=None)
@given(
    orientation=st.integers(1, 8),
    block_rows=st.integers(2, 5),
    block_columns=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_load_image_jpeg_exif_orientation_round_trip(orientation, block_rows, block_columns, seed):
    stored = _block_image(np.random.default_rng(seed), block_rows, block_columns)
    data = _encode(stored, "JPEG", orientation=orientation, quality=95, subsampling=0)

    decoded = load_image(data)
    difference = np.abs(decoded.pixels.astype(int) - DISPLAYED[orientation](stored))

    assert decoded.orientation == orientation
    assert difference.max() <= 4


@settings(max_examples=40, deadline=None)
@given(
    orientation=st.integers(1, 8),
    reduction=st.sampled_from([2, 4, 8]),
    gray=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_decode_reduced_jpeg_applies_orientation(orientation, reduction, gray, seed):
    stored = _block_image(np.random.default_rng(seed), 4, 6)  # 64 x 96 pixels
    data = _encode(stored, "JPEG", orientation=orientation, quality=95, subsampling=0)
    expected = DISPLAYED[orientation](stored)[::reduction, ::reduction]
    if gray:
        expected = _grey(np.ascontiguousarray(expected))

    decoded = open_upload(data, Limits(min_side=8)).decode(max_side=96 // reduction, gray=gray)
    difference = np.abs(decoded.pixels.astype(int) - expected)

    assert decoded.pixels.shape == expected.shape
    assert decoded.scale == pytest.approx(1 / reduction)
    assert difference.max() <= 4


def test_open_upload_png_exif_after_image_data_ignored():
    stored = np.zeros((40, 60, 3), dtype=np.uint8)
    chunks = _png_chunks(_encode(stored, "PNG", orientation=6))
    exif = [chunk for chunk in chunks if chunk[0] == b"eXIf"]
    others = [chunk for chunk in chunks if chunk[0] not in (b"eXIf", b"IEND")]
    reordered = b"\x89PNG\r\n\x1a\n" + b"".join(
        _png_chunk(kind, payload) for kind, payload in [*others, *exif, (b"IEND", b"")]
    )

    upload = open_upload(reordered)

    assert len(exif) == 1
    assert upload.orientation == 1
    assert upload.full_size == (60, 40)


def test_open_upload_ignores_damaged_exif():
    data = bytearray(_encode(np.full((40, 40, 3), 200, np.uint8), "JPEG", orientation=6))
    position = data.index(b"Exif\x00\x00") + 6
    data[position : position + 4] = b"XXXX"  # break the TIFF byte-order mark

    assert open_upload(bytes(data)).orientation == 1


# ---------------------------------------------------------------- generated: reduced decode


@pytest.mark.parametrize("max_side", [500, 999, 1000, 1001, 1999, 2000, 2001, 3999, 4000])
def test_decode_reduced_long_side_within_twice_max_side(big_jpeg, max_side):
    decoded = open_upload(big_jpeg).decode(max_side=max_side, gray=True)
    long_side = max(decoded.pixels.shape)

    assert long_side >= max_side
    assert long_side < 2 * max_side


def test_decode_reduced_stops_at_one_eighth(big_jpeg):
    decoded = open_upload(big_jpeg).decode(max_side=100)

    assert decoded.pixels.shape == (375, 500, 3)
    assert decoded.scale == pytest.approx(1 / 8)


def test_decode_max_side_above_full_size_decodes_full(big_jpeg):
    decoded = open_upload(big_jpeg).decode(max_side=6000, gray=True)

    assert decoded.pixels.shape == (3000, 4000)
    assert decoded.scale == 1.0


def test_decode_max_side_ignored_for_png():
    data = _encode(np.full((300, 400, 3), 90, np.uint8), "PNG")

    decoded = open_upload(data).decode(max_side=50)

    assert decoded.pixels.shape == (300, 400, 3)
    assert decoded.scale == 1.0


def test_decode_rejects_non_positive_max_side():
    upload = open_upload(_encode(np.zeros((40, 40, 3), np.uint8), "PNG"))

    with pytest.raises(InvalidParameter, match="max_side"):
        upload.decode(max_side=0)


# ---------------------------------------------------------------- generated: colour


def _photo_like(seed: int, height: int = 240, width: int = 320) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width]
    bands = [128 + 100 * np.sin(columns / 40 + phase) * np.cos(rows / 50) for phase in range(3)]
    noisy = np.stack(bands, axis=-1) + rng.normal(0, 10, size=(height, width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_decode_jpeg_grey_matches_rgb_luminance():
    data = _encode(_photo_like(1), "JPEG", quality=90)
    upload = open_upload(data)

    grey = upload.decode(gray=True).pixels.astype(int)
    colour = upload.decode().pixels
    difference = np.abs(grey - _grey(colour))

    assert difference.mean() < 0.5
    assert difference.max() <= 3


def test_decode_grey_png_matches_pillow_bt601():
    pixels = _photo_like(2)
    expected = np.asarray(Image.fromarray(pixels).convert("L"))

    decoded = load_image(_encode(pixels, "PNG"), gray=True)

    assert np.array_equal(decoded.pixels, expected)


def test_load_image_scales_16_bit_grey_without_clipping():
    levels = np.arange(256, dtype=np.uint32)
    # Offsets below and above half a level check rounding: 100 rounds down, 150 rounds up.
    sixteen = np.stack([levels * 257, np.minimum(levels * 257 + 100, 65535), levels * 257], axis=0)
    sixteen[2, :255] += 150
    image = Image.fromarray(np.repeat(sixteen, 12, axis=0).astype(np.uint16))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")

    decoded = load_image(buffer.getvalue(), gray=True).pixels

    assert np.array_equal(decoded[0], levels)
    assert np.array_equal(decoded[12], levels)
    assert np.array_equal(decoded[24, :255], levels[:255] + 1)


def test_load_image_la_transparent_black_keeps_ink():
    alpha = np.zeros((60, 80), np.uint8)
    alpha[20:40, 10:70] = 255  # a stroke drawn only in the alpha band
    luminance = np.zeros_like(alpha)
    data = _encode(np.dstack([luminance, alpha]), "PNG")

    decoded = load_image(data, gray=True)

    assert decoded.had_alpha
    assert (decoded.pixels[alpha == 0] == 255).all()
    assert (decoded.pixels[alpha == 255] == 0).all()


def test_load_image_rgba_composites_over_white():
    pixels = np.zeros((40, 40, 4), np.uint8)
    pixels[..., 3] = 0
    pixels[10:20, 10:20] = (0, 0, 200, 255)
    pixels[25:30, 25:30] = (0, 0, 0, 128)

    decoded = load_image(_encode(pixels, "PNG")).pixels

    assert (decoded[0, 0] == 255).all()
    assert tuple(decoded[15, 15]) == (0, 0, 200)
    assert (np.abs(decoded[27, 27].astype(int) - 127) <= 1).all()


def test_load_image_palette_trns_composites_over_white():
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 20, 30, 160] + [0] * 762)
    image.paste(1, (5, 5, 35, 15))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)

    decoded = load_image(buffer.getvalue())

    assert decoded.had_alpha
    assert tuple(decoded.pixels[30, 30]) == (255, 255, 255)
    assert tuple(decoded.pixels[10, 10]) == (20, 30, 160)


def test_load_image_cmyk_jpeg_not_inverted():
    cmyk = np.zeros((48, 64, 4), np.uint8)  # no ink: white paper
    cmyk[16:32, 8:56, 3] = 255  # black (K) stroke
    buffer = io.BytesIO()
    Image.fromarray(cmyk, "CMYK").save(buffer, "JPEG", quality=95)

    decoded = load_image(buffer.getvalue(), gray=True).pixels

    assert decoded[4, 4] > 240
    assert decoded[24, 32] < 15


def test_load_image_converts_icc_profile_to_srgb(cases):
    p3_profile = _display_p3_profile(cases)
    stored = np.zeros((40, 40, 3), np.uint8)
    stored[:] = (200, 80, 60)
    data = _encode(stored, "PNG", icc_profile=p3_profile)
    transform = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(io.BytesIO(p3_profile)), ImageCms.createProfile("sRGB"), "RGB", "RGB"
    )
    expected = np.asarray(ImageCms.applyTransform(Image.fromarray(stored), transform))

    decoded = load_image(data).pixels

    assert np.abs(decoded.astype(int) - expected).max() <= 1
    assert np.abs(decoded.astype(int) - stored).max() >= 5


def test_decode_jpeg_grey_with_icc_uses_converted_colours(cases):
    p3_profile = _display_p3_profile(cases)
    data = _encode(_photo_like(3), "JPEG", quality=90, icc_profile=p3_profile)
    upload = open_upload(data)

    colour = upload.decode().pixels
    grey = upload.decode(gray=True).pixels

    assert np.array_equal(grey, _grey(colour))


# ---------------------------------------------------------------- generated: checks


def test_open_upload_rejects_generated_bomb_from_header(decode_spy):
    with pytest.raises(ImageTooLarge, match="30000"):
        open_upload(_png_header_only(30000, 30000))

    assert decode_spy == []


def test_open_upload_rejects_empty_memoryview():
    with pytest.raises(EmptyFile):
        open_upload(memoryview(b""))


def test_open_upload_checks_file_size_before_format():
    data = _encode(np.zeros((40, 40, 3), np.uint8), "GIF")

    with pytest.raises(FileTooLarge):
        open_upload(data, Limits(max_file_bytes=len(data) - 1))


def test_open_upload_accepts_file_at_size_limit():
    data = _encode(np.zeros((40, 40, 3), np.uint8), "PNG")

    assert open_upload(data, Limits(max_file_bytes=len(data))).nbytes == len(data)


def test_open_upload_checks_pixels_before_min_side():
    data = _encode(np.zeros((20, 40, 3), np.uint8), "PNG")

    with pytest.raises(ImageTooLarge):
        open_upload(data, Limits(max_pixels=500))


def test_open_upload_checks_min_side_before_animation():
    frames = [Image.new("RGB", (40, 20), colour) for colour in ("white", "black")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])

    with pytest.raises(ImageTooSmall):
        open_upload(buffer.getvalue())


def test_open_upload_rejects_generated_apng():
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("white", "black", "grey")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])

    with pytest.raises(AnimatedNotSupported, match="3"):
        open_upload(buffer.getvalue())


def test_open_upload_accepts_single_frame_apng():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, "PNG", save_all=True, append_images=[])

    assert open_upload(buffer.getvalue()).format == "PNG"


@pytest.mark.parametrize("format_name", ["PNG", "JPEG"])
def test_decode_truncated_file_is_corrupt(format_name):
    pixels = _photo_like(4)
    data = _encode(pixels, format_name)
    truncated = data[: len(data) * 6 // 10]

    with pytest.raises(CorruptImage) as raised:
        load_image(truncated)

    assert raised.value.__cause__ is not None


def test_decode_never_enables_truncated_loading():
    load_image(_encode(_photo_like(5), "JPEG"))

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize(
    ("format_name", "expected_name"),
    [("GIF", "GIF"), ("WEBP", "WebP"), ("BMP", "BMP"), ("TIFF", "TIFF")],
)
def test_open_upload_names_rejected_format(format_name, expected_name):
    data = _encode(np.zeros((40, 40, 3), np.uint8), format_name)

    with pytest.raises(UnsupportedFormat) as raised:
        open_upload(data)

    assert raised.value.value == expected_name


def test_open_upload_rejects_text_as_unrecognized():
    with pytest.raises(UnrecognizedFile) as raised:
        open_upload(b"This is not an image, just text with a .jpg name.\n")

    assert raised.value.code == "unsupported_format"
    assert raised.value.message("fr") != raised.value.message("en")


def test_open_upload_corrupt_header_is_typed():
    data = _png_header_only(64, 64)
    damaged = data[:16] + b"\x00" * 4 + data[20:]  # IHDR CRC no longer matches

    with pytest.raises(CorruptImage):
        open_upload(damaged)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "AVIF"),
        (b"\x00\x00\x00\x14ftypavif\x00\x00\x00\x00", "AVIF"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "QuickTime"),
        (b"%PDF-1.7\n", "PDF"),
        (b"", None),
    ],
)
def test_sniff_format_names_content(head, expected):
    assert sniff_format(head) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    format_name=st.sampled_from(["PNG", "JPEG"]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=6),
)
def test_load_image_damaged_bytes_decode_or_raise_typed(format_name, cut, flips):
    data = bytearray(_encode(_photo_like(6, 48, 64), format_name))
    for position, value in flips:
        data[int(position * (len(data) - 1))] = value
    data = data[: max(1, int(len(data) * cut))] if cut < 0.98 else data

    try:
        decoded = load_image(bytes(data), Limits(min_side=1))
    except InputError:
        return
    assert decoded.pixels.dtype == np.uint8


# ---------------------------------------------------------------- Upload API


def test_decode_region_matches_full_decode():
    stored = np.random.default_rng(7).integers(0, 256, size=(50, 70, 3), dtype=np.uint8)
    upload = open_upload(_encode(stored, "PNG", orientation=6))
    full = upload.decode().pixels

    region = upload.decode_region((10, 5, 20, 30))

    assert np.array_equal(region, full[5:35, 10:30])


def test_decode_region_clamps_box():
    upload = open_upload(_encode(np.zeros((50, 70, 3), np.uint8), "PNG"))

    region = upload.decode_region((-10, 40, 30, 30), gray=True)

    assert region.shape == (10, 20)


def test_decode_region_rejects_negative_size():
    upload = open_upload(_encode(np.zeros((50, 70, 3), np.uint8), "PNG"))

    with pytest.raises(InvalidParameter):
        upload.decode_region((0, 0, -1, 10))


def test_decode_grey_after_colour_equals_direct_grey():
    data = _encode(_photo_like(11), "PNG", orientation=3)
    upload = open_upload(data)
    upload.decode()

    assert np.array_equal(upload.decode(gray=True).pixels, load_image(data, gray=True).pixels)


def test_decode_caches_full_resolution_pixels():
    upload = open_upload(_encode(_photo_like(8), "JPEG"))

    assert upload.decode().pixels is upload.decode().pixels


def test_decode_pixels_are_read_only():
    pixels = load_image(_encode(_photo_like(9), "PNG")).pixels

    with pytest.raises(ValueError, match="read-only"):
        pixels[0, 0] = 0


def test_decoded_image_carries_no_metadata():
    data = _encode(_photo_like(10), "JPEG", orientation=1, comment=b"secret")
    decoded = load_image(data)
    names = {field.name for field in dataclasses.fields(decoded)}

    assert names == {"pixels", "format", "orientation", "full_size", "scale", "had_alpha"}
    assert type(decoded.pixels) is np.ndarray


def test_upload_reports_sizes():
    stored = np.zeros((40, 60, 3), np.uint8)
    data = _encode(stored, "JPEG", orientation=8)

    upload = open_upload(data)

    assert isinstance(upload, Upload)
    assert upload.stored_size == (60, 40)
    assert upload.full_size == (40, 60)
    assert upload.nbytes == len(data)


@pytest.mark.parametrize("field", ["max_file_bytes", "max_pixels", "min_side"])
def test_limits_reject_non_positive(field):
    with pytest.raises(InvalidParameter, match=field):
        Limits(**{field: 0})


# ---------------------------------------------------------------- read_upload_file


def test_read_upload_file_returns_bytes(tmp_path):
    path = tmp_path / "signature.png"
    path.write_bytes(b"abc")

    assert read_upload_file(path) == b"abc"


def test_read_upload_file_rejects_empty(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")

    with pytest.raises(EmptyFile):
        read_upload_file(path)


def test_read_upload_file_reports_large_size(tmp_path):
    path = tmp_path / "large.jpg"
    path.write_bytes(b"\xff" * 101)

    with pytest.raises(FileTooLarge) as raised:
        read_upload_file(path, Limits(max_file_bytes=100))

    assert raised.value.value == 101


def test_read_upload_file_accepts_file_at_limit(tmp_path):
    path = tmp_path / "limit.jpg"
    path.write_bytes(b"\xff" * 100)

    assert len(read_upload_file(path, Limits(max_file_bytes=100))) == 100


# ---------------------------------------------------------------- pillow-heif loading


def test_heif_image_class_registered_once():
    first = heif_image_class()

    assert heif_image_class() is first
    assert "HEIF" in Image.OPEN


def test_engine_decode_import_does_not_load_pillow_heif():
    code = "import sys, engine.decode; print('pillow_heif' in sys.modules)"

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "False"


def test_load_image_reduced_heif_decodes_full(cases):
    decoded = open_upload(cases["inputs/heic_upright.heic"]["path"].read_bytes()).decode(max_side=100)

    assert decoded.pixels.shape == (500, 1000, 3)
    assert math.isclose(decoded.scale, 1.0)
