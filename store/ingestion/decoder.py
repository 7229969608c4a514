"""Decoding image files for the encoder and the thumbnail grid, with typed errors.

JPEGs are decoded in draft mode near the size the encoder needs (a 24-megapixel scan decodes at 1/8
scale); the image is EXIF-transposed, flattened to RGB (CMYK, 16-bit, palette, transparency), reduced
to at most `max_side` pixels, and only the first frame of animations and multi-page files is used.
Pillow's decompression-bomb limit stays in force; exceeding it, or our own pixel limit, is reported as
a specific error instead of a crash or a gigabyte allocation.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from models import preprocess
from store.errors import (
    CorruptImageError,
    DecompressionBombError,
    EmptyFileError,
    FileIndexError,
    ImageTooLargeError,
    NotAnImageError,
    TruncatedImageError,
    UnreadableFileError,
    UnsupportedImageError,
)
from store.ingestion.file_access import open_regular

logger = logging.getLogger(__name__)

# Images bigger than this (after JPEG draft reduction) are refused: decoding them would need
# gigabytes. Pillow's own limit (2 x MAX_IMAGE_PIXELS) applies before ours.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
# Files read whole into memory (queries, duplicates, re-captioning) may be at most this big.
MAX_READ_BYTES = 1024 * 1024 * 1024
# Fewer file bytes per pixel than this means a crafted "bomb" rather than a large photo.
BOMB_BYTES_PER_PIXEL = 1e-5

# We report oversized images ourselves; Pillow's warning would only add noise to the log.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# A corrupt EXIF block is ignored (no orientation, no date); Pillow's warning about it is noise too.
warnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)

try:  # HEIC/HEIF (phone photos) when the optional pillow-heif plugin is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:
    HEIF_SUPPORTED = False


@dataclass
class DecodedImage:
    """An RGB image ready for the encoder, with facts about the file it came from."""

    image: Image.Image  # RGB, EXIF-transposed, at most max_side on its long side
    width: int  # full size of the EXIF-transposed image
    height: int
    format: str
    frames: int
    taken_at: float | None = None  # EXIF date (see exif_taken_at)

    @property
    def scale(self) -> float:
        """Pixels of `image` per pixel of the full-size image."""
        return self.image.width / self.width if self.width else 1.0

    def crop(self, bbox: tuple[int, int, int, int]) -> Image.Image:
        """The region `bbox` (x, y, w, h in full-size pixels) cut from the decoded image."""
        s = self.scale
        x, y, w, h = bbox
        box = (
            int(x * s),
            int(y * s),
            max(int(x * s) + 1, round((x + w) * s)),
            max(int(y * s) + 1, round((y + h) * s)),
        )
        return self.image.crop(box)


def decode_file(path: Path | bytes, **kwargs) -> tuple[bytes, DecodedImage]:
    """Read a file once and decode it; returns its bytes (for hashing) and the decoded image.

    FileNotFoundError passes through (the file vanished since the scan); other problems raise a
    FileIndexError subclass."""
    shown = os.fsdecode(path)
    with open_regular(path, shown) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_READ_BYTES:
            limit = MAX_READ_BYTES
            raise ImageTooLargeError(f"file too large to read: {size} bytes (limit {limit}): {shown}")
        try:
            data = fh.read()
        except OSError as exc:
            raise UnreadableFileError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    return data, decode_bytes(data, name=shown, **kwargs)


def decode_path(path: Path | bytes, **kwargs) -> DecodedImage:
    """Decode straight from disk without holding the encoded file in memory (very large scans)."""
    shown = os.fsdecode(path)
    with open_regular(path, shown) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise EmptyFileError(f"empty file (0 bytes): {shown}")
        try:
            head = fh.read(16)
            fh.seek(0)
        except OSError as exc:
            raise UnreadableFileError(f"cannot read {shown}: {exc.strerror or exc}") from exc
        return _decode(fh, size, head, name=kwargs.pop("name", shown), **kwargs)


def decode_bytes(data: bytes, *, name: str = "<image>", **kwargs) -> DecodedImage:
    """Decode an encoded image held in memory (see `_decode` for the options)."""
    if not data:
        raise EmptyFileError(f"empty file (0 bytes): {name}")
    return _decode(io.BytesIO(data), len(data), data[:16], name=name, **kwargs)


def _decode(fp, nbytes: int, head: bytes, *, name: str, **kwargs) -> DecodedImage:
    """Decode, turning every failure into a FileIndexError: Pillow's plugins raise far more than
    OSError on malformed files (SyntaxError, IndexError, TypeError, struct.error, RuntimeError... from
    EXIF, eXIf and ICC chunks, frame counts), and one bad file must never stop a run or a query."""
    try:
        return _decode_unchecked(fp, nbytes, head, name=name, **kwargs)
    except FileIndexError:
        raise
    except MemoryError as exc:  # kind "error": retried on the next run, when memory may be free
        raise FileIndexError(f"not enough memory to decode {name}") from exc
    except Exception as exc:
        logger.debug("decoder failure on %s", name, exc_info=True)
        raise CorruptImageError(f"cannot decode {name}: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _decode_unchecked(
    fp,
    nbytes: int,
    head: bytes,
    *,
    name: str,
    target_size: int = 224,
    max_side: int = 1024,
    max_pixels: int = MAX_PIXELS,
) -> DecodedImage:
    """`target_size` is the smallest side the caller needs (JPEG draft mode); the result is at most
    `max_side` pixels on its long side; images over `max_pixels` (after draft) are refused."""
    try:
        img = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise _oversized(name, nbytes, _pixels_in(str(exc)), max_pixels) from exc
    except UnidentifiedImageError as exc:
        if head[4:8] == b"ftyp" and not HEIF_SUPPORTED:
            raise UnsupportedImageError(f"HEIC/HEIF image needs the pillow-heif plugin: {name}") from exc
        raise NotAnImageError(f"not a recognised image: {name}") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptImageError(f"cannot open {name}: {exc}") from exc
    with img:
        fmt = img.format or "unknown"
        frames = _frame_count(img)
        stored_size = img.size  # before draft mode shrinks it
        if fmt == "JPEG":
            # Draft decoding at 1/2..1/8 scale: fast, and makes large JPEG scans usable.
            img.draft(None, (target_size, target_size))
        if img.width * img.height > max_pixels:
            raise _oversized(name, nbytes, img.width * img.height, max_pixels)
        try:
            img.seek(0)
            img.load()
        except OSError as exc:
            if "truncated" in str(exc).lower():
                raise TruncatedImageError(f"truncated file: {name}") from exc
            raise CorruptImageError(f"cannot decode {name}: {exc}") from exc
        except (ValueError, SyntaxError, EOFError, IndexError) as exc:
            raise CorruptImageError(f"cannot decode {name}: {exc}") from exc
        except Image.DecompressionBombError as exc:
            raise _oversized(name, nbytes, _pixels_in(str(exc)), max_pixels) from exc
        exif = _read_exif(img)
        width, height = stored_size
        if _orientation(exif) in (5, 6, 7, 8):  # a quarter turn: the upright image is the other way round
            width, height = height, width
        try:
            rgb = to_rgb(img, name)  # also turns the image upright (models.preprocess.to_rgb)
        except FileIndexError:
            raise
        except (OSError, ValueError) as exc:
            raise CorruptImageError(f"cannot decode {name}: {exc}") from exc
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    taken_at = exif_taken_at(exif)
    return DecodedImage(image=rgb, width=width, height=height, format=fmt, frames=frames, taken_at=taken_at)


def _read_exif(img: Image.Image) -> Image.Exif:
    """The image's EXIF block; an empty one when it is malformed (the pixels are still good)."""
    try:
        return img.getexif()
    except Exception:
        logger.debug("ignoring malformed EXIF in %s", getattr(img, "filename", "<image>"), exc_info=True)
        return Image.Exif()


