"""Mutation fuzzing of the decoder: every malformed file is a recorded failure, never an exception.

A seeded mutator (bit flips, interesting values, truncation, insertion, duplication, and mutations
aimed at the EXIF block, where Pillow's parsers raise SyntaxError/IndexError/TypeError) runs over
small valid files of each format Pillow reads here. The rule under test is the indexer's: decoding
either gives an RGB image or raises a FileIndexError, which the indexer records as the file's failure.
The seeds are fixed, so a failure reproduces; the report names the format, seed and mutation.
"""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import pytest
from PIL import Image, features

from store.errors import CorruptImageError, FileIndexError
from store.ingestion.decoder import DecodedImage, decode_bytes

CASES_PER_SOURCE = 400
MAX_PIXELS = 4_000_000  # keeps mutated headers that claim big sizes quick to refuse


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "Camera maker"
    exif.get_ifd(0x8769)[0x9003] = "2021:05:04 10:11:12"
    return exif


def _sources() -> dict[str, bytes]:
    """Small valid files: every format Pillow can write here, with EXIF where the format carries it."""
    base = Image.new("RGB", (24, 16), (10, 120, 200))
    base.paste((250, 200, 10), (0, 0, 12, 8))
    out: dict[str, bytes] = {}

    def save(name: str, img: Image.Image, fmt: str, **kwargs) -> None:
        buffer = io.BytesIO()
        img.save(buffer, fmt, **kwargs)
        out[name] = buffer.getvalue()

    save("jpeg-exif", base, "JPEG", exif=_exif(), quality=90)
    save("jpeg-progressive", base, "JPEG", progressive=True)
    save("png-exif", base, "PNG", exif=_exif())
    save("png-palette-transparency", base.convert("P"), "PNG", transparency=0)
    save("png-16bit", base.convert("I;16"), "PNG")
    turned = base.rotate(90)
    save("gif-animated", base.convert("P"), "GIF", save_all=True, append_images=[turned.convert("P")])
    save("bmp", base, "BMP")
    save("tiff-multipage-exif", base, "TIFF", save_all=True, append_images=[base], exif=_exif())
    save("tiff-cmyk", base.convert("CMYK"), "TIFF")
    save("ico", base, "ICO")
    save("ppm", base, "PPM")
    save("tga", base, "TGA")
    save("pcx", base, "PCX")
    save("sgi", base, "SGI")
    save("im", base, "IM")
    save("dds", base.convert("RGBA"), "DDS")
    save("qoi", base, "QOI")
    if features.check("webp"):
        save("webp-exif", base, "WEBP", exif=_exif())
        save("webp-animated", base, "WEBP", save_all=True, append_images=[turned])
    if features.check("jpg_2000"):
        save("jpeg2000", base, "JPEG2000")
    if features.check("avif"):
        save("avif", base, "AVIF")
    return out


SOURCES = _sources()
INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
               b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x00\xff\xff"]  # fmt: skip
EXIF_MARKERS = (b"Exif", b"eXIf", b"II*\x00", b"MM\x00*")


def _mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One mutation of `data`, and its description for the failure report."""
    buf = bytearray(data)
    kind = rng.choice(["flip", "interesting", "truncate", "insert", "duplicate", "exif", "exif", "multi"])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == "interesting":
        value = rng.choice(INTERESTING)
        at = rng.randrange(len(buf))
        buf[at : at + len(value)] = value
    elif kind == "truncate" and len(buf) > 1:
        del buf[rng.randrange(1, len(buf)) :]
    elif kind == "insert":
        at = rng.randrange(len(buf))
        buf[at:at] = rng.randbytes(rng.randint(1, 64))
    elif kind == "duplicate":
        start = rng.randrange(len(buf))
        piece = buf[start : start + rng.randint(1, 128)]
        at = rng.randrange(len(buf))
        buf[at:at] = piece
    elif kind == "exif":
        starts = [i for marker in EXIF_MARKERS if (i := data.find(marker)) >= 0]
        start = rng.choice(starts) if starts else 0
        for _ in range(rng.randint(1, 6)):
            at = min(len(buf) - 1, start + rng.randrange(64))
            buf[at] = rng.randrange(256) if rng.random() < 0.5 else rng.choice(INTERESTING)[0]
    else:  # several of the above
        for _ in range(rng.randint(2, 4)):
            buf = bytearray(_mutate(bytes(buf), rng)[0])
    return bytes(buf) or b"\x00", kind


def _png_with_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    data = buffer.getvalue()
    body = chunk_type + payload
    chunk = struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))
    at = data.index(b"IDAT") - 4
    return data[:at] + chunk + data[at:]


def test_every_source_format_decodes_unmutated():
    for name, data in SOURCES.items():
        decoded = decode_bytes(data, name=name, max_pixels=MAX_PIXELS)
        assert decoded.image.mode == "RGB" and min(decoded.image.size) > 0, name
    assert len(SOURCES) >= 17


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_mutated_files_decode_or_fail_with_a_reason(source):
    data = SOURCES[source]
    rng = random.Random(f"imago-fuzz-{source}")
    escaped: list[str] = []
    outcomes = {"decoded": 0, "failed": 0}
    for case in range(CASES_PER_SOURCE):
        mutated, kind = _mutate(data, rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow warns about some corrupt blocks it skips
                decoded = decode_bytes(mutated, name=f"{source}#{case}", max_pixels=MAX_PIXELS)
        except FileIndexError as exc:
            assert str(exc), f"{source} case {case} ({kind}): a failure without a reason"
            outcomes["failed"] += 1
            continue
        except Exception as exc:
            escaped.append(f"case {case} ({kind}): {type(exc).__name__}: {exc}")
            continue
        assert isinstance(decoded, DecodedImage)
        assert decoded.image.mode == "RGB" and min(decoded.image.size) > 0
        outcomes["decoded"] += 1
    assert escaped == [], f"{source}: {len(escaped)} mutated files raised past the decoder: {escaped[:5]}"
    assert outcomes["failed"] > 0  # the mutator does break files of every format


@pytest.mark.parametrize(
    "payload",
    [b"garbage!", b"MM\x00*\x00\x00\x00\x08\xff\xff", b"II*\x00\xff\xff\xff\x7f"],
    ids=["not-tiff", "truncated-ifd", "offset-past-end"],
)
def test_png_with_an_invalid_exif_chunk_still_decodes(payload):
    decoded = decode_bytes(_png_with_chunk(b"eXIf", payload), name="bad-exif.png")
    assert (decoded.width, decoded.height) == (8, 8)
    assert decoded.taken_at is None


@pytest.mark.skipif(not features.check("webp"), reason="this Pillow has no WebP support")
def test_webp_with_an_invalid_exif_block_still_decodes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "WEBP", exif=b"garbage!")
    decoded = decode_bytes(buffer.getvalue(), name="bad-exif.webp")
    assert (decoded.width, decoded.height) == (8, 8)


def test_an_unexpected_parser_error_becomes_a_corrupt_image_failure(monkeypatch):
    def broken_open(fp, *args, **kwargs):
        raise RuntimeError("plugin bug")

    monkeypatch.setattr(Image, "open", broken_open)
    with pytest.raises(CorruptImageError, match="RuntimeError: plugin bug"):
        decode_bytes(SOURCES["png-exif"], name="x.png")
