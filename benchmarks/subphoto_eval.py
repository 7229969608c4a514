"""Measures the sub-photo detector: precision and recall at IoU >= 0.8, false-split rate on single photos.

Called by the benchmark harness and by the detector's tests. Pages come from `benchmarks.synthetic_pages`;
real single photos (e.g. Caltech-101) are given as paths.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from benchmarks.synthetic_pages import PhotoSource, SyntheticPage, caltech_photo_paths, generate_pages
from store.boxes import Box, iou
from store.ingestion.subphotos import Region, detect_subphotos

logger = logging.getLogger(__name__)

IOU_THRESHOLD = 0.8

Detector = Callable[[Image.Image], list[Region]]


@dataclass(frozen=True)
class DetectorScores:
    """Counts and rates of one evaluation run.

    Precision and recall count regions on pages that hold photos (album pages, screenshots); a region
    matches a ground-truth photo one-to-one at IoU >= 0.8 with its picture area or with the whole print
    including a printed border (both are correct answers). `false_splits` counts single photos for which
    the detector returned any region. Rates are 1.0 / 0.0 when there was nothing to count.
    """

    pages: int
    true_regions: int
    detected_regions: int
    matched_regions: int
    single_photos: int
    false_splits: int
    seconds_per_image: float

    @property
    def precision(self) -> float:
        return self.matched_regions / self.detected_regions if self.detected_regions else 1.0

    @property
    def recall(self) -> float:
        return self.matched_regions / self.true_regions if self.true_regions else 1.0

    @property
    def false_split_rate(self) -> float:
        return self.false_splits / self.single_photos if self.single_photos else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Counts and derived rates, for JSON output."""
        return {
            "pages": self.pages,
            "true_regions": self.true_regions,
            "detected_regions": self.detected_regions,
            "matched_regions": self.matched_regions,
            "single_photos": self.single_photos,
            "false_splits": self.false_splits,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "false_split_rate": round(self.false_split_rate, 4),
            "seconds_per_image": round(self.seconds_per_image, 4),
        }


def match_count(
    truth: Sequence[Box],
    found: Sequence[Box],
    threshold: float = IOU_THRESHOLD,
    alternatives: Sequence[Box] = (),
) -> int:
    """Number of one-to-one matches at IoU >= threshold (greedy, best pairs first).

    `alternatives[i]`, when given, is a second acceptable box for `truth[i]` (the print with its border).
    """
    alts = list(alternatives) or list(truth)
    pairs = sorted(
        ((max(iou(t, f), iou(alts[i], f)), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)),
        reverse=True,
    )
    used_t: set[int] = set()
    used_f: set[int] = set()
    for value, i, j in pairs:
        if value < threshold:
            break
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return len(used_t)


def evaluate_detector(
    pages: Iterable[SyntheticPage], detector: Detector = detect_subphotos
) -> DetectorScores:
    """Run `detector` over generated pages and score it against their ground truth."""
    n_pages = true_n = found_n = matched = singles = splits = 0
    elapsed = 0.0
    for page in pages:
        n_pages += 1
        start = time.perf_counter()
        regions = detector(page.image)
        elapsed += time.perf_counter() - start
        boxes = [r.bbox for r in regions]
        if page.kind == "single":
            singles += 1
            splits += bool(boxes)
            continue
        true_n += len(page.boxes)
        found_n += len(boxes)
        matched += match_count(page.boxes, boxes, alternatives=page.print_boxes)
    return DetectorScores(n_pages, true_n, found_n, matched, singles, splits, elapsed / max(1, n_pages))


def evaluate_single_photos(paths: Iterable[Path], detector: Detector = detect_subphotos) -> DetectorScores:
    """False-split count of `detector` over real photo files (each must yield no region)."""
    singles = splits = 0
    elapsed = 0.0
    for path in paths:
        with Image.open(path) as im:
            image = ImageOps.exif_transpose(im).convert("RGB")
        start = time.perf_counter()
        regions = detector(image)
        elapsed += time.perf_counter() - start
        singles += 1
        if regions:
            splits += 1
            logger.info("false split: %s -> %s", path, [r.bbox for r in regions])
    return DetectorScores(singles, 0, 0, 0, singles, splits, elapsed / max(1, singles))


def benchmark(
    pages: int = 300, seed: int = 2026, caltech_root: Path | None = None, real_singles: int = 500
) -> dict[str, dict[str, float | int]]:
    """The figures the benchmark harness reports for the detector.

    "synthetic": `pages` generated pages (real photos from `caltech_root` when it exists, generated
    ones otherwise); "real_singles": false splits over `real_singles` Caltech photos spread evenly
    across its classes (absent without `caltech_root`).
    """
    paths = caltech_photo_paths(caltech_root) if caltech_root else []
    result = {"synthetic": evaluate_detector(generate_pages(pages, seed, PhotoSource(paths))).as_dict()}
    result["synthetic"]["real_photos"] = int(bool(paths))
    if paths:
        step = max(1, len(paths) // real_singles)
        result["real_singles"] = evaluate_single_photos(paths[::step][:real_singles]).as_dict()
    return result
