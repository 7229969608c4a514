"""Operations on numpy masks and images that the sub-photo detector needs without scipy: 3x3
filters, morphology, running means, connected components and span filling."""

from __future__ import annotations

import numpy as np


def filter3(values: np.ndarray, combine: np.ufunc) -> np.ndarray:
    """`combine` (np.add, np.minimum) over each 3x3 neighbourhood, edges replicated."""
    p = np.pad(values, 1, mode="edge")
    h, w = values.shape
    out = values.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                combine(out, p[dy : dy + h, dx : dx + w], out=out)
    return out


def along_mean(values: np.ndarray, run: int) -> np.ndarray:
    """Running mean over `run` elements along axis 1 (shorter at the ends)."""
    c = np.cumsum(np.pad(values, [(0, 0), (1, 0)] + [(0, 0)] * (values.ndim - 2)), axis=1)
    n = values.shape[1]
    hi = np.minimum(np.arange(n) + run // 2 + 1, n)
    lo = np.maximum(np.arange(n) - run // 2, 0)
    return (c[:, hi] - c[:, lo]) / (hi - lo).reshape((1, n) + (1,) * (values.ndim - 2))


def erode3(mask: np.ndarray) -> np.ndarray:
    """3x3 erosion (pixels outside the image count as background)."""
    p = np.pad(mask, 1, constant_values=False)
    out = p[1:-1, 1:-1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out &= p[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


def _dilate3(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation."""
    p = np.pad(mask, 1, constant_values=False)
    out = p[1:-1, 1:-1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out |= p[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


def open3(mask: np.ndarray) -> np.ndarray:
    return _dilate3(erode3(mask))


def components(mask: np.ndarray, min_pixels: float) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
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


def span_fill(mask: np.ndarray) -> np.ndarray:
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
