"""Fitting a photo's rectangle to a foreground component of a page (store.ingestion.subphotos):
a minimum-area rectangle within +-MAX_ANGLE degrees, pushed out to straight edges around irregular
shapes, grown to a flat margin, with a printed border trimmed; or None when the component is no photo.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from store.ingestion.masks import along_mean, erode3, span_fill

logger = logging.getLogger(__name__)

_Rect = tuple[float, float, float, float]  # (u0, u1, v0, v1) in rotated working coordinates

MAX_ANGLE = 5.0  # largest tilt searched for, degrees
_ANGLE_STEP = 0.25
_MIN_SIDE = 0.05  # smallest region side, fraction of the page's long side
_MIN_SIDE_PX = 48  # smallest region side in pixels of the original image: smaller crops are useless
_MIN_FILL = 0.92  # region pixels / area of the fitted rectangle
_MIN_FILL_SUPPORTED = 0.7  # lower fill accepted when every side of the rectangle is mostly outlined
_MIN_SIDE_SUPPORT = 0.6
# Weaker shapes (a photo whose content partly matches the page) are kept only beside a strict region.
_MIN_FILL_WEAK = 0.8
_MIN_SIDE_SUPPORT_WEAK = 0.5  # on at least three sides
_MAX_HOLES = 0.25  # exact page colour inside a region (text blocks, outlines have much)
_MIN_DETAIL = 1.5  # mean absolute colour step inside a region; flat panels and bars have less
_MAX_BORDER = 0.12  # thickest trimmed print border, fraction of the region side
# Straight edges: a step across a line must beat the page's own steps (Page.step) in at least
# _EDGE_EVIDENCE of the positions along it, averaged over EDGE_RUN pixels.
_EDGE_EVIDENCE = 0.7
EDGE_RUN = 7
_SNAP_DEPTH = 0.5  # farthest edge searched around an irregular component, fraction of its long side
_GROW_DEPTH = 0.3  # widest margin grown into, fraction of the region's long side
_MARGINLESS = 0.9  # share of exact page colour right outside a side that has no margin
_GROW_MAX_PAGE = 0.3  # exact page colour allowed in the grown margin
_GROW_FLAT = 12  # grey levels around the margin's median colour ...
_GROW_MIN_FLAT = 0.8  # ... that this share of the margin stays within


@dataclass(frozen=True)
class Page:
    """What the page looks like at working resolution."""

    pixels: np.ndarray  # h x w x 3, int16
    like: np.ndarray  # page colour and grain: everything else is content
    exact: np.ndarray  # also within the frame's own colour spread: a near-white photo margin is not
    step: float  # colour step across a straight line that the page's own texture does not reach


_ANGLES = np.arange(-MAX_ANGLE, MAX_ANGLE + _ANGLE_STEP / 2, _ANGLE_STEP)
_COS, _SIN = np.cos(np.deg2rad(_ANGLES)), np.sin(np.deg2rad(_ANGLES))


def fit_rectangle(
    box: tuple[int, int, int, int],
    mask: np.ndarray,
    page: Page,
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
    filled = span_fill(mask)
    area = int(filled.sum())
    edge = filled & ~erode3(filled)
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
        core = erode3(erode3(filled))  # the outline's step against the page is not detail
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


def _snap_to_edges(page: Page, rect: _Rect, cos: float, sin: float) -> _Rect | None:
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


def _grow_to_margin(page: Page, rect: _Rect, cos: float, sin: float) -> _Rect:
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
    page: Page, rect: _Rect, side: int, cos: float, sin: float, rows: np.ndarray
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
    page: Page, rect: _Rect, side: int, cos: float, sin: float, first: int, last: int
) -> int | None:
    """Whole pixels from side 0-3 of `rect` outwards (`first` to `last`) to the first straight edge
    between content and exact page colour; None if there is none."""
    colours, exact, valid = _side_rows(page, rect, side, cos, sin, np.arange(first - 2.0, last + 3.0))
    # Offset k: row k-1 inside, k+1 outside, row k may straddle the edge. The step is averaged along
    # the edge, which evens out page noise; across it, two pixels apart, slow paper shading barely counts.
    n = len(colours) - 4
    step = np.abs(along_mean(colours[1 : 1 + n] - colours[3 : 3 + n], EDGE_RUN)).max(axis=2)
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
