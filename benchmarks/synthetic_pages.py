"""Synthetic album pages, collages, web screenshots and single photos with ground-truth photo boxes.

Used by the sub-photo detector's tests and by the benchmark harness. Everything is deterministic from a
seed. Ground-truth boxes are `(x, y, w, h)` of the picture area of each photo (without its printed white
border); for a slightly rotated photo, the axis-aligned box of the rotated picture area.
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from models.errors import InputError
from store.boxes import Box

logger = logging.getLogger(__name__)

PageKind = Literal["album", "screenshot", "single"]

_PAGE_COLOURS = [
    (250, 250, 248),  # white paper
    (242, 236, 220),  # cream
    (226, 226, 226),  # light grey
    (20, 20, 20),  # black album page
    (45, 45, 48),  # dark grey
    (28, 52, 38),  # dark green
    (70, 48, 32),  # brown
    (24, 32, 64),  # navy
    (120, 120, 118),  # mid grey
    (180, 150, 110),  # kraft paper
]
_BORDER_COLOURS = [(255, 255, 255), (248, 248, 244), (240, 236, 226)]
_HEADER_COLOURS = [(33, 37, 41), (0, 90, 160), (180, 30, 40), (40, 110, 60), (240, 240, 240), (90, 60, 140)]


@dataclass(frozen=True)
class SyntheticPage:
    """A generated page image and the boxes of the photos on it (empty for kind "single").

    `boxes` frame the picture areas; `print_boxes` (same order) frame the whole prints including a
    printed border, equal to `boxes` for photos without one. Either counts as a correct region.
    """

    image: Image.Image
    boxes: tuple[Box, ...]
    kind: PageKind
    print_boxes: tuple[Box, ...] = ()

    def __post_init__(self) -> None:
        if not self.print_boxes:
            object.__setattr__(self, "print_boxes", self.boxes)


# --- photo sources -------------------------------------------------------------------------------------


def generated_photo(seed: int, size: tuple[int, int] | None = None) -> Image.Image:
    """A photo-like RGB image: smooth colour field, shaded shapes, blur and sensor noise."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    if size is None:
        long_side = rng.randint(300, 900)
        aspect = rng.choice([4 / 3, 3 / 2, 1.0, 16 / 9])
        w, h = (long_side, round(long_side / aspect))
        if rng.random() < 0.35:
            w, h = h, w
    else:
        w, h = size
    coarse = nrng.uniform(0, 255, size=(rng.randint(2, 5), rng.randint(2, 5), 3)).astype(np.uint8)
    img = Image.fromarray(coarse, "RGB").resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(4, 14)):
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        x0, y0 = rng.uniform(-0.2, 1.0) * w, rng.uniform(-0.2, 1.0) * h
        x1, y1 = x0 + rng.uniform(0.05, 0.6) * w, y0 + rng.uniform(0.05, 0.6) * h
        shape = rng.random()
        if shape < 0.4:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif shape < 0.7:
            pts = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(rng.randint(3, 6))]
            draw.polygon(pts, fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rng.randint(1, 12))
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 2.5)))
    arr = np.asarray(img, dtype=np.float32)
    arr += nrng.normal(0, rng.uniform(1.5, 6.0), size=arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def caltech_photo_paths(root: Path) -> list[Path]:
    """All JPEGs under a Caltech-101 folder (`.../caltech101`), sorted; empty when the folder is absent."""
    base = root / "101_ObjectCategories"
    if not base.is_dir():
        return []
    return sorted(base.glob("*/*.jpg"))


def _load_photo(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


class PhotoSource:
    """Deterministic supply of photos: real files when given, generated ones otherwise."""

    def __init__(self, paths: Sequence[Path] = ()) -> None:
        self._paths = list(paths)

    def photo(self, rng: random.Random) -> Image.Image:
        """The next photo (RGB), chosen by `rng`."""
        if self._paths:
            return _load_photo(self._paths[rng.randrange(len(self._paths))])
        return generated_photo(rng.randrange(2**31))


# --- helpers -------------------------------------------------------------------------------------------


def _page_background(rng: random.Random, size: tuple[int, int], colour: tuple[int, int, int]) -> Image.Image:
    """A page of one colour with an optional texture: sensor noise, paper grain, uneven scan lighting."""
    w, h = size
    nrng = np.random.default_rng(rng.randrange(2**31))
    arr = np.empty((h, w, 3), np.float32)
    arr[:] = colour
    texture = rng.choice(["none", "noise", "paper", "paper"])
    if texture in ("noise", "paper"):
        arr += nrng.standard_normal(size=(h, w, 1), dtype=np.float32) * rng.uniform(1.0, 5.0)
    if texture == "paper":
        grain = nrng.normal(0, 1, size=(max(2, h // 24), max(2, w // 24))).astype(np.float32)
        grain_img = Image.fromarray(grain, "F").resize((w, h), Image.Resampling.BICUBIC)
        arr += np.asarray(grain_img, np.float32)[..., None] * rng.uniform(1.5, 5.0)
    if rng.random() < 0.4:  # scan lighting falls off towards one side
        ramp = np.linspace(0, rng.uniform(-10, 10), w if rng.random() < 0.5 else h, dtype=np.float32)
        arr += ramp[None, :, None] if ramp.size == w else ramp[:, None, None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _rotated_extent(w: float, h: float, angle: float) -> tuple[float, float]:
    a = np.deg2rad(abs(angle))
    return w * np.cos(a) + h * np.sin(a), w * np.sin(a) + h * np.cos(a)


def _paste_photo(
    page: Image.Image,
    photo: Image.Image,
    cell: tuple[float, float, float, float],
    rng: random.Random,
    border_frac: float,
    border_colour: tuple[int, int, int],
    angle: float,
) -> tuple[Box, Box]:
    """Fit `photo` (+border, rotated) into `cell` = (x, y, w, h), paste it; return picture and print box."""
    cx, cy, cw, ch = cell
    pw, ph = photo.size
    border = border_frac * min(pw, ph)
    # Scale so that the rotated, bordered print fits the cell.
    ext_w, ext_h = _rotated_extent(pw + 2 * border, ph + 2 * border, angle)
    scale = min(cw / ext_w, ch / ext_h)
    pw_s, ph_s = max(8, round(pw * scale)), max(8, round(ph * scale))
    b = round(border * scale)
    picture = photo.resize((pw_s, ph_s), Image.Resampling.LANCZOS)
    if b > 0:
        print_img = Image.new("RGB", (pw_s + 2 * b, ph_s + 2 * b), border_colour)
        print_img.paste(picture, (b, b))
    else:
        print_img = picture
    mask = Image.new("L", print_img.size, 255)
    if angle:
        print_img = print_img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        mask = mask.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    ox = round(cx + (cw - print_img.width) * rng.random())
    oy = round(cy + (ch - print_img.height) * rng.random())
    page.paste(print_img, (ox, oy), mask)
    centre = (ox + print_img.width / 2, oy + print_img.height / 2)
    return (
        _rotated_box(pw_s, ph_s, angle, centre, page.size),
        _rotated_box(pw_s + 2 * b, ph_s + 2 * b, angle, centre, page.size),
    )


def _rotated_box(
    w: float, h: float, angle: float, centre: tuple[float, float], page_size: tuple[int, int]
) -> Box:
    """Axis-aligned box of a w x h rectangle at `centre` rotated the way PIL rotates (counter-clockwise)."""
    corners = np.array([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)])
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    pts = corners @ rot.T + centre
    x0, y0 = np.rint(pts.min(axis=0)).astype(int)
    x1, y1 = np.rint(pts.max(axis=0)).astype(int)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(page_size[0], x1), min(page_size[1], y1)
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def _recompress(img: Image.Image, rng: random.Random) -> Image.Image:
    if rng.random() < 0.25:
        return img
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(55, 95))
    buf.seek(0)
    with Image.open(buf) as out:
        return out.convert("RGB")


def _grid_shape(n: int, landscape: bool, rng: random.Random) -> tuple[int, int]:
    options = [(r, -(-n // r)) for r in range(1, n + 1) if (r - 1) * (-(-n // r)) < n]
    options = [(r, c) for r, c in options if max(r, c) <= 2 * min(r, c) + 1]
    r, c = rng.choice(options)
    if (landscape and r > c) or (not landscape and c > r):
        r, c = c, r
    return r, c


# --- pages ---------------------------------------------------------------------------------------------


def make_album_page(photos: Sequence[Image.Image], seed: int) -> SyntheticPage:
    """Lay 1-9 photos out on a textured page (grid with jitter, margins, gutters, borders, tilt)."""
    if not 1 <= len(photos) <= 9:
        raise InputError(f"an album page holds 1 to 9 photos, got {len(photos)}")
    rng = random.Random(seed)
    n = len(photos)
    long_side = rng.randint(1100, 2400)
    aspect = rng.choice([1.414, 4 / 3, 1.0, 1.5])
    landscape = rng.random() < 0.5
    size = (long_side, round(long_side / aspect)) if landscape else (round(long_side / aspect), long_side)
    page = _page_background(rng, size, rng.choice(_PAGE_COLOURS))
    rows, cols = _grid_shape(n, landscape, rng)
    margin = rng.uniform(0.01, 0.08) * long_side
    thin = rng.random() < 0.3  # photos nearly touching
    gutter = (rng.uniform(0.006, 0.012) if thin else rng.uniform(0.015, 0.06)) * long_side
    bordered = rng.random() < 0.45
    border_colour = rng.choice(_BORDER_COLOURS)
    tilt = 3.0 if rng.random() < 0.5 else 0.0
    cell_w = (size[0] - 2 * margin - (cols - 1) * gutter) / cols
    cell_h = (size[1] - 2 * margin - (rows - 1) * gutter) / rows
    boxes: list[Box] = []
    print_boxes: list[Box] = []
    slots = [(r, c) for r in range(rows) for c in range(cols)][:n]
    for photo, (r, c) in zip(photos, slots, strict=True):
        shrink = 1.0 if thin else rng.uniform(0.75, 1.0)
        w, h = cell_w * shrink, cell_h * shrink
        x = margin + c * (cell_w + gutter) + (cell_w - w) * rng.random()
        y = margin + r * (cell_h + gutter) + (cell_h - h) * rng.random()
        angle = rng.uniform(-tilt, tilt) if tilt else 0.0
        border_frac = rng.uniform(0.02, 0.06) if bordered else 0.0
        picture, whole = _paste_photo(page, photo, (x, y, w, h), rng, border_frac, border_colour, angle)
        boxes.append(picture)
        print_boxes.append(whole)
    return SyntheticPage(_recompress(page, rng), tuple(boxes), "album", tuple(print_boxes))


def _text_lines(draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[int, int, int, int]) -> None:
    """Grey bars standing in for lines of text inside `box` = (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    line_h = rng.randint(8, 14)
    step = line_h + rng.randint(6, 12)
    grey = rng.randint(60, 170)
    y = y0
    while y + line_h <= y1:
        length = (x1 - x0) * (rng.uniform(0.3, 0.7) if rng.random() < 0.2 else rng.uniform(0.85, 1.0))
        draw.rectangle((x0, y, x0 + length, y + line_h), fill=(grey, grey, grey))
        y += step
        if rng.random() < 0.12:
            y += step  # paragraph break


def make_web_screenshot(photo: Image.Image, seed: int) -> SyntheticPage:
    """A browser-screenshot-like page: header bar, navigation, side text columns and one photo."""
    rng = random.Random(seed)
    w, h = rng.choice([(1280, 800), (1366, 768), (1440, 900), (1920, 1080), (1280, 1024), (1600, 1000)])
    bg = rng.choice([(255, 255, 255), (248, 249, 250), (240, 240, 236)])
    page = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(page)
    header_h = rng.randint(48, 96)
    header = rng.choice(_HEADER_COLOURS)
    draw.rectangle((0, 0, w, header_h), fill=header)
    light = tuple(255 - (255 - v) // 4 for v in header) if sum(header) < 300 else (90, 90, 90)
    x = rng.randint(20, 60)
    for _ in range(rng.randint(3, 7)):  # menu entries in the header
        item_w = rng.randint(50, 120)
        draw.rectangle((x, header_h // 2 - 6, x + item_w, header_h // 2 + 6), fill=light)
        x += item_w + rng.randint(20, 40)
    nav_y = header_h + rng.randint(10, 24)
    x = rng.randint(20, 60)
    for _ in range(rng.randint(4, 9)):  # breadcrumb / tab row
        item_w = rng.randint(40, 110)
        draw.rectangle((x, nav_y, x + item_w, nav_y + 10), fill=(120, 120, 130))
        x += item_w + rng.randint(16, 30)
    top = nav_y + rng.randint(30, 60)
    left_w = rng.randint(160, 300) if rng.random() < 0.7 else 0
    right_w = rng.randint(160, 320) if rng.random() < 0.6 else 0
    if left_w:
        _text_lines(draw, rng, (20, top, 20 + left_w, h - 40))
    if right_w:
        _text_lines(draw, rng, (w - 20 - right_w, top, w - 20, h - 40))
    main_x0, main_x1 = 20 + left_w + 40, w - 20 - right_w - 40
    title_h = rng.randint(20, 36)
    draw.rectangle((main_x0, top, main_x0 + (main_x1 - main_x0) * 0.6, top + title_h), fill=(40, 40, 40))
    photo_top = top + title_h + rng.randint(20, 40)
    avail_w, avail_h = main_x1 - main_x0, h - photo_top - rng.randint(60, 140)
    scale = min(avail_w * rng.uniform(0.55, 1.0) / photo.width, avail_h / photo.height)
    pw, ph = max(16, round(photo.width * scale)), max(16, round(photo.height * scale))
    px = main_x0 + round((avail_w - pw) * rng.random())
    page.paste(photo.resize((pw, ph), Image.Resampling.LANCZOS), (px, photo_top))
    _text_lines(draw, rng, (main_x0, photo_top + ph + 16, main_x1, h - 20))  # caption and article text
    return SyntheticPage(_recompress(page, rng), ((px, photo_top, pw, ph),), "screenshot")


def make_single_photo(photo: Image.Image, seed: int) -> SyntheticPage:
    """An ordinary photo file (rescaled, re-compressed): the detector must not split it."""
    rng = random.Random(seed)
    if rng.random() < 0.5:
        f = rng.uniform(0.5, 1.5)
        photo = photo.resize((max(32, round(photo.width * f)), max(32, round(photo.height * f))))
    return SyntheticPage(_recompress(photo, rng), (), "single")


def compose_album_page(photos: Sequence[Image.Image], seed: int) -> Image.Image:
    """An album page / collage image holding `photos` (1 to 9), deterministic from `seed`."""
    return make_album_page(photos, seed).image


def compose_web_screenshot(photo: Image.Image, seed: int) -> Image.Image:
    """A web-page screenshot image with `photo` inside page chrome, deterministic from `seed`."""
    return make_web_screenshot(photo, seed).image


def generate_pages(
    count: int,
    seed: int,
    source: PhotoSource | None = None,
    mix: tuple[float, float, float] = (0.7, 0.15, 0.15),
    min_photos: int = 2,
) -> Iterator[SyntheticPage]:
    """`count` pages: album pages, screenshots and single photos in proportions `mix`.

    Album pages hold `min_photos` to 9 photos. The detector deliberately reports nothing for one photo
    on an otherwise empty page (it cannot tell it from a photo saved with a plain margin), so the
    default leaves such pages out of precision/recall; pass `min_photos=1` to include them.
    """
    source = source or PhotoSource()
    rng = random.Random(seed)
    for _ in range(count):
        page_seed = rng.randrange(2**31)
        kind = rng.choices(["album", "screenshot", "single"], weights=mix)[0]
        if kind == "album":
            photos = [source.photo(rng) for _ in range(rng.randint(min_photos, 9))]
            yield make_album_page(photos, page_seed)
        elif kind == "screenshot":
            yield make_web_screenshot(source.photo(rng), page_seed)
        else:
            yield make_single_photo(source.photo(rng), page_seed)
