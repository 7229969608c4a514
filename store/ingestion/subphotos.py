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

logger = logging.getLogger(__name__)

_Rect = tuple[float, float, float, float]  # (u0, u1, v0, v1) in rotated working coordinates

WORK_SIDE = 512  # longest side of the working copy, pixels
MAX_ANGLE = 5.0  # largest tilt searched for, degrees
_ANGLE_STEP = 0.25
_FRAME = 0.02  # width of the outer frame used to estimate the page colour, fraction of the long side
_MIN_FRAME_AGREEMENT = 0.55  # fraction of frame pixels (best three sides) that must have the page colour
_MIN_SIDE = 0.05  # smallest region side, fraction of the page's long side
_MIN_SIDE_PX = 48  # smallest region side in pixels of the original image: smaller crops are useless
_MIN_AREA = 0.006  # smallest region area, fraction of the page area
_MIN_FILL = 0.92  # region pixels / area of the fitted rectangle
_MIN_FILL_SUPPORTED = 0.7  # lower fill accepted when every side of the rectangle is mostly outlined
_MIN_SIDE_SUPPORT = 0.6
# Weaker shapes (a photo whose content partly matches the page) are kept only beside a strict region.
_MIN_FILL_WEAK = 0.8
_MIN_SIDE_SUPPORT_WEAK = 0.5  # on at least three sides
_MAX_HOLES = 0.25  # exact page colour inside a region (text blocks, outlines have much)
_MIN_DETAIL = 1.5  # mean absolute colour step inside a region; flat panels and bars have less
_MAX_SINGLE_AREA = 0.7  # one region covering more of the page than this is just the photo itself
_MIN_CHROME = 0.01  # page content besides a lone photo (header, text) needed to report that photo
_MAX_BORDER = 0.12  # thickest trimmed print border, fraction of the region side
# Grain range of the page: [low quantile * _GRAIN_LOW, high quantile * _GRAIN_HIGH + _GRAIN_MARGIN].
_GRAIN_LOW = 0.5
_GRAIN_HIGH = 1.5
_GRAIN_MARGIN = 3.0
_GRAIN_GAIN = 4  # steps are scaled up before averaging to 8-bit working pixels, for precision
_GRAIN_LUT = [min(255, _GRAIN_GAIN * v) for v in range(256)]
_EXACT_MARGIN = 2.0  # grey levels above the frame's own colour spread that still count as exact page
# Straight edges: a step across a line must beat the page's own steps (x _EDGE_NOISE, at least
# _EDGE_MIN_STEP levels) in at least _EDGE_EVIDENCE of the positions along it, averaged over
# _EDGE_RUN pixels.
_EDGE_NOISE = 1.2
_EDGE_MIN_STEP = 2.0
_EDGE_EVIDENCE = 0.7
_EDGE_RUN = 7
_SNAP_DEPTH = 0.5  # farthest edge searched around an irregular component, fraction of its long side
_GROW_DEPTH = 0.3  # widest margin grown into, fraction of the region's long side
_MARGINLESS = 0.9  # share of exact page colour right outside a side that has no margin
_GROW_MAX_PAGE = 0.3  # exact page colour allowed in the grown margin
_GROW_FLAT = 12  # grey levels around the margin's median colour ...
_GROW_MIN_FLAT = 0.8  # ... that this share of the margin stays within


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


@dataclass(frozen=True)
class _Page:
    """What the page looks like at working resolution."""

    pixels: np.ndarray  # h x w x 3, int16
    like: np.ndarray  # page colour and grain: everything else is content
    exact: np.ndarray  # also within the frame's own colour spread: a near-white photo margin is not
    step: float  # colour step across a straight line that the page's own texture does not reach


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
    foreground = _open3(~page.like)
    h, w = foreground.shape
    regions = []
    for comp_box, comp_mask in _components(foreground, min_pixels=_MIN_AREA * h * w):
        fitted = _fit_rectangle(comp_box, comp_mask, page, max(h, w), scale)
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


