"""Preprocessing behaviours that mutation testing (tools/mutation) found unchecked: manifest fields and
their bounds, every colour mode's conversion, crops that pad one side only, resampling, draft sizes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from models import preprocess as pp
from models.errors import BundleError, ImageDecodeError
from models.preprocess import PreprocessSpec, load_image, preprocess, preprocess_one, resized_pixels, to_rgb


def _row(image: Image.Image) -> list[int]:
    """The red channel of the first row of `to_rgb(image)`."""
    return list(np.asarray(to_rgb(image))[0, :, 0])


# --- manifest section ------------------------------------------------------------------------------------


def test_manifest_fields_are_all_read():
    section = {
        "size": 48,
        "crop_size": [32, 40],
        "resample": "nearest",
        "do_center_crop": False,
        "rescale_factor": 0.5,
        "mean": [0.1, 0.2, 0.3],
        "std": [0.4, 0.5, 0.6],
    }
    spec = PreprocessSpec.from_manifest(section)
    assert spec == PreprocessSpec(48, 32, 40, "nearest", False, 0.5, (0.1, 0.2, 0.3), (0.4, 0.5, 0.6))
    assert spec.to_manifest() == section


def test_manifest_defaults():
    spec = PreprocessSpec.from_manifest({"size": 64})
    assert spec.rescale_factor == 1 / 255 and spec.do_center_crop is True
    assert (spec.crop_height, spec.crop_width) == (64, 64)
    assert PreprocessSpec.from_manifest({"size": 64, "do_center_crop": True}).do_center_crop is True


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"size": 0}, "preprocessing.size must be a positive integer, not 0"),
        (
            {"size": 8, "crop_size": [0, 8]},
            "preprocessing.crop_size must be an int or [height, width], not [0, 8]",
        ),
        (
            {"size": 8, "crop_size": ["8", 8]},
            "preprocessing.crop_size must be an int or [height, width], not ['8', 8]",
        ),
        (
            {"size": 8, "crop_size": 0},
            "preprocessing.crop_size must be an int or [height, width], not [0, 0]",
        ),
    ],
)
def test_manifest_sizes_must_be_positive_integers(section, message):
    with pytest.raises(BundleError) as info:
        PreprocessSpec.from_manifest(section)
    assert str(info.value) == f"manifest: {message}"


def test_one_pixel_sizes_are_allowed():
    spec = PreprocessSpec.from_manifest({"size": 1, "crop_size": [1, 1]})
    assert preprocess_one(Image.new("RGB", (5, 3)), spec).shape == (3, 1, 1)


def test_resample_error_lists_the_choices():
    with pytest.raises(BundleError) as info:
        PreprocessSpec.from_manifest({"size": 8, "resample": "box"}, where="m.json")
    assert (
        str(info.value)
        == "m.json: preprocessing.resample 'box' is not one of bicubic, bilinear, nearest, lanczos"
    )


# --- to_rgb: every mode a file can decode to ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "dtype"), [("I;16", "<u2"), ("I;16L", "<u2"), ("I;16B", ">u2"), ("I;16N", "=u2")]
)
def test_16_bit_modes_keep_their_full_range(mode, dtype):
    """A dark 16-bit scan stays dark: the 0..65535 range maps to 0..255 whatever the image's maximum."""
    values = np.array([0, 256, 1000, 65535], dtype=dtype)
    image = Image.frombytes(mode, (4, 1), values.tobytes())
    assert _row(image) == [0, 1, 3, 255]
    dark = Image.frombytes(mode, (3, 1), np.array([0, 256, 1000], dtype=dtype).tobytes())
    assert _row(dark) == [0, 1, 3]


def test_32_bit_integers_scale_by_their_maximum_and_clip_negatives():
    assert _row(Image.fromarray(np.array([[-5, 0, 100, 200]], dtype=np.int32))) == [0, 0, 100, 200]
    assert _row(Image.fromarray(np.array([[0, 512, 1023]], dtype=np.int32))) == [0, 128, 255]


def test_float_images_scale_to_their_maximum():
    assert _row(Image.fromarray(np.array([[0.0, 1.0, 3.0, 4.0]], dtype=np.float32))) == [0, 64, 191, 255]
    assert _row(Image.fromarray(np.array([[0.0, 0.75, 1.5]], dtype=np.float32))) == [0, 128, 255]
    # values within 0..1 are fractions of white, not scaled up to the maximum
    assert _row(Image.fromarray(np.array([[-1.0, 0.0, 0.6, 0.5]], dtype=np.float32))) == [0, 0, 153, 128]


