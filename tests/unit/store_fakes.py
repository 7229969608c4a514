"""Deterministic stand-ins for the models, for store tests (the store only sees the Protocols)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


class FakeEncoder:
    """A 48-d vector from the image's 4x4 RGB thumbnail (mean-centred, L2-normalised)."""

    model_id = "fake-stats-v1"
    dim = 48
    input_size = 64

    def __init__(self) -> None:
        self.calls: list[int] = []
        self._lock = threading.Lock()

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray:
        with self._lock:
            self.calls.append(len(images))
        rows = []
        for img in images:
            assert img.mode == "RGB"
            small = np.asarray(img.resize((4, 4), Image.Resampling.BOX), dtype=np.float32).reshape(-1)
            small = small - small.mean() + 1e-3 * np.arange(self.dim)
            rows.append(small / np.linalg.norm(small))
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)

    @property
    def embedded(self) -> int:
        return sum(self.calls)


class FakeClassifier:
    """Labels 'dim-<i>' for the largest vector components."""

    def __init__(self, head: str = "category") -> None:
        self.head = head
        self.model_id = f"fake-{head}-v1"

    def classify(self, embeddings: np.ndarray, top: int = 5) -> list[list[tuple[str, float]]]:
        out = []
        for row in np.asarray(embeddings):
            order = np.argsort(-row)[:top]
            out.append([(f"{self.head}-{int(i)}", float(row[i])) for i in order])
        return out


class FakeCaptioner:
    model_id = "fake-caption-v1"

    def caption(self, images: Sequence[Image.Image]) -> list[str]:
        out = []
        for img in images:
            r, g, b = (int(v) for v in np.asarray(img, dtype=np.float32).reshape(-1, 3).mean(0))
            out.append(f"picture with mean colour {r} {g} {b} size {img.width}x{img.height}")
        return out


@dataclass
class FakeRegion:
    bbox: tuple[int, int, int, int]
    score: float


def quadrant_detector(image: Image.Image) -> list[FakeRegion]:
    """Pretends every image is a 2x1 collage: the left and right halves."""
    w, h = image.size
    return [FakeRegion((0, 0, w // 2, h), 0.9), FakeRegion((w // 2, 0, w - w // 2, h), 0.8)]


def make_image(path: Path, seed: int, size: tuple[int, int] = (96, 64), fmt: str | None = None) -> Path:
    """A small distinct picture: a coloured background with a shape placed by `seed`."""
    rng = np.random.default_rng(seed)
    colour = tuple(int(v) for v in rng.integers(0, 256, 3))
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    x, y = int(rng.integers(0, size[0] // 2)), int(rng.integers(0, size[1] // 2))
    draw.rectangle([x, y, x + size[0] // 3, y + size[1] // 3], fill=tuple(255 - c for c in colour))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt)
    return path


def make_archive(root: Path, n: int, start: int = 0) -> list[Path]:
    """`n` images spread over a few folders, alternating JPEG and PNG."""
    paths = []
    for i in range(start, start + n):
        ext = "jpg" if i % 2 else "png"
        paths.append(make_image(root / f"folder{i % 3}" / f"img{i:04d}.{ext}", i))
    return paths


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import struct
    import zlib

    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def write_png_header_only(path: Path, width: int, height: int) -> None:
    """A tiny PNG claiming a huge size: a decompression bomb (the data never matches the header)."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )  # fmt: skip


def write_big_blank_png(path: Path, width: int, height: int) -> None:
    """A complete, valid 1-bit PNG of the given size, streamed (never held in memory)."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = []
    rows_per_chunk = 1000
    for start in range(0, height, rows_per_chunk):
        parts.append(comp.compress(row * min(rows_per_chunk, height - start)))
    parts.append(comp.flush())
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )  # fmt: skip


def make_bad_corpus(root: Path) -> dict[bytes, str | None]:
    """The issue's corpus of awkward files. Returns relative path -> expected error kind, or None
    for files that must be indexed. (The unreadable-permission case has its own test, which cannot
    run as root.)"""
    import os

    root.mkdir(parents=True, exist_ok=True)
    expected: dict[bytes, str | None] = {}

    (root / "zero.jpg").write_bytes(b"")
    expected[b"zero.jpg"] = "empty_file"

    good = make_image(root / "good.jpg", 1, size=(400, 300))
    expected[b"good.jpg"] = None
    data = good.read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) // 2])
    expected[b"truncated.jpg"] = "truncated"

    write_png_header_only(root / "bomb.png", 200_000, 200_000)
    expected[b"bomb.png"] = "decompression_bomb"

    write_big_blank_png(root / "huge.png", 30_000, 30_000)
    expected[b"huge.png"] = "too_large"

    make_image(root / "really_png.jpg", 2, fmt="PNG")
    expected[b"really_png.jpg"] = None

    (root / "notes.jpg").write_text("this is a text file, not a picture\n")
    expected[b"notes.jpg"] = "not_an_image"

    (root / "readme.txt").write_text("ignored: not an image and not named like one\n")

    os.symlink(root / "does-not-exist.jpg", root / "broken.jpg")
    expected[b"broken.jpg"] = "broken_symlink"
    os.symlink("loop.jpg", root / "loop.jpg")
    expected[b"loop.jpg"] = "symlink_loop"
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")  # a folder loop: walked once, not an error
    make_image(root / "sub" / "inner.png", 4)
    expected[b"sub/inner.png"] = None

    raw = os.path.join(os.fsencode(root), b"caf\xe9-\xff.png")
    make_image(Path(os.fsdecode(raw)), 5)
    expected[b"caf\xe9-\xff.png"] = None
    long_name = "л" * 120 + ".png"  # 240 bytes of UTF-8 + extension
    make_image(root / long_name, 6)
    expected[long_name.encode()] = None

    cmyk = Image.new("CMYK", (80, 60), (0, 255, 255, 0))
    cmyk.save(root / "cmyk.tif")
    expected[b"cmyk.tif"] = None
    ramp = (np.arange(60 * 80, dtype=np.uint32).reshape(60, 80) * 13 % 65536).astype(np.uint16)
    Image.fromarray(ramp).save(root / "grey16.tif")
    expected[b"grey16.tif"] = None

    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    expected[b"anim.gif"] = None
    frames[0].save(root / "anim.webp", save_all=True, append_images=frames[1:], duration=100, loop=0)
    expected[b"anim.webp"] = None

    (root / ".hidden").mkdir()
    make_image(root / ".hidden" / "secret.png", 7)  # hidden folders are not indexed
    return expected
