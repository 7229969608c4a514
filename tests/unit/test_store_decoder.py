"""Decoder: formats, EXIF orientation, colour modes, draft mode, typed errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from store_fakes import write_big_blank_png, write_png_header_only

from store import errors
from store.ingestion.decoder import decode_bytes


def _encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kwargs)
    return out.getvalue()


def test_exif_orientation_is_applied_and_full_size_reported():
    img = Image.new("RGB", (120, 60), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 60, 60))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    decoded = decode_bytes(_encode(img, "JPEG", exif=exif, quality=95), target_size=16)
    assert (decoded.width, decoded.height) == (60, 120)
    assert decoded.image.height > decoded.image.width
    top = np.asarray(decoded.image)[2, decoded.image.width // 2]
    assert top[2] > 200 and top[0] < 80  # the blue half is on top after rotation


def test_jpeg_draft_mode_decodes_near_target_size():
    img = Image.new("RGB", (1600, 1200), (10, 200, 30))
    decoded = decode_bytes(_encode(img, "JPEG"), target_size=224)
    assert (decoded.width, decoded.height) == (1600, 1200)
    assert 224 <= min(decoded.image.size) < 600  # 1/4 scale, not full size
    assert decoded.scale == pytest.approx(decoded.image.width / 1600)


def test_large_images_are_reduced_to_max_side():
    img = Image.new("RGB", (3000, 100), (1, 2, 3))
    decoded = decode_bytes(_encode(img, "PNG"), max_side=512)
    assert max(decoded.image.size) == 512 and decoded.width == 3000


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("CMYK", "TIFF"),
        ("CMYK", "JPEG"),
        ("L", "PNG"),
        ("LA", "PNG"),
        ("RGBA", "PNG"),
        ("P", "GIF"),
        ("1", "BMP"),
    ],
)
def test_colour_modes_become_rgb(mode, fmt):
    img = Image.new(mode, (20, 10))
    decoded = decode_bytes(_encode(img, fmt))
    assert decoded.image.mode == "RGB" and decoded.image.size == (20, 10)


def test_transparency_is_flattened_on_white():
    img = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert decode_bytes(_encode(img, "PNG")).image.getpixel((0, 0)) == (255, 255, 255)


def test_16_bit_greyscale_keeps_its_range():
    ramp = np.linspace(0, 65535, 64 * 4).astype(np.uint16).reshape(4, 64)
    decoded = decode_bytes(_encode(Image.fromarray(ramp), "TIFF"))
    grey = np.asarray(decoded.image)[..., 0]
    assert grey.min() == 0 and grey.max() == 255  # scaled, not clipped to white
    assert np.all(np.diff(grey[0].astype(int)) >= 0)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_uses_first_frame(fmt):
    frames = [Image.new("RGB", (16, 16), c) for c in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)
    decoded = decode_bytes(out.getvalue())
    assert decoded.frames == 3
    r, g, b = decoded.image.getpixel((8, 8))
    assert r > 200 and g < 30 and b < 30


def test_multipage_tiff_uses_first_page():
    pages = [Image.new("RGB", (10, 10), c) for c in ((0, 0, 255), (255, 0, 0))]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    decoded = decode_bytes(out.getvalue())
    assert decoded.frames == 2 and decoded.image.getpixel((5, 5)) == (0, 0, 255)


def test_crop_maps_full_size_boxes_to_the_decoded_image():
    img = Image.new("RGB", (2000, 1000), (0, 0, 0))
    img.paste((255, 255, 255), (1000, 0, 2000, 1000))
    decoded = decode_bytes(_encode(img, "PNG"), max_side=500)
    right = decoded.crop((1000, 0, 1000, 1000))
    assert right.size == (250, 250)
    assert np.asarray(right).min() > 200


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_errors_are_typed(tmp_path):
    with pytest.raises(errors.EmptyFileError):
        decode_bytes(b"")
    with pytest.raises(errors.NotAnImageError):
        decode_bytes(b"hello, not an image")
    jpeg = _encode(Image.effect_noise((300, 300), 50).convert("RGB"), "JPEG")
    with pytest.raises(errors.TruncatedImageError):
        decode_bytes(jpeg[: len(jpeg) // 2])
    write_png_header_only(tmp_path / "bomb.png", 200_000, 200_000)
    with pytest.raises(errors.DecompressionBombError, match="40000000000 pixels"):
        decode_bytes((tmp_path / "bomb.png").read_bytes())
    write_big_blank_png(tmp_path / "big.png", 12_000, 12_000)
    with pytest.raises(errors.ImageTooLargeError, match="144000000 pixels"):
        decode_bytes((tmp_path / "big.png").read_bytes())
    assert all(
        issubclass(e, errors.ImageDecodeError) for e in (errors.EmptyFileError, errors.TruncatedImageError)
    )


def test_large_jpeg_is_decoded_in_draft_mode_under_a_lower_limit():
    img = Image.new("RGB", (2000, 2000), (5, 5, 5))
    data = _encode(img, "JPEG")
    with pytest.raises(errors.ImageTooLargeError):
        decode_bytes(data, target_size=2000, max_pixels=1_000_000)
    decoded = decode_bytes(data, target_size=224, max_pixels=1_000_000)  # 1/8 scale: 250x250
    assert (decoded.width, decoded.height) == (2000, 2000)


def test_decode_path_streams_from_disk_and_matches_decode_bytes(tmp_path):
    from store.ingestion.decoder import decode_path

    img = Image.effect_noise((300, 200), 40).convert("RGB")
    path = tmp_path / "scan.tif"
    img.save(path)
    streamed = decode_path(path, target_size=64)
    in_memory = decode_bytes(path.read_bytes(), target_size=64)
    assert (streamed.width, streamed.height, streamed.format) == (300, 200, "TIFF")
    assert np.array_equal(np.asarray(streamed.image), np.asarray(in_memory.image))
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(errors.EmptyFileError):
        decode_path(tmp_path / "empty.tif")
    (tmp_path / "text.tif").write_text("nope")
    with pytest.raises(errors.NotAnImageError):
        decode_path(tmp_path / "text.tif")


def test_crop_maps_full_size_boxes_onto_the_reduced_image():
    full = Image.new("RGB", (1000, 500), (0, 0, 0))
    full.paste((255, 0, 0), (400, 200, 600, 300))  # a red rectangle, in full-size pixels
    decoded = decode_bytes(_encode(full, "PNG"), max_side=100)  # kept at a tenth of its size
    assert (decoded.width, decoded.height) == (1000, 500) and decoded.scale == pytest.approx(0.1)
    part = decoded.crop((400, 200, 200, 100))
    assert part.size == (20, 10)
    pixels = np.asarray(part, dtype=float)  # red, but for the reduction's softened edges
    assert pixels[..., 0].min() > 200 and pixels[..., 1:].max() == 0
    # A box smaller than one reduced pixel still gives one pixel, never an empty image.
    assert decoded.crop((4, 4, 1, 1)).size == (1, 1)
    assert decoded.crop((995, 495, 5, 5)).size == (1, 1)