def _orientation(exif: Image.Exif) -> int:
    try:
        value = exif.get(0x0112, 1)
        return value if isinstance(value, int) else 1
    except Exception:
        return 1


def _frame_count(img: Image.Image) -> int:
    """Frames in an animation or multi-page file; 1 when the container's frame table is unreadable
    (only the first frame is used anyway)."""
    try:
        return max(1, int(getattr(img, "n_frames", 1) or 1))
    except Exception:
        return 1


_EXIF_IFD = 0x8769
_DATE_TAGS = (0x9003, 0x9004)  # DateTimeOriginal, DateTimeDigitized
_EXIF_DATE = re.compile(r"\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def exif_taken_at(exif: Image.Exif) -> float | None:
    """When the photo was taken: EXIF DateTimeOriginal, else DateTimeDigitized, as epoch seconds of
    the camera's wall-clock time read as UTC (EXIF times have no zone; reading them as UTC keeps the
    calendar day printed on the photo). None when absent or not a real date ("0000:00:00 ...")."""
    try:
        ifd = exif.get_ifd(_EXIF_IFD)
    except Exception:  # a malformed EXIF block means no date, not a failed file
        return None
    for tag in _DATE_TAGS:
        value = ifd.get(tag)
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        match = _EXIF_DATE.match(value) if isinstance(value, str) else None
        if match is None:
            continue
        try:
            when = dt.datetime(*(int(g) for g in match.groups()), tzinfo=dt.UTC)
        except ValueError:
            continue
        return when.timestamp()
    return None


def read_taken_at(path: Path | bytes) -> float | None:
    """The EXIF date of an image file, reading only its header; None when it has none or cannot be
    read (the file is then left to the indexer's own error handling)."""
    try:
        with open_regular(path) as fh, Image.open(fh) as img:
            return exif_taken_at(img.getexif())
    except Exception:  # any malformed header: no date; the indexer reports the file itself
        return None


def to_rgb(img: Image.Image, name: str = "<image>") -> Image.Image:
    """Flatten any Pillow mode to RGB with the encoders' own conversion (models.preprocess.to_rgb), so
    an indexed file and the same file given as a query get the same pixels."""
    try:
        rgb = preprocess.to_rgb(img)
    except (ValueError, OSError) as exc:
        raise UnsupportedImageError(f"unsupported colour mode {img.mode} in {name}") from exc
    return rgb.copy() if rgb.readonly else rgb


def _pixels_in(message: str) -> int | None:
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else None


def _oversized(name: str, nbytes: int, pixels: int | None, max_pixels: int) -> FileIndexError:
    if pixels is None or nbytes / pixels < BOMB_BYTES_PER_PIXEL:
        shown = f"{pixels} pixels" if pixels else "a huge pixel count"
        return DecompressionBombError(f"decompression bomb: {shown} in a {nbytes}-byte file: {name}")
    return ImageTooLargeError(f"image too large: {pixels} pixels (limit {max_pixels}): {name}")