def _page_model(pixels: np.ndarray, base: Image.Image) -> _Page | None:
    """Page colour, grain and edge noise learnt from the outer frame; None for an ordinary photo."""
    found = _page_colour(pixels)
    if found is None:
        return None
    colour, tol = found
    distance = np.abs(pixels - colour).max(axis=2)
    coloured = distance <= tol
    grain = _grain(base, (pixels.shape[1], pixels.shape[0]))
    smooth = _filter3(grain, np.add) / 9
    on_frame = _frame(coloured)  # most of the frame, as `_page_colour` checked
    low = np.percentile(_frame(smooth)[on_frame], 1) * _GRAIN_LOW
    high = np.percentile(_frame(grain)[on_frame], 99) * _GRAIN_HIGH + _GRAIN_MARGIN
    # Thin lines of high grain are the edges of photos, not texture.
    like = coloured & (smooth >= low) & (_filter3(grain, np.minimum) <= high)
    exact_tol = np.percentile(_frame(distance)[_frame(like)], 99.5) + _EXACT_MARGIN
    return _Page(pixels, like, like & (distance <= exact_tol), _edge_noise(pixels, like))


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


def _filter3(values: np.ndarray, combine: np.ufunc) -> np.ndarray:
    """`combine` (np.add, np.minimum) over each 3x3 neighbourhood, edges replicated."""
    p = np.pad(values, 1, mode="edge")
    h, w = values.shape
    out = values.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                combine(out, p[dy : dy + h, dx : dx + w], out=out)
    return out


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
        step = np.abs(_along_mean(strip[2:] - strip[:-2], _EDGE_RUN)).max(axis=2)
        values.append(step[ok[2:] & ok[:-2]])
    flat = np.concatenate(values)
    if flat.size == 0:
        return _EDGE_MIN_STEP
    return max(_EDGE_MIN_STEP, _EDGE_NOISE * float(np.percentile(flat, 99)))


