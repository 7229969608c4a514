"""Decoder behaviours that mutation testing (tools/mutation) found unchecked: the messages users read,
limits at their exact boundary, defaults, EXIF dates and orientations, streaming reads, whole-file reads."""

from __future__ import annotations

import calendar
import errno
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile
from store_fakes import _png_chunk
from test_store_decoder import _encode

from store import errors
from store.ingestion import decoder
from store.ingestion.decoder import decode_bytes, decode_file, decode_path, exif_taken_at, read_taken_at

NAME = "box 7/scan 12.tif"
TAKEN = "2021:05:04 10:11:12"
TAKEN_AT = float(calendar.timegm((2021, 5, 4, 10, 11, 12)))


def _png_claiming(width: int, height: int, padding: int) -> bytes:
    """A PNG header claiming `width` x `height`, padded with a text chunk to `padding` bytes or more."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"tEXt", b"note\x00" + b"x" * padding)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b"")
    )  # fmt: skip


def _jpeg_with_exif(size=(40, 20), **tags) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        if tag == "orientation":
            exif[0x0112] = value
        else:
            exif.get_ifd(0x8769)[{"original": 0x9003, "digitized": 0x9004}[tag]] = value
    return _encode(Image.new("RGB", size, (200, 30, 30)), "JPEG", exif=exif)


def _message(exc_type, call, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    assert type(info.value) is exc_type
    return str(info.value)


# --- messages name the file, as the user sees them in the failure list -------------------------------


def test_error_messages_name_the_file():
    assert _message(errors.EmptyFileError, decode_bytes, b"", name=NAME) == f"empty file (0 bytes): {NAME}"
    assert _message(errors.NotAnImageError, decode_bytes, b"hello", name=NAME) == (
        f"not a recognised image: {NAME}"
    )
    assert _message(errors.NotAnImageError, decode_bytes, b"hello") == "not a recognised image: <image>"
    jpeg = _encode(Image.effect_noise((300, 300), 50).convert("RGB"), "JPEG")
    assert _message(errors.TruncatedImageError, decode_bytes, jpeg[: len(jpeg) // 2], name=NAME) == (
        f"truncated file: {NAME}"
    )
    png = bytearray(_encode(Image.effect_noise((64, 64), 40).convert("L"), "PNG"))
    png[png.find(b"IDAT") + 20] ^= 0xFF  # a damaged deflate stream: an OSError that is not truncation
    assert _message(errors.CorruptImageError, decode_bytes, bytes(png), name=NAME).startswith(
        f"cannot decode {NAME}: "
    )
    big = _encode(Image.new("RGB", (2000, 2000)), "PNG")
    assert _message(errors.ImageTooLargeError, decode_bytes, big, name=NAME, max_pixels=1_000_000) == (
        f"image too large: 4000000 pixels (limit 1000000): {NAME}"
    )


def test_heic_without_the_plugin_is_unsupported_not_unknown(monkeypatch):
    monkeypatch.setattr(decoder, "HEIF_SUPPORTED", False)
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert _message(errors.UnsupportedImageError, decode_bytes, heic, name=NAME) == (
        f"HEIC/HEIF image needs the pillow-heif plugin: {NAME}"
    )


def test_pillow_refusing_to_open_names_the_file(monkeypatch):
    def refuse(fp, *args, **kwargs):
        raise SyntaxError("not a TIFF file")

    monkeypatch.setattr(Image, "open", refuse)
    assert _message(errors.CorruptImageError, decode_bytes, b"II*\x00junk", name=NAME) == (
        f"cannot open {NAME}: not a TIFF file"
    )


def test_pillow_oversize_refusal_at_open_reports_the_limit():
    # Pillow itself refuses over 2 x MAX_IMAGE_PIXELS when opening; a file this big is a real image
    data = _png_claiming(15_000, 15_000, padding=4000)
    assert _message(errors.ImageTooLargeError, decode_bytes, data, name=NAME) == (
        f"image too large: 225000000 pixels (limit {decoder.MAX_PIXELS}): {NAME}"
    )


def test_pillow_bomb_message_without_a_pixel_count(monkeypatch):
    def refuse(fp, *args, **kwargs):
        raise Image.DecompressionBombError("some future wording")

    monkeypatch.setattr(Image, "open", refuse)
    assert _message(errors.DecompressionBombError, decode_bytes, b"\x89PNG" + b"\x00" * 40, name=NAME) == (
        f"decompression bomb: a huge pixel count in a 44-byte file: {NAME}"
    )


def _fail_on_load(monkeypatch, exc: BaseException) -> None:
    def load(self):
        raise exc

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.mark.parametrize("exc", [ValueError("tile cannot extend outside image"), EOFError("no more data")])
def test_other_load_failures_are_corrupt_and_name_the_file(monkeypatch, exc):
    _fail_on_load(monkeypatch, exc)
    assert _message(errors.CorruptImageError, decode_bytes, _encode(Image.new("RGB", (4, 4)), "PNG"),
                    name=NAME) == f"cannot decode {NAME}: {exc}"  # fmt: skip


def test_oversize_found_while_loading_is_a_bomb_or_too_large(monkeypatch):
    png = _encode(Image.new("RGB", (4, 4)), "PNG")
    size = len(png)
    _fail_on_load(monkeypatch, Image.DecompressionBombError(f"Image size ({size * 10**6} pixels) exceeds"))
    assert _message(errors.DecompressionBombError, decode_bytes, png, name=NAME) == (
        f"decompression bomb: {size * 10**6} pixels in a {size}-byte file: {NAME}"
    )
    # exactly BOMB_BYTES_PER_PIXEL file bytes per pixel is still a (too large) image, not a bomb
    _fail_on_load(monkeypatch, Image.DecompressionBombError(f"Image size ({size * 10**5} pixels) exceeds"))
    assert _message(errors.ImageTooLargeError, decode_bytes, png, name=NAME, max_pixels=5000) == (
        f"image too large: {size * 10**5} pixels (limit 5000): {NAME}"
    )


def test_unexpected_decoder_errors_become_corrupt_with_their_first_line(monkeypatch):
    png = _encode(Image.new("RGB", (4, 4)), "PNG")
    for exc, reason in [
        (RuntimeError(), "RuntimeError"),
        (RuntimeError("  "), "RuntimeError"),
        (struct.error("unpack requires a buffer\nof 4 bytes"), "error: unpack requires a buffer"),
    ]:
        monkeypatch.setattr(decoder, "_read_exif", lambda img, exc=exc: (_ for _ in ()).throw(exc))
        assert _message(errors.CorruptImageError, decode_bytes, png, name=NAME) == (
            f"cannot decode {NAME}: {reason}"
        )


def test_out_of_memory_is_a_retryable_error_naming_the_file(monkeypatch):
    def no_memory(img):
        raise MemoryError

    monkeypatch.setattr(decoder, "_read_exif", no_memory)
    with pytest.raises(errors.FileIndexError) as info:
        decode_bytes(_encode(Image.new("RGB", (4, 4)), "PNG"), name=NAME)
    assert type(info.value) is errors.FileIndexError and info.value.kind == "error"
    assert str(info.value) == f"not enough memory to decode {NAME}"


def test_unsupported_colour_mode_names_the_file(monkeypatch):
    def refuse(img):
        raise ValueError("conversion not supported")

    monkeypatch.setattr(decoder.preprocess, "to_rgb", refuse)
    rgb = Image.new("RGB", (4, 4))
    assert (
        _message(errors.UnsupportedImageError, decoder.to_rgb, rgb)
        == "unsupported colour mode RGB in <image>"
    )
    assert _message(errors.UnsupportedImageError, decode_bytes, _encode(rgb, "PNG"), name=NAME) == (
        f"unsupported colour mode RGB in {NAME}"
    )


# --- defaults and limits at their boundary ------------------------------------------------------------


def test_default_draft_target_is_224():
    decoded = decode_bytes(_encode(Image.new("RGB", (1792, 1792), (9, 9, 9)), "JPEG"))
    assert decoded.image.size == (224, 224)  # 1/8 scale still covers 224 px


def test_default_max_side_is_1024_and_an_image_at_the_limits_is_kept():
    assert decode_bytes(_encode(Image.new("RGB", (1025, 4)), "PNG")).image.size == (1024, 4)
    at_limit = decode_bytes(_encode(Image.new("RGB", (100, 100)), "PNG"), max_pixels=10_000, max_side=100)
    assert at_limit.image.size == (100, 100)


def test_reduction_pixels_stay_those_of_existing_indexes():
    """The encoder must see the pixels earlier runs indexed (Pillow's bicubic thumbnail, reducing_gap 2),
    or a query of an indexed photo no longer finds itself as an exact match."""
    noise = Image.merge("RGB", [Image.effect_noise((1200, 1200), 60 + 10 * i) for i in range(3)])
    decoded = decode_bytes(_encode(noise, "PNG"), max_side=200)
    expected = noise.copy()
    expected.thumbnail((200, 200), Image.Resampling.BICUBIC, reducing_gap=2.0)
    assert np.array_equal(np.asarray(decoded.image), np.asarray(expected))


def test_single_images_have_one_frame():
    for fmt in ("PNG", "JPEG"):
        assert decode_bytes(_encode(Image.new("RGB", (8, 8)), fmt)).frames == 1


@pytest.mark.parametrize(("orientation", "turned"), [(1, False), (2, False), (3, False), (4, False),
                                                     (5, True), (6, True), (7, True), (8, True)])  # fmt: skip
def test_full_size_follows_every_exif_orientation(orientation, turned):
    decoded = decode_bytes(_jpeg_with_exif(orientation=orientation))
    assert (decoded.width, decoded.height) == ((20, 40) if turned else (40, 20))
    assert (decoded.image.width < decoded.image.height) == turned


# --- EXIF dates -----------------------------------------------------------------------------------------


@pytest.fixture
def tokyo_clock(monkeypatch):
    """A local zone far from UTC: a date read in local time instead of UTC moves by 9 hours."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_taken_at_is_the_camera_clock_read_as_utc(tokyo_clock):
    assert decode_bytes(_jpeg_with_exif(original=TAKEN)).taken_at == TAKEN_AT


@pytest.mark.parametrize("original", ["0000:00:00 00:00:00", "unknown", None])
def test_taken_at_falls_back_to_digitized(original):
    tags = {"digitized": TAKEN} if original is None else {"original": original, "digitized": TAKEN}
    assert decode_bytes(_jpeg_with_exif(**tags)).taken_at == TAKEN_AT


def test_taken_at_from_byte_strings_with_stray_bytes():
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = TAKEN.encode() + b"\xff\x00"
    assert exif_taken_at(exif) == TAKEN_AT


def test_read_taken_at_reads_the_file_header(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_jpeg_with_exif(original=TAKEN))
    assert read_taken_at(photo) == TAKEN_AT
    assert read_taken_at(bytes(photo)) == TAKEN_AT
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert read_taken_at(tmp_path / "notes.jpg") is None
    assert read_taken_at(tmp_path / "missing.jpg") is None


# --- reading files: whole (decode_file) or streamed (decode_path) ---------------------------------------


class _FailingRead(io.BufferedReader):
    def read(self, n=-1):
        raise OSError(errno.EIO, "Input/output error")


def test_decode_file_returns_the_bytes_and_passes_options(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(_encode(Image.new("RGB", (64, 32), (1, 2, 3)), "PNG"))
    data, decoded = decode_file(path, max_side=16)
    assert data == path.read_bytes()
    assert decoded.image.size == (16, 8) and (decoded.width, decoded.height) == (64, 32)
    (tmp_path / "empty.png").write_bytes(b"")
    assert _message(errors.EmptyFileError, decode_file, bytes(tmp_path / "empty.png")) == (
        f"empty file (0 bytes): {tmp_path / 'empty.png'}"
    )
    with pytest.raises(FileNotFoundError):
        decode_file(tmp_path / "gone.png")


def test_decode_file_refuses_files_over_the_read_limit(tmp_path, monkeypatch):
    path = tmp_path / "scan.png"
    path.write_bytes(_encode(Image.new("RGB", (4, 4)), "PNG"))
    size = path.stat().st_size
    monkeypatch.setattr(decoder, "MAX_READ_BYTES", size)
    assert decode_file(path)[1].width == 4  # at the limit: read
    monkeypatch.setattr(decoder, "MAX_READ_BYTES", size - 1)
    assert _message(errors.ImageTooLargeError, decode_file, path) == (
        f"file too large to read: {size} bytes (limit {size - 1}): {path}"
    )


@pytest.mark.parametrize("call", [decode_file, decode_path])
def test_read_errors_are_unreadable_and_name_the_file(tmp_path, monkeypatch, call):
    path = tmp_path / "scan.png"
    path.write_bytes(_encode(Image.new("RGB", (4, 4)), "PNG"))

    monkeypatch.setattr(decoder, "open_regular", lambda p, shown=None: _FailingRead(io.FileIO(p)))
    assert _message(errors.UnreadableFileError, call, path) == f"cannot read {path}: Input/output error"


def test_decode_path_names_the_file_and_passes_options(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(_encode(Image.new("RGB", (64, 32)), "PNG"))
    assert decode_path(path, max_side=16).image.size == (16, 8)
    (tmp_path / "empty.png").write_bytes(b"")
    assert _message(errors.EmptyFileError, decode_path, tmp_path / "empty.png") == (
        f"empty file (0 bytes): {tmp_path / 'empty.png'}"
    )
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert _message(errors.NotAnImageError, decode_path, text) == f"not a recognised image: {text}"
    assert _message(errors.NotAnImageError, decode_path, text, name=NAME) == f"not a recognised image: {NAME}"


def test_decode_path_tells_bombs_from_large_images_by_file_size(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(15_000, 15_000, padding=0))
    size = bomb.stat().st_size
    assert _message(errors.DecompressionBombError, decode_path, bomb) == (
        f"decompression bomb: 225000000 pixels in a {size}-byte file: {bomb}"
    )
    big = tmp_path / "big.png"
    big.write_bytes(_encode(Image.new("RGB", (2000, 2000)), "PNG"))
    assert _message(errors.ImageTooLargeError, decode_path, big, max_pixels=1_000_000) == (
        f"image too large: 4000000 pixels (limit 1000000): {big}"
    )


def test_decode_path_streams_instead_of_reading_the_whole_file(tmp_path, monkeypatch):
    path = tmp_path / "scan.bmp"
    path.write_bytes(_encode(Image.new("RGB", (1000, 1000), (4, 5, 6)), "BMP"))
    reads: list[int] = []

    class Recording(io.BufferedReader):
        def read(self, n=-1):
            data = super().read(n)
            reads.append(len(data))
            return data

    monkeypatch.setattr(decoder, "open_regular", lambda p, shown=None: Recording(io.FileIO(p)))
    assert decode_path(path).width == 1000
    assert reads and max(reads) < path.stat().st_size // 4
