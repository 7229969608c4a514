"""Image preprocessing driven by a bundle manifest: pure Pillow/numpy, same numbers as transformers.

`preprocess` reproduces transformers' (slow, PIL-based) `CLIPImageProcessor`: resize the shortest
side with bicubic resampling (longer side `int(size * long / short)`), center crop (top/left offsets
`(orig - crop) // 2`, zero padding when the image is smaller), rescale by 1/255 computed in float64
then cast to float32, normalise with float32 mean/std. GIT uses the same processor, so its captioner
reuses this module.

`to_rgb` turns any decoded image into 8-bit RGB: EXIF orientation applied, palette and greyscale
expanded, alpha composited on white (transparent museum cut-outs are shot on white, not black), CMYK
converted, 16-bit and 32-bit integer images scaled down to 8 bits instead of clipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from models.errors import BundleError, ImageDecodeError

logger = logging.getLogger(__name__)

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_RESAMPLE = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
    "lanczos": Image.Resampling.LANCZOS,
}


@dataclass(frozen=True)
class PreprocessSpec:
    """How a model wants its pixels: the `preprocessing` section of a bundle manifest."""

    size: int = 224  # shortest side after resizing
    crop_height: int = 224
    crop_width: int = 224
    resample: str = "bicubic"
    do_center_crop: bool = True
    rescale_factor: float = 1 / 255
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD

    @property
    def input_size(self) -> int:
        """The side of the square the model sees (used for JPEG draft decoding)."""
        return max(self.crop_height, self.crop_width) if self.do_center_crop else self.size

    @classmethod
    def from_manifest(cls, section: object, where: object = "manifest") -> PreprocessSpec:
        """Build from a manifest `preprocessing` object; raise BundleError naming a bad field.

        Fields: `size` (int), `crop_size` (int or [height, width]; default `size`), `resample`
        ("bicubic" default), `do_center_crop` (default true), `rescale_factor` (default 1/255),
        `mean`, `std` (3 floats each; default CLIP's).
        """
        if not isinstance(section, dict):
            raise BundleError(f"{where}: 'preprocessing' must be an object")
        size = section.get("size")
        if not isinstance(size, int) or size <= 0:
            raise BundleError(f"{where}: preprocessing.size must be a positive integer, not {size!r}")
        crop = section.get("crop_size", size)
        if isinstance(crop, int):
            crop = [crop, crop]
        if not (
            isinstance(crop, list) and len(crop) == 2 and all(isinstance(c, int) and c > 0 for c in crop)
        ):
            raise BundleError(
                f"{where}: preprocessing.crop_size must be an int or [height, width], not {crop!r}"
            )
        resample = section.get("resample", "bicubic")
        if resample not in _RESAMPLE:
            raise BundleError(
                f"{where}: preprocessing.resample {resample!r} is not one of {', '.join(_RESAMPLE)}"
            )
        values = {}
        for key, default in (("mean", CLIP_MEAN), ("std", CLIP_STD)):
            value = section.get(key, list(default))
            if not (
                isinstance(value, list) and len(value) == 3 and all(isinstance(v, int | float) for v in value)
            ):
                raise BundleError(f"{where}: preprocessing.{key} must be 3 numbers, not {value!r}")
            if key == "std" and any(v <= 0 for v in value):
                raise BundleError(f"{where}: preprocessing.std must be positive, not {value!r}")
            values[key] = tuple(float(v) for v in value)
        factor = section.get("rescale_factor", 1 / 255)
        if not isinstance(factor, int | float) or factor <= 0:
            raise BundleError(
                f"{where}: preprocessing.rescale_factor must be a positive number, not {factor!r}"
            )
        return cls(
            size=size,
            crop_height=crop[0],
            crop_width=crop[1],
            resample=resample,
            do_center_crop=bool(section.get("do_center_crop", True)),
            rescale_factor=float(factor),
            mean=values["mean"],
            std=values["std"],
        )

    def to_manifest(self) -> dict:
        return {
            "size": self.size,
            "crop_size": [self.crop_height, self.crop_width],
            "resample": self.resample,
            "do_center_crop": self.do_center_crop,
            "rescale_factor": self.rescale_factor,
            "mean": list(self.mean),
            "std": list(self.std),
        }


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """8-bit RGB version of `image`, upright per its EXIF orientation, alpha composited on `background`."""
    try:
        image = ImageOps.exif_transpose(image)
    except Exception as exc:  # broken EXIF blocks raise assorted errors; orientation is optional
        logger.debug("ignoring unreadable EXIF orientation: %s", exc)
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        image = _integer_to_l(image)
        mode = "L"
    elif mode == "F":
        array = np.asarray(image, dtype=np.float32)
        top = float(array.max()) if array.size else 1.0
        scale = 255.0 if top <= 1.0 else 255.0 / top
        image = Image.fromarray(np.clip(array * scale, 0, 255).round().astype(np.uint8))
        mode = "L"
    if mode == "La":  # premultiplied: Pillow converts it to LA, not straight to RGBA
        image, mode = image.convert("LA"), "LA"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("LA", "PA", "RGBa"):
        image = image.convert("RGBA")
    elif mode == "1":
        image = image.convert("L")
    if image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, background)
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB")


def _integer_to_l(image: Image.Image) -> Image.Image:
    """16-/32-bit greyscale to 8 bits by scaling the value range (Pillow's convert() would clip at 255)."""
    array = np.asarray(image)
    if image.mode.startswith("I;16"):
        array = array.astype(np.uint32) >> 8
    else:
        top = int(array.max()) if array.size else 0
        shift = max(0, top.bit_length() - 8)
        array = np.clip(array, 0, None).astype(np.int64) >> shift
    return Image.fromarray(array.astype(np.uint8))


def _resize_shortest(image: Image.Image, size: int, resample: str) -> Image.Image:
    width, height = image.size
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    if (new_w, new_h) == image.size:
        return image
    return image.resize((new_w, new_h), resample=_RESAMPLE[resample], reducing_gap=None)


def _center_crop(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Crop an HWC array like transformers.image_transforms.center_crop (zero-padding small images)."""
    orig_h, orig_w = array.shape[:2]
    top, left = (orig_h - height) // 2, (orig_w - width) // 2
    if top >= 0 and left >= 0:
        return array[top : top + height, left : left + width]
    new_h, new_w = max(height, orig_h), max(width, orig_w)
    padded = np.zeros((new_h, new_w, *array.shape[2:]), dtype=array.dtype)
    top_pad, left_pad = -(-(new_h - orig_h) // 2), -(-(new_w - orig_w) // 2)
    padded[top_pad : top_pad + orig_h, left_pad : left_pad + orig_w] = array
    top, left = top + top_pad, left + left_pad
    return padded[max(0, top) : min(new_h, top + height), max(0, left) : min(new_w, left + width)]


def resized_pixels(image: Image.Image, spec: PreprocessSpec) -> np.ndarray:
    """One image resized and cropped as `spec` says, before any rescaling: uint8 [H, W, 3]."""
    image = _resize_shortest(to_rgb(image), spec.size, spec.resample)
    array = np.asarray(image, dtype=np.uint8)
    return _center_crop(array, spec.crop_height, spec.crop_width) if spec.do_center_crop else array


def preprocess_one(image: Image.Image, spec: PreprocessSpec) -> np.ndarray:
    """One image -> float32 [3, H, W] pixel values (applies `to_rgb` first)."""
    array = resized_pixels(image, spec)
    pixels = (array.astype(np.float64) * spec.rescale_factor).astype(np.float32)
    pixels = (pixels - np.asarray(spec.mean, dtype=np.float32)) / np.asarray(spec.std, dtype=np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def preprocess(images: Sequence[Image.Image], spec: PreprocessSpec) -> np.ndarray:
    """Images -> float32 [n, 3, H, W], the model's `pixel_values`."""
    if not images:
        return np.zeros((0, 3, spec.crop_height, spec.crop_width), dtype=np.float32)
    arrays = []
    for index, image in enumerate(images):
        try:
            arrays.append(preprocess_one(image, spec))
        except (OSError, ValueError, SyntaxError) as exc:  # lazily decoded, truncated or corrupt image data
            name = getattr(image, "filename", "") or f"image #{index}"
            raise ImageDecodeError(f"cannot decode {name}: {exc}") from exc
    return np.stack(arrays)


def load_image(path: Path, draft_size: int | None = None) -> Image.Image:
    """Open and fully decode an image file as RGB; ImageDecodeError names the file when it is not one.

    `draft_size`: let the JPEG decoder downscale by a power of two while keeping both sides >= twice
    this size, which is much faster on large photos and keeps embeddings within tolerance (the
    bicubic resize that follows does the rest).
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            if draft_size and image.format == "JPEG":
                image.draft("RGB", (2 * draft_size, 2 * draft_size))
            image.load()
            return to_rgb(image)
    except FileNotFoundError:
        raise ImageDecodeError(f"image file not found: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image {path}: {exc}") from exc
