"""Preprocessing: parity with transformers' CLIPImageProcessor (stored reference) and RGB conversion."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.errors import BundleError, ImageDecodeError
from models.preprocess import PreprocessSpec, load_image, preprocess, preprocess_one, to_rgb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REFERENCE = FIXTURES / "models" / "clip-tiny-reference"
CALTECH = Path(__file__).resolve().parents[3] / "shared" / "data" / "caltech101" / "101_ObjectCategories"


def tiny_spec() -> PreprocessSpec:
    manifest = json.loads((FIXTURES / "models" / "clip-tiny" / "manifest.json").read_text())
    return PreprocessSpec.from_manifest(manifest["preprocessing"])


def test_pixels_match_transformers_clip_image_processor():
    meta = json.loads(REFERENCE.with_suffix(".json").read_text())
    expected = np.load(REFERENCE.with_suffix(".npz"))["pixel_values"]
    images = [Image.open(FIXTURES / "images" / name) for name in meta["images"]]
    assert {im.mode for im in images} == {"RGB", "L", "RGBA", "CMYK", "P"}
    pixels = preprocess(images, tiny_spec())
    assert pixels.dtype == np.float32 and pixels.shape == expected.shape == (5, 3, 32, 32)
    np.testing.assert_allclose(pixels, expected, atol=1e-6, rtol=0)


def test_spec_defaults_and_round_trip():
    spec = PreprocessSpec.from_manifest({"size": 224})
    assert (spec.crop_height, spec.crop_width, spec.resample, spec.input_size) == (224, 224, "bicubic", 224)
    assert PreprocessSpec.from_manifest(spec.to_manifest()) == spec


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ([], "'preprocessing' must be an object"),
        ({"size": "224"}, "preprocessing.size"),
        ({"size": 224, "crop_size": [224]}, "preprocessing.crop_size"),
        ({"size": 224, "resample": "magic"}, "preprocessing.resample"),
        ({"size": 224, "mean": [0.5, 0.5]}, "preprocessing.mean"),
        ({"size": 224, "std": [0.5, 0.0, 0.5]}, "preprocessing.std"),
        ({"size": 224, "rescale_factor": 0}, "preprocessing.rescale_factor"),
    ],
)
def test_spec_errors_name_the_field(section, field):
    with pytest.raises(BundleError, match=field):
        PreprocessSpec.from_manifest(section, where="m.json")


@pytest.mark.parametrize("size", [(100, 40), (40, 100), (33, 33), (7, 300), (20, 10)])
def test_output_shape_for_any_aspect_and_small_images(size):
    spec = PreprocessSpec(size=32, crop_height=32, crop_width=32)
    assert preprocess_one(Image.new("RGB", size, (10, 20, 30)), spec).shape == (3, 32, 32)


def test_smaller_crop_pads_like_transformers():
    # shortest side resized to 16 but a 32x32 crop: transformers pads with zeros (before rescale/normalise)
    spec = PreprocessSpec(size=16, crop_height=32, crop_width=32, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    pixels = preprocess_one(Image.new("RGB", (16, 16), (255, 255, 255)), spec)
    assert pixels[:, 8:24, 8:24].min() == pytest.approx(1.0)
    assert pixels[:, :8].max() == 0.0 and pixels[:, :, 24:].max() == 0.0


def test_rgba_is_composited_on_white():
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    image.putpixel((0, 0), (0, 0, 255, 255))
    rgb = to_rgb(image)
    assert rgb.mode == "RGB"
    assert rgb.getpixel((1, 1)) == (255, 255, 255) and rgb.getpixel((0, 0)) == (0, 0, 255)


def test_palette_with_transparency_and_la():
    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    palette.putpixel((1, 0), 1)
    palette.info["transparency"] = 0
    assert [to_rgb(palette).getpixel((x, 0)) for x in range(2)] == [(255, 255, 255), (200, 10, 10)]
    la = Image.new("LA", (1, 1), (0, 0))
    assert to_rgb(la).getpixel((0, 0)) == (255, 255, 255)


def test_cmyk_grey_binary_and_float():
    assert to_rgb(Image.new("CMYK", (1, 1), (0, 0, 0, 0))).getpixel((0, 0)) == (255, 255, 255)
    assert to_rgb(Image.new("L", (1, 1), 77)).getpixel((0, 0)) == (77, 77, 77)
    assert to_rgb(Image.new("1", (1, 1), 1)).getpixel((0, 0)) == (255, 255, 255)
    assert to_rgb(Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))).getpixel((2, 0)) == (
        255,
        255,
        255,
    )


def test_16_bit_is_scaled_not_clipped():
    array = np.array([[0, 32768, 65535]], dtype=np.uint16)
    image = Image.fromarray(array)
    assert image.mode == "I;16"
    values = [to_rgb(image).getpixel((x, 0))[0] for x in range(3)]
    assert values == [0, 128, 255]
    int32 = Image.fromarray(np.array([[0, 1000, 4000]], dtype=np.int32))
    assert [to_rgb(int32).getpixel((x, 0))[0] for x in range(3)] == [0, 62, 250]


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (200, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif.tobytes())
    assert Image.open(path).size == (40, 20)
    assert load_image(path).size == (20, 40)
    assert to_rgb(Image.open(path)).size == (20, 40)


def test_load_image_errors_name_the_file(tmp_path):
    with pytest.raises(ImageDecodeError, match=r"not found: .*missing\.jpg"):
        load_image(tmp_path / "missing.jpg")
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image")
    with pytest.raises(ImageDecodeError, match=r"cannot decode image .*notes\.jpg"):
        load_image(text)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, "JPEG")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(buffer.getvalue()[:200])
    with pytest.raises(ImageDecodeError, match=r"truncated\.jpg"):
        load_image(truncated)


def test_jpeg_draft_keeps_pixels_close(tmp_path):
    """Draft decoding (DCT downscaling, both sides kept >= 2x the input size) changes pixels only slightly."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    path = tmp_path / "large.jpg"
    Image.fromarray(base).resize((1600, 1200), Image.Resampling.BICUBIC).save(path, quality=92)
    spec = PreprocessSpec(size=64, crop_height=64, crop_width=64)
    draft_image = load_image(path, draft_size=spec.input_size)
    assert draft_image.size == (200, 150)  # 1/8 scale is the largest keeping >= 128 px
    full, drafted = preprocess_one(load_image(path), spec), preprocess_one(draft_image, spec)
    assert np.abs(full - drafted).mean() < 0.02


@pytest.mark.skipif(not CALTECH.is_dir(), reason="Caltech-101 photos not available")
def test_jpeg_draft_keeps_embeddings_on_real_photos():
    """Measured on 40 real photos with the tiny encoder: draft vs full decoding, cosine of the embeddings."""
    from models.bundle import load_bundle
    from models.clip import ClipImageEncoder

    encoder = ClipImageEncoder(load_bundle(FIXTURES / "models" / "clip-tiny"))
    photos = sorted(CALTECH.glob("*/image_0002.jpg"))[:40]
    full = encoder.encode([load_image(p) for p in photos])
    drafted = encoder.encode([load_image(p, draft_size=encoder.input_size) for p in photos])
    cosine = (full * drafted).sum(axis=1)
    assert cosine.mean() >= 0.999 and cosine.min() >= 0.99


def test_lazily_opened_truncated_image_is_a_decode_error(tmp_path):
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageDecodeError, match=r"cut\.jpg"):
        preprocess([Image.open(path)], tiny_spec())