def test_palette_without_transparency_keeps_its_colours():
    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    palette.putpixel((1, 0), 1)
    assert [to_rgb(palette).getpixel((x, 0)) for x in range(2)] == [(0, 0, 0), (200, 10, 10)]


def test_alpha_modes_are_composited_on_white():
    assert to_rgb(Image.new("PA", (1, 1), (3, 0))).getpixel((0, 0)) == (255, 255, 255)
    assert to_rgb(Image.new("RGBa", (1, 1), (0, 0, 0, 0))).getpixel((0, 0)) == (255, 255, 255)
    assert to_rgb(Image.new("RGBa", (1, 1), (100, 50, 0, 255))).getpixel((0, 0)) == (100, 50, 0)


# --- resize and crop ---------------------------------------------------------------------------------------


def test_crop_pads_the_short_side_and_crops_the_long_one():
    """Shortest side 16 but a 32x32 crop: transformers pads rows with zeros and crops the columns."""
    image = Image.fromarray(np.arange(16 * 40, dtype=np.uint8).reshape(16, 40)).convert("RGB")
    pixels = resized_pixels(image, PreprocessSpec(size=16, crop_height=32, crop_width=32))
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels[8:24], np.asarray(image)[:, 4:36])
    assert pixels[:8].max() == 0 and pixels[24:].max() == 0
    tall = resized_pixels(image.transpose(Image.Transpose.TRANSPOSE), PreprocessSpec(16, 32, 32))
    np.testing.assert_array_equal(tall, pixels.transpose(1, 0, 2))


def test_crop_larger_than_the_image_on_both_sides_pads_around_it():
    spec = PreprocessSpec(size=16, crop_height=40, crop_width=40)
    pixels = resized_pixels(Image.new("RGB", (16, 16), (255, 255, 255)), spec)
    assert pixels.shape == (40, 40, 3) and pixels.dtype == np.uint8  # uint8 graphs take it as it is
    assert pixels[12:28, 12:28].min() == 255
    assert pixels[:12].max() == 0 and pixels[28:].max() == 0 and pixels[:, :12].max() == 0


def test_no_center_crop_keeps_the_resized_image():
    spec = PreprocessSpec(size=16, crop_height=16, crop_width=16, do_center_crop=False)
    assert resized_pixels(Image.new("RGB", (40, 20)), spec).shape == (16, 32, 3)


def test_nearest_resampling_repeats_pixels():
    blocks = np.random.default_rng(3).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    spec = PreprocessSpec(size=16, crop_height=16, crop_width=16, resample="nearest")
    pixels = resized_pixels(Image.fromarray(blocks), spec)
    np.testing.assert_array_equal(pixels, blocks.repeat(2, axis=0).repeat(2, axis=1))


def test_no_images_give_an_empty_batch_of_the_right_shape():
    pixels = preprocess([], PreprocessSpec(size=16, crop_height=24, crop_width=32))
    assert pixels.shape == (0, 3, 24, 32) and pixels.dtype == np.float32


def test_an_image_without_a_file_is_named_by_its_position(monkeypatch):
    good = Image.new("RGB", (4, 4))

    def to_rgb_failing_on_the_second(image):
        if image.size == (5, 5):
            raise ValueError("conversion not supported")
        return image

    monkeypatch.setattr(pp, "to_rgb", to_rgb_failing_on_the_second)
    with pytest.raises(ImageDecodeError) as info:
        preprocess([good, Image.new("RGB", (5, 5))], PreprocessSpec(size=4, **_crop(4)))
    assert str(info.value) == "cannot decode image #1: conversion not supported"


def _crop(side: int) -> dict:
    return {"crop_height": side, "crop_width": side}


# --- JPEG draft decoding keeps both sides at twice the input size -------------------------------------------


@pytest.mark.parametrize(("size", "drafted"), [((700, 1600), (175, 400)), ((1600, 700), (400, 175))])
def test_jpeg_draft_keeps_both_sides_at_least_twice_the_input(tmp_path, size, drafted):
    path = tmp_path / "scan.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 60, 30)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    assert load_image(path, draft_size=64).size == drafted


def test_premultiplied_grey_with_alpha_is_composited_like_its_straight_form():
    straight = Image.new("LA", (4, 4), (100, 128))
    assert to_rgb(straight.convert("La")).getpixel((0, 0)) == to_rgb(straight).getpixel((0, 0))
