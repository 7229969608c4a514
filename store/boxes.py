"""Axis-aligned boxes (x, y, w, h) in pixels, as items, regions and detectors use them."""

from __future__ import annotations

from models.errors import InputError

Box = tuple[int, int, int, int]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes; 0 when both are empty."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def parse_bbox(text: str) -> Box:
    """'X,Y,W,H' -> a rectangle; InputError for anything else."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"a rectangle is X,Y,W,H in whole pixels, not {text!r}") from None
    if x < 0 or y < 0 or w < 1 or h < 1:
        raise InputError(f"rectangle {text!r} must have x, y >= 0 and a positive width and height")
    return x, y, w, h
