"""Sub-photo detector: finds the photos on scanned album pages, collages and web-page screenshots.

Classical image processing with numpy and Pillow on a downscaled copy (longest side `WORK_SIDE`):

1. The page colour is estimated from the outer frame of the image; one side of the frame may be
   covered (a header bar, text close to the edge). An ordinary photo has no uniform frame, so nothing
   is returned for it (the whole file is indexed anyway).
2. A pixel is page when its colour is within the frame's tolerance and its grain (mean step between
   neighbouring pixels before downscaling) is within the frame's range: the flat white background of
   a product shot on grainy paper, or dark textured content on a dark page, is foreground although
   its colour matches. A 3x3 opening removes specks and text-thin strokes.
3. Connected components of the foreground are filled and fitted with a minimum-area rectangle within
   +-`MAX_ANGLE` degrees. Kept: components inside the page margin (not cut by the image edge), big
   enough, with inner detail (not flat panels), and either nearly full rectangles ("strict"),
   rectangles with bites where the photo's content matches the page ("weak", kept only on a page that
   also holds a strict one), or irregular shapes (an object on a background of nearly page colour)
   that straight edges enclose on all four sides: each side is pushed outwards to the first line along
   which the colour steps from the photo to exact page colour. The step is averaged along the line,
   so a few grey levels between a white photo and white paper are enough.
4. A strict rectangle inside a flat margin of nearly page colour (the photo's own background around
   an inner picture) grows to the straight edges of that margin.
5. A uniform printed border (white frame of a print) is trimmed inside the rectangle, so the region
   is the picture itself.

False splits are worse than misses: when in doubt, no region is returned. A lone region is reported
only when it covers at most `_MAX_SINGLE_AREA` of the image and the page holds other content (header,
text): one photo on a plain margin is just that photo.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops

from store.ingestion.masks import along_mean, components, filter3, open3
from store.ingestion.subphoto_fit import EDGE_RUN, Page, fit_rectangle

logger = logging.getLogger(__name__)

WORK_SIDE = 512  # longest side of the working copy, pixels
_FRAME = 0.02  # width of the outer frame used to estimate the page colour, fraction of the long side
_MIN_FRAME_AGREEMENT = 0.55  # fraction of frame pixels (best three sides) that must have the page colour
_MIN_AREA = 0.006  # smallest region area, fraction of the page area
_MAX_SINGLE_AREA = 0.7  # one region covering more of the page than this is just the photo itself
_MIN_CHROME = 0.01  # page content besides a lone photo (header, text) needed to report that photo
# Grain range of the page: [low quantile * _GRAIN_LOW, high quantile * _GRAIN_HIGH + _GRAIN_MARGIN].
_GRAIN_LOW = 0.5
_GRAIN_HIGH = 1.5
_GRAIN_MARGIN = 3.0
_GRAIN_GAIN = 4  # steps are scaled up before averaging to 8-bit working pixels, for precision
_GRAIN_LUT = [min(255, _GRAIN_GAIN * v) for v in range(256)]
_EXACT_MARGIN = 2.0  # grey levels above the frame's own colour spread that still count as exact page
# The page's own steps across straight lines (x _EDGE_NOISE, at least _EDGE_MIN_STEP levels) set the
# step a photo's edge must beat (see store.ingestion.subphoto_fit).
_EDGE_NOISE = 1.2
_EDGE_MIN_STEP = 2.0


@dataclass(frozen=True)
class Region:
    """One photo found on a page.

    `bbox` is (x, y, w, h) in pixels of the analysed image; for a tilted photo it is the axis-aligned
    box around it. `angle` is the tilt in degrees (counter-clockwise positive, 0 if unknown) and
    `score` a confidence in [0, 1].
    """

    bbox: tuple[int, int, int, int]
    angle: float
    score: float


def detect_subphotos(image: Image.Image) -> list[Region]:
    """Photo regions on a page image (already EXIF-transposed); empty for an ordinary single photo.

    Regions are sorted top to bottom, then left to right. Thread-safe (no shared state).
    """
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = rgb.size
    if min(width, height) < 32:
        return []
    scale = min(1.0, WORK_SIDE / max(width, height))
    base = small = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # Integer block averaging first is much faster on camera-sized images; stopping at twice the
        # working size keeps thin gutters as sharp as a single box resize does.
        factor = max(width, height) // (2 * WORK_SIDE)
        if factor >= 2:
            base = rgb.reduce(factor)
        small = base.resize(size, Image.Resampling.BOX, reducing_gap=None)
    sx, sy = width / small.width, height / small.height
    pixels = np.asarray(small, dtype=np.int16)
    page = _page_model(pixels, base)
    if page is None:
        return []
    foreground = open3(~page.like)
    h, w = foreground.shape
    regions = []
    for comp_box, comp_mask in components(foreground, min_pixels=_MIN_AREA * h * w):
        fitted = fit_rectangle(comp_box, comp_mask, page, max(h, w), scale)
        if fitted is not None:
            regions.append(fitted)
    # Parts of one photo may snap to the same edges: keep one copy.
    regions = [r for i, r in enumerate(regions) if all(o[0] != r[0] for o in regions[:i])]
    # Photos on a page never nest: a region around another is a frame or mat, keep the inner picture.
    regions = [r for r in regions if not any(o is not r and _contains(r[0], o[0]) for o in regions)]
    if not any(strict for *_, strict in regions):
        return []
    if len(regions) == 1:
        (x0, y0, x1, y1), *_ = regions[0]
        if (x1 - x0) * (y1 - y0) > _MAX_SINGLE_AREA * h * w:
            return []
        # One photo on an otherwise empty margin is just that photo, not a page holding it.
        inside = foreground[max(0, int(y0) - 2) : int(y1) + 3, max(0, int(x0) - 2) : int(x1) + 3].sum()
        if foreground.sum() - inside < _MIN_CHROME * h * w:
            return []
    result = []
    for (x0, y0, x1, y1), angle, score, _ in regions:
        bx0, by0 = max(0, round(x0 * sx)), max(0, round(y0 * sy))
        bx1, by1 = min(width, round(x1 * sx)), min(height, round(y1 * sy))
        result.append(
            Region((bx0, by0, bx1 - bx0, by1 - by0), round(float(angle), 2), round(float(score), 3))
        )
    result.sort(key=lambda r: (r.bbox[1], r.bbox[0]))
    logger.debug("%d sub-photo regions in %dx%d image", len(result), width, height)
    return result


def _contains(outer: tuple[float, float, float, float], inner: tuple[float, float, float, float]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def _page_model(pixels: np.ndarray, base: Image.Image) -> Page | None:
    """Page colour, grain and edge noise learnt from the outer frame; None for an ordinary photo."""
    found = _page_colour(pixels)
    if found is None:
        return None
    colour, tol = found
    distance = np.abs(pixels - colour).max(axis=2)
    coloured = distance <= tol
    grain = _grain(base, (pixels.shape[1], pixels.shape[0]))
    smooth = filter3(grain, np.add) / 9
    on_frame = _frame(coloured)  # most of the frame, as `_page_colour` checked
    low = np.percentile(_frame(smooth)[on_frame], 1) * _GRAIN_LOW
    high = np.percentile(_frame(grain)[on_frame], 99) * _GRAIN_HIGH + _GRAIN_MARGIN
    # Thin lines of high grain are the edges of photos, not texture.
    like = coloured & (smooth >= low) & (filter3(grain, np.minimum) <= high)
    exact_tol = np.percentile(_frame(distance)[_frame(like)], 99.5) + _EXACT_MARGIN
    return Page(pixels, like, like & (distance <= exact_tol), _edge_noise(pixels, like))


def _page_colour(pixels: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Dominant colour of the outer frame and a tolerance from its texture; None if the frame varies."""
    h, w, _ = pixels.shape
    b = max(2, round(_FRAME * max(h, w)))
    sides = [
        pixels[:b].reshape(-1, 3),
        pixels[-b:].reshape(-1, 3),
        pixels[b:-b, :b].reshape(-1, 3),
        pixels[b:-b, -b:].reshape(-1, 3),
    ]
    frame = np.concatenate(sides)
    bins = (frame // 32).astype(np.int32)
    keys = bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2]
    mode = np.bincount(keys, minlength=512).argmax()
    centre = np.array([mode // 64, (mode // 8) % 8, mode % 8]) * 32 + 16
    near = frame[np.abs(frame - centre).max(axis=1) <= 40]
    colour = np.median(near, axis=0)
    spread = np.abs(frame - colour).max(axis=1)
    inliers = spread[spread <= 40]
    tol = float(np.clip(2.5 * np.percentile(inliers, 95) + 5.0, 9.0, 40.0))
    # One side may be covered (a header bar, text running close to the edge).
    shares = sorted(((np.abs(side - colour).max(axis=1) <= tol).mean(), len(side)) for side in sides)
    agreement = sum(share * n for share, n in shares[1:]) / max(1, sum(n for _, n in shares[1:]))
    if agreement < _MIN_FRAME_AGREEMENT:
        return None
    return colour.astype(np.int16), tol


def _frame(values: np.ndarray) -> np.ndarray:
    """The outer frame of an (h, w, ...) array as one run of elements."""
    h, w = values.shape[:2]
    b = max(2, round(_FRAME * max(h, w)))
    rest = values.shape[2:]
    parts = [values[:b], values[-b:], values[b:-b, :b], values[b:-b, -b:]]
    return np.concatenate([p.reshape(-1, *rest) for p in parts])


def _grain(base: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """Mean absolute step between neighbouring pixels of `base` (grey levels), per working pixel."""
    grey = base.convert("L")
    dx = ImageChops.difference(grey, ImageChops.offset(grey, 1, 0))
    dy = ImageChops.difference(grey, ImageChops.offset(grey, 0, 1))
    steps = ImageChops.add(dx, dy).point(_GRAIN_LUT)
    return np.asarray(steps.resize(size, Image.Resampling.BOX), dtype=np.float32) / _GRAIN_GAIN


def _edge_noise(pixels: np.ndarray, like: np.ndarray) -> float:
    """Smallest step across a straight line (see `_edge_offset`) that the page's texture stays below."""
    h, w = like.shape
    b = max(4, round(_FRAME * max(h, w)))
    a = pixels.astype(np.float32)
    values = []
    # Steps across rows in the top and bottom strips, across columns in the left and right ones.
    for strip, ok in (
        (a[:b], like[:b]),
        (a[-b:], like[-b:]),
        (a[:, :b].transpose(1, 0, 2), like[:, :b].T),
        (a[:, -b:].transpose(1, 0, 2), like[:, -b:].T),
    ):
        step = np.abs(along_mean(strip[2:] - strip[:-2], EDGE_RUN)).max(axis=2)
        values.append(step[ok[2:] & ok[:-2]])
    flat = np.concatenate(values)
    if flat.size == 0:
        return _EDGE_MIN_STEP
    return max(_EDGE_MIN_STEP, _EDGE_NOISE * float(np.percentile(flat, 99)))