def _along_mean(values: np.ndarray, run: int) -> np.ndarray:
    """Running mean over `run` elements along axis 1 (shorter at the ends)."""
    c = np.cumsum(np.pad(values, [(0, 0), (1, 0)] + [(0, 0)] * (values.ndim - 2)), axis=1)
    n = values.shape[1]
    hi = np.minimum(np.arange(n) + run // 2 + 1, n)
    lo = np.maximum(np.arange(n) - run // 2, 0)
    return (c[:, hi] - c[:, lo]) / (hi - lo).reshape((1, n) + (1,) * (values.ndim - 2))


def _shift_and(mask: np.ndarray) -> np.ndarray:
    """3x3 erosion (pixels outside the image count as background)."""
    p = np.pad(mask, 1, constant_values=False)
    out = p[1:-1, 1:-1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out &= p[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


def _shift_or(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation."""
    p = np.pad(mask, 1, constant_values=False)
    out = p[1:-1, 1:-1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out |= p[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


def _open3(mask: np.ndarray) -> np.ndarray:
    return _shift_or(_shift_and(mask))


def _components(mask: np.ndarray, min_pixels: float) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """8-connected components of `mask` with at least `min_pixels` pixels: (x0, y0, x1, y1) and crop mask.

    Labels horizontal runs rather than pixels and merges overlapping runs of adjacent rows with a
    vectorised union-find, which keeps it fast in numpy without scipy.
    """
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)  # exclusive; row-major order matches the starts
    n = rows.size
    if n == 0:
        return []
    stride = w + 2
    key_start = rows * stride + starts
    key_end = rows * stride + ends
    # Runs of row r-1 that touch run i of row r (8-connectivity): end >= start_i and start <= end_i.
    above = rows - 1
    lo = np.searchsorted(key_end, above * stride + starts, side="left")
    hi = np.searchsorted(key_start, above * stride + ends, side="right")
    counts = np.clip(hi - lo, 0, None)
    counts[rows == 0] = 0
    total = int(counts.sum())
    parent = np.arange(n)
    if total:
        b = np.repeat(np.arange(n), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        a = np.repeat(lo, counts) + offsets
        while True:
            pa, pb = parent[a], parent[b]
            if np.array_equal(pa, pb):
                break
            np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
            while True:
                jumped = parent[parent]
                if np.array_equal(jumped, parent):
                    break
                parent = jumped
    labels, inverse = np.unique(parent, return_inverse=True)
    lengths = ends - starts
    sizes = np.bincount(inverse, weights=lengths, minlength=labels.size)
    result = []
    for label in np.nonzero(sizes >= min_pixels)[0]:
        sel = inverse == label
        r, s, e = rows[sel], starts[sel], ends[sel]
        x0, y0, x1, y1 = int(s.min()), int(r.min()), int(e.max()), int(r.max()) + 1
        crop = np.zeros((y1 - y0, x1 - x0 + 1), dtype=np.int8)
        np.add.at(crop, (r - y0, s - x0), 1)
        np.add.at(crop, (r - y0, e - x0), -1)
        result.append(((x0, y0, x1, y1), np.cumsum(crop, axis=1)[:, :-1] > 0))
    return result


def _span_fill(mask: np.ndarray) -> np.ndarray:
    """Fill between the first and last pixel of every row and every column (holes of convex shapes)."""
    h, w = mask.shape
    cols = np.arange(w)
    rows = np.arange(h)
    any_r = mask.any(axis=1)
    left = np.where(any_r, mask.argmax(axis=1), w)
    right = np.where(any_r, w - 1 - mask[:, ::-1].argmax(axis=1), -1)
    by_rows = (cols[None, :] >= left[:, None]) & (cols[None, :] <= right[:, None])
    any_c = mask.any(axis=0)
    top = np.where(any_c, mask.argmax(axis=0), h)
    bottom = np.where(any_c, h - 1 - mask[::-1].argmax(axis=0), -1)
    by_cols = (rows[:, None] >= top[None, :]) & (rows[:, None] <= bottom[None, :])
    return by_rows & by_cols


_ANGLES = np.arange(-MAX_ANGLE, MAX_ANGLE + _ANGLE_STEP / 2, _ANGLE_STEP)
_COS, _SIN = np.cos(np.deg2rad(_ANGLES)), np.sin(np.deg2rad(_ANGLES))


def _fit_rectangle(
    box: tuple[int, int, int, int],
    mask: np.ndarray,
    page: _Page,
    long_side: int,
    work_scale: float,
) -> tuple[tuple[float, float, float, float], float, float, bool] | None:
    """Axis-aligned box (working pixels), angle, score and strictness of a photo-shaped component.

    None when the component is not photo-shaped. Strict shapes are nearly full rectangles or lie inside
    straight edges on all sides; weak ones have bites along their outline and count only on pages that
    also hold a strict region.
    """
    x0, y0, x1, y1 = box
    if min(x1 - x0, y1 - y0) < max(_MIN_SIDE * long_side, _MIN_SIDE_PX * work_scale):
        return None
    pixels = page.pixels
    page_h, page_w = pixels.shape[:2]
    if x0 <= 0 or y0 <= 0 or x1 >= page_w or y1 >= page_h:
        # Photos on a page sit inside its margin; shapes cut by the image edge are parts of a scene
        # (and header bars, panels) far more often than full-bleed photos.
        logger.debug("component %s rejected: touches the image edge", box)
        return None
    filled = _span_fill(mask)
    area = int(filled.sum())
    edge = filled & ~_shift_and(filled)
    ys, xs = np.nonzero(edge)
    # Image y points down, so a counter-clockwise tilt of `angle` maps (x, y) -> u = x cos - y sin.
    # Coordinates are of the whole working image, so that the rectangle can be followed outside `box`.
    xs, ys = xs + x0, ys + y0
    u = xs[:, None] * _COS[None, :] - ys[:, None] * _SIN[None, :]
    v = xs[:, None] * _SIN[None, :] + ys[:, None] * _COS[None, :]
    extent_u = u.max(axis=0) - u.min(axis=0) + 1
    extent_v = v.max(axis=0) - v.min(axis=0) + 1
    rect_areas = extent_u * extent_v
    best = int(rect_areas.argmin())
    fill = area / rect_areas[best]
    support = sorted(_side_support(u[:, best], v[:, best]))
    strict = fill >= _MIN_FILL or (fill >= _MIN_FILL_SUPPORTED and support[0] >= _MIN_SIDE_SUPPORT)
    angle = float(_ANGLES[best])
    cos, sin = _COS[best], _SIN[best]
    rect = (u[:, best].min() - 0.5, u[:, best].max() + 0.5, v[:, best].min() - 0.5, v[:, best].max() + 0.5)
    snapped = not strict and (fill < _MIN_FILL_WEAK or support[1] < _MIN_SIDE_SUPPORT_WEAK)
    if snapped:
        found = _snap_to_edges(page, rect, cos, sin)
        if found is None:
            logger.debug("component %s rejected: fill %.3f support %s", box, fill, np.round(support, 2))
            return None
        rect, strict = found, True
        patch = _deskew(pixels, rect, cos, sin)[2:-2, 2:-2]
        detail = float(np.abs(patch[1:] - patch[:-1]).max(axis=2).mean())
    else:
        holes = float(page.exact[y0:y1, x0:x1][filled].mean())
        if holes > _MAX_HOLES:
            logger.debug("component %s rejected: holes %.3f", box, holes)
            return None
        crop = pixels[y0:y1, x0:x1]
        core = _shift_and(_shift_and(filled))  # the outline's step against the page is not detail
        inner = core[1:, :] & core[:-1, :]
        detail = float(np.abs(crop[1:, :] - crop[:-1, :]).max(axis=2)[inner].mean()) if inner.any() else 0.0
    if detail < _MIN_DETAIL:
        logger.debug("component %s rejected: detail %.2f", box, detail)
        return None
    if not snapped:
        rect = _grow_to_margin(page, rect, cos, sin)
    u0, u1, v0, v1 = _trim_border(pixels, rect, cos, sin)
    # Back to image coordinates: x = u cos + v sin, y = -u sin + v cos (inverse rotation).
    us = np.array([u0, u1, u1, u0])
    vs = np.array([v0, v0, v1, v1])
    px = us * cos + vs * sin
    py = -us * sin + vs * cos
    if snapped and (px.min() < 1 or py.min() < 1 or px.max() > page_w - 1 or py.max() > page_h - 1):
        return None  # like a component, a snapped rectangle must not be cut by the image edge
    bx0, bx1 = max(0.0, px.min() + 0.5), min(float(page_w), px.max() + 0.5)
    by0, by1 = max(0.0, py.min() + 0.5), min(float(page_h), py.max() + 0.5)
    score = float(np.clip((fill - _MIN_FILL_WEAK) / (1 - _MIN_FILL_WEAK), 0, 1)) * 0.5 + 0.5 * strict
    return (bx0, by0, bx1, by1), angle, score, strict


def _snap_to_edges(page: _Page, rect: _Rect, cos: float, sin: float) -> _Rect | None:
    """The rectangle of straight edges around an irregular component's rectangle; None if not closed."""
    u0, u1, v0, v1 = rect
    depth = max(8, round(_SNAP_DEPTH * max(u1 - u0, v1 - v0)))
    grown = []
    for side in range(4):
        offset = _edge_offset(page, rect, side, cos, sin, -1, depth)
        if offset is None:
            return None
        grown.append(offset)
    snapped = (u0 - grown[2], u1 + grown[3], v0 - grown[0], v1 + grown[1])
    # The sides were found along the component's extent; each must run along the whole new side.
    if any(_edge_offset(page, snapped, side, cos, sin, -1, 2) is None for side in range(4)):
        return None
    return snapped


def _grow_to_margin(page: _Page, rect: _Rect, cos: float, sin: float) -> _Rect:
    """`rect` grown to the straight outer edges of a flat margin of nearly page colour around it."""
    u0, u1, v0, v1 = rect
    depth = max(8, round(_GROW_DEPTH * max(u1 - u0, v1 - v0)))
    grown = []
    for side in range(4):
        outside = _side_rows(page, rect, side, cos, sin, np.arange(1.0, 3.0))[1]
        if outside.mean() >= _MARGINLESS:
            grown.append(0)
        else:  # skip the rectangle's own edge
            grown.append(_edge_offset(page, rect, side, cos, sin, 2, depth) or 0)
    if not any(grown):
        return rect
    new = (u0 - grown[2], u1 + grown[3], v0 - grown[0], v1 + grown[1])
    if any(_edge_offset(page, new, side, cos, sin, -1, 2) is None for side in range(4)):
        return rect
    ring = np.ones((round(new[3] - new[2]), round(new[1] - new[0])), bool)
    ring[grown[0] : ring.shape[0] - grown[1], grown[2] : ring.shape[1] - grown[3]] = False
    # A margin is the photo's own background: flat and not page (text beside a photo is neither).
    if _deskew(page.exact, new, cos, sin)[ring].mean() > _GROW_MAX_PAGE:
        return rect
    colours = _deskew(page.pixels, new, cos, sin)[ring]
    flat = (np.abs(colours - np.median(colours, axis=0)).max(axis=1) <= _GROW_FLAT).mean()
    if flat < _GROW_MIN_FLAT:
        return rect
    logger.debug("rectangle %s grown by %s to its margin", np.round(rect, 1), grown)
    return new


def _side_rows(
    page: _Page, rect: _Rect, side: int, cos: float, sin: float, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Colours, exact-page flags and validity of `rows` of pixels along side 0-3 (top, bottom, left,
    right) of `rect`: row 0 is the outermost row inside, row 1 the first outside, and so on."""
    u0, u1, v0, v1 = rect
    lo, hi = (u0, u1) if side < 2 else (v0, v1)
    along = np.arange(lo + 0.5, hi, 1.0)[None, :]
    across = rows[:, None]
    if side == 0:
        uu, vv = along, v0 + 0.5 - across
    elif side == 1:
        uu, vv = along, v1 - 0.5 + across
    elif side == 2:
        uu, vv = u0 + 0.5 - across, along
    else:
        uu, vv = u1 - 0.5 + across, along
    ix = np.rint(uu * cos + vv * sin).astype(int)
    iy = np.rint(-uu * sin + vv * cos).astype(int)
    h, w = page.like.shape
    valid = (ix >= 0) & (iy >= 0) & (ix < w) & (iy < h)
    ix, iy = np.clip(ix, 0, w - 1), np.clip(iy, 0, h - 1)
    return page.pixels[iy, ix].astype(np.float32), page.exact[iy, ix] & valid, valid


def _edge_offset(
    page: _Page, rect: _Rect, side: int, cos: float, sin: float, first: int, last: int
) -> int | None:
    """Whole pixels from side 0-3 of `rect` outwards (`first` to `last`) to the first straight edge
    between content and exact page colour; None if there is none."""
    colours, exact, valid = _side_rows(page, rect, side, cos, sin, np.arange(first - 2.0, last + 3.0))
    # Offset k: row k-1 inside, k+1 outside, row k may straddle the edge. The step is averaged along
    # the edge, which evens out page noise; across it, two pixels apart, slow paper shading barely counts.
    n = len(colours) - 4
    step = np.abs(_along_mean(colours[1 : 1 + n] - colours[3 : 3 + n], _EDGE_RUN)).max(axis=2)
    hit = (step > page.step) & exact[3 : 3 + n] & exact[4 : 4 + n] & valid[1 : 1 + n]
    evidence = hit.mean(axis=1)
    good = np.nonzero(evidence >= _EDGE_EVIDENCE)[0]
    if good.size == 0:
        return None
    end = good[0]
    while end + 1 < n and evidence[end + 1] >= _EDGE_EVIDENCE:
        end += 1
    # A row straddling the edge counts as inside.
    return int(np.ceil((good[0] + end) / 2 + first - 0.5))


def _deskew(values: np.ndarray, rect: _Rect, cos: float, sin: float) -> np.ndarray:
    """The elements of `values` (h x w [x c]) inside `rect` resampled upright (nearest neighbour)."""
    u0, u1, v0, v1 = rect
    uu = u0 + 0.5 + np.arange(max(1, round(u1 - u0)))
    vv = v0 + 0.5 + np.arange(max(1, round(v1 - v0)))
    ix = np.clip(np.rint(uu[None, :] * cos + vv[:, None] * sin).astype(int), 0, values.shape[1] - 1)
    iy = np.clip(np.rint(-uu[None, :] * sin + vv[:, None] * cos).astype(int), 0, values.shape[0] - 1)
    return values[iy, ix]


def _side_support(u: np.ndarray, v: np.ndarray) -> list[float]:
    """Fraction of each side of the fitted rectangle that the component's outline actually runs along.

    A photo whose content partly matches the page colour loses bites of its outline but keeps long
    straight stretches of all four sides; an irregular object touches its bounding rectangle only here
    and there.
    """
    result = []
    for along, across in ((v, u), (u, v)):
        lo, hi = along.min(), along.max()
        length = max(1, int(np.ceil(hi - lo)) + 1)
        for side in (across.min(), across.max()):
            near = np.abs(across - side) <= 1.5
            covered = np.unique(np.rint(along[near] - lo).astype(int))
            result.append(covered.size / length)
    return result


def _trim_border(pixels: np.ndarray, rect: _Rect, cos: float, sin: float) -> _Rect:
    """Shrink the rectangle (u0, u1, v0, v1) by a uniform print border of one colour on >= 3 sides."""
    u0, u1, v0, v1 = rect
    if min(round(u1 - u0), round(v1 - v0)) < 12:
        return rect
    patch = _deskew(pixels, rect, cos, sin)
    sides = {
        "top": patch,
        "bottom": patch[::-1],
        "left": patch.transpose(1, 0, 2),
        "right": patch.transpose(1, 0, 2)[::-1],
    }
    found: dict[str, tuple[int, np.ndarray]] = {}
    for name, lines in sides.items():
        width = _border_width(lines)
        if width:
            found[name] = width
    if len(found) < 3:
        return rect
    colours = np.array([c for _, c in found.values()])
    if np.abs(colours - colours.mean(axis=0)).max() > 24:
        return rect
    t = found.get("top", (0, None))[0]
    bo = found.get("bottom", (0, None))[0]
    le = found.get("left", (0, None))[0]
    ri = found.get("right", (0, None))[0]
    return u0 + le, u1 - ri, v0 + t, v1 - bo


def _border_width(lines: np.ndarray) -> tuple[int, np.ndarray] | None:
    """Width of a uniform band at the start of `lines` (rows of a patch) and its colour, or None."""
    n, length, _ = lines.shape
    limit = max(2, int(_MAX_BORDER * n))
    core = lines[: limit + 2, length // 10 : length - length // 10].astype(np.float32)
    means = core.mean(axis=1)
    spread = np.abs(core - means[:, None, :]).max(axis=2)
    uniform = (spread >= 18).mean(axis=1) <= 0.1  # 90 % of the line within 18 levels of its mean
    if not uniform[1]:
        return None
    colour = means[1]
    k = 1
    while k < limit + 2 and uniform[k] and np.abs(means[k] - colour).max() < 20:
        k += 1
    if k >= limit + 1 or k < 3:  # too thick: uniform picture content, not a border
        return None
    # A print border ends at the picture edge along its whole length; a plain picture background
    # (object photographed on white) fades into the object here and there.
    if (np.abs(core[k] - colour).max(axis=1) > 30).mean() < 0.5:
        return None
    return k, colour
