"""Sub-photo detector: finds the photos on scanned album pages, collages and web-page screenshots.

Classical image processing with numpy and Pillow on a downscaled copy (longest side `WORK_SIDE`):

1. The page colour is estimated from the outer frame of the image. An ordinary photo has no uniform
   frame, so nothing is returned for it (the whole file is indexed anyway).
2. Pixels that differ from the page colour by more than the page's own texture are foreground; a
   3x3 opening removes specks and text-thin strokes.
3. Connected components of the foreground are filled and fitted with a minimum-area rectangle within
   +-`MAX_ANGLE` degrees. Kept: components inside the page margin (not cut by the image edge), big
   enough, with inner detail (not flat panels), and either nearly full rectangles ("strict") or
   rectangles with bites where the photo's content matches the page ("weak", kept only on a page that
   also holds a strict one).
4. A uniform printed border (white frame of a print) is trimmed inside the rectangle, so the region
   is the picture itself.

False splits are worse than misses: when in doubt, no region is returned. A lone region is reported
only when it covers at most `_MAX_SINGLE_AREA` of the image and the page holds other content (header,
text): one photo on a plain margin is just that photo.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

WORK_SIDE = 512  # longest side of the working copy, pixels
MAX_ANGLE = 5.0  # largest tilt searched for, degrees
_ANGLE_STEP = 0.25
_FRAME = 0.02  # width of the outer frame used to estimate the page colour, fraction of the long side
_MIN_FRAME_AGREEMENT = 0.55  # fraction of frame pixels that must have the page colour
_MIN_SIDE = 0.05  # smallest region side, fraction of the page's long side
_MIN_SIDE_PX = 48  # smallest region side in pixels of the original image: smaller crops are useless
_MIN_AREA = 0.006  # smallest region area, fraction of the page area
_MIN_FILL = 0.92  # region pixels / area of the fitted rectangle
_MIN_FILL_SUPPORTED = 0.7  # lower fill accepted when every side of the rectangle is mostly outlined
_MIN_SIDE_SUPPORT = 0.6
# Weaker shapes (a photo whose content partly matches the page) are kept only beside a strict region.
_MIN_FILL_WEAK = 0.8
_MIN_SIDE_SUPPORT_WEAK = 0.5  # on at least three sides
_MAX_HOLES = 0.25  # page-coloured pixels inside a region (text blocks, outlines have many)
_MIN_DETAIL = 1.5  # mean absolute colour step inside a region; flat panels and bars have less
_MAX_SINGLE_AREA = 0.7  # one region covering more of the page than this is just the photo itself
_MIN_CHROME = 0.01  # page content besides a lone photo (header, text) needed to report that photo
_MAX_BORDER = 0.12  # thickest trimmed print border, fraction of the region side


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
    small = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # Integer block averaging first is much faster on camera-sized images; stopping at twice the
        # working size keeps thin gutters as sharp as a single box resize does.
        factor = max(width, height) // (2 * WORK_SIDE)
        if factor >= 2:
            small = rgb.reduce(factor)
        small = small.resize(size, Image.Resampling.BOX, reducing_gap=None)
    sx, sy = width / small.width, height / small.height
    pixels = np.asarray(small, dtype=np.int16)
    page = _page_colour(pixels)
    if page is None:
        return []
    colour, tol = page
    distance = np.abs(pixels - colour).max(axis=2)
    foreground = _open3(distance > tol)
    h, w = foreground.shape
    regions = []
    for comp_box, comp_mask in _components(foreground, min_pixels=_MIN_AREA * h * w):
        fitted = _fit_rectangle(comp_box, comp_mask, pixels, distance <= tol, max(h, w), scale)
        if fitted is not None:
            regions.append(fitted)
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


def _page_colour(pixels: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Dominant colour of the outer frame and a tolerance from its texture; None if the frame varies."""
    h, w, _ = pixels.shape
    b = max(2, round(_FRAME * max(h, w)))
    frame = np.concatenate(
        [
            pixels[:b].reshape(-1, 3),
            pixels[-b:].reshape(-1, 3),
            pixels[b:-b, :b].reshape(-1, 3),
            pixels[b:-b, -b:].reshape(-1, 3),
        ]
    )
    bins = (frame // 32).astype(np.int32)
    keys = bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2]
    mode = np.bincount(keys, minlength=512).argmax()
    centre = np.array([mode // 64, (mode // 8) % 8, mode % 8]) * 32 + 16
    near = frame[np.abs(frame - centre).max(axis=1) <= 40]
    colour = np.median(near, axis=0)
    spread = np.abs(frame - colour).max(axis=1)
    inliers = spread[spread <= 40]
    tol = float(np.clip(2.5 * np.percentile(inliers, 95) + 5.0, 9.0, 40.0))
    agreement = float((spread <= tol).mean())
    if agreement < _MIN_FRAME_AGREEMENT:
        return None
    return colour.astype(np.int16), tol


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
    pixels: np.ndarray,
    page_like: np.ndarray,
    long_side: int,
    work_scale: float,
) -> tuple[tuple[float, float, float, float], float, float, bool] | None:
    """Axis-aligned box (working pixels), angle, score and strictness of a photo-shaped component.

    None when the component is not photo-shaped. Strict shapes are nearly full rectangles; weak ones
    have bites along their outline and count only on pages that also hold a strict region.
    """
    x0, y0, x1, y1 = box
    if min(x1 - x0, y1 - y0) < max(_MIN_SIDE * long_side, _MIN_SIDE_PX * work_scale):
        return None
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
    # Image y points down, so a counter-clockwise tilt of `angle` maps (x, y) -> u = x cos + y sin.
    u = xs[:, None] * _COS[None, :] - ys[:, None] * _SIN[None, :]
    v = xs[:, None] * _SIN[None, :] + ys[:, None] * _COS[None, :]
    extent_u = u.max(axis=0) - u.min(axis=0) + 1
    extent_v = v.max(axis=0) - v.min(axis=0) + 1
    rect_areas = extent_u * extent_v
    best = int(rect_areas.argmin())
    fill = area / rect_areas[best]
    support = sorted(_side_support(u[:, best], v[:, best]))
    strict = fill >= _MIN_FILL or (fill >= _MIN_FILL_SUPPORTED and support[0] >= _MIN_SIDE_SUPPORT)
    if not strict and (fill < _MIN_FILL_WEAK or support[1] < _MIN_SIDE_SUPPORT_WEAK):
        logger.debug("component %s rejected: fill %.3f support %s", box, fill, np.round(support, 2))
        return None
    holes = float(page_like[y0:y1, x0:x1][filled].mean())
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
    angle = float(_ANGLES[best])
    cos, sin = _COS[best], _SIN[best]
    u0, u1 = u[:, best].min() - 0.5, u[:, best].max() + 0.5
    v0, v1 = v[:, best].min() - 0.5, v[:, best].max() + 0.5
    u0, u1, v0, v1 = _trim_border(crop, (u0, u1, v0, v1), cos, sin)
    # Back to image coordinates: x = u cos + v sin, y = -u sin + v cos (inverse rotation).
    us = np.array([u0, u1, u1, u0])
    vs = np.array([v0, v0, v1, v1])
    px = us * cos + vs * sin + x0
    py = -us * sin + vs * cos + y0
    bx0, bx1 = max(0.0, px.min() + 0.5), min(float(pixels.shape[1]), px.max() + 0.5)
    by0, by1 = max(0.0, py.min() + 0.5), min(float(pixels.shape[0]), py.max() + 0.5)
    score = float(np.clip((fill - _MIN_FILL_WEAK) / (1 - _MIN_FILL_WEAK), 0, 1)) * 0.5 + 0.5 * strict
    return (bx0, by0, bx1, by1), angle, score, strict


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


def _trim_border(
    crop: np.ndarray, rect: tuple[float, float, float, float], cos: float, sin: float
) -> tuple[float, float, float, float]:
    """Shrink the rectangle (u0, u1, v0, v1) by a uniform print border of one colour on >= 3 sides."""
    u0, u1, v0, v1 = rect
    nu, nv = round(u1 - u0), round(v1 - v0)
    if min(nu, nv) < 12:
        return rect
    uu = u0 + 0.5 + np.arange(nu)
    vv = v0 + 0.5 + np.arange(nv)
    gx = uu[None, :] * cos + vv[:, None] * sin
    gy = -uu[None, :] * sin + vv[:, None] * cos
    ix = np.clip(np.rint(gx).astype(int), 0, crop.shape[1] - 1)
    iy = np.clip(np.rint(gy).astype(int), 0, crop.shape[0] - 1)
    patch = crop[iy, ix]  # deskewed, nv x nu x 3
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
