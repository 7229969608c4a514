"""Sub-photo suite: precision / recall of detected regions (IoU >= 0.8) on synthetic album pages and
web screenshots made from Caltech-101 photos, and the false-split rate on real single photos."""

from __future__ import annotations

from benchmarks.embed_suite import CALTECH
from benchmarks.records import Record
from benchmarks.subphoto_eval import benchmark

SUITE = "subphotos"


def run(quick: bool) -> list[Record]:
    root = CALTECH.parent if CALTECH.is_dir() else None
    figures = benchmark(pages=50 if quick else 300, caltech_root=root, real_singles=300 if quick else 2000)
    pages = figures["synthetic"]
    source = "Caltech-101 photos" if pages["real_photos"] else "generated photos (no Caltech-101 here)"
    records = [
        Record.measured(
            SUITE, f"recall, {pages['pages']} pages of {source}", pages["recall"], "", target=0.95
        ),
        Record.measured(
            SUITE, f"precision, {pages['pages']} pages of {source}", pages["precision"], "", target=0.95
        ),
        Record.measured(SUITE, "detector time per page", pages["seconds_per_image"] * 1000, "ms"),
    ]
    if "real_singles" in figures:
        singles = figures["real_singles"]
        metric = f"false splits, {singles['single_photos']} real single photos"
        records.append(
            Record.measured(
                SUITE, metric, singles["false_split_rate"], "", higher_is_better=False, target=0.01
            )
        )
    return records
