"""Upkeep passes after indexing: thumbnails that are missing, and the EXIF dates of files indexed
before the catalog had them.

`Upkeep` is a part of `store.ingestion.indexer.Indexer`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from store.boxes import Box
from store.ingestion.decode_work import RegionDetector
from store.ingestion.decoder import decode_path, read_taken_at
from store.ingestion.progress import Counter, Progress
from store.protocols import ImageEncoder
from store.storage.catalog import Catalog
from store.storage.files import display_path
from store.storage.thumbnails import ThumbnailCache

logger = logging.getLogger(__name__)

DATES_BATCH = 500  # files per transaction when filling in EXIF dates of files indexed before v2


class Upkeep:
    """Thumbnail and EXIF date passes (a part of Indexer)."""

    archive: Path
    catalog: Catalog
    encoder: ImageEncoder
    thumbnails: ThumbnailCache | None
    region_detector: RegionDetector | None
    decode_workers: int

    def _thumbnail_pass(self, progress: Counter, started: float) -> Iterator[Progress]:
        """Write the thumbnails of indexed files that are missing (deleted, or their write failed in
        an earlier run): unchanged files are not decoded otherwise. Reported as part of the index
        phase. Returns True when cancelled."""
        if self.thumbnails is None:
            return False
        present = self.thumbnails.names()
        missing: dict[int, list[str]] = {}
        for name, file_id in self.catalog.thumbnail_names():
            if name not in present:
                missing.setdefault(file_id, []).append(name)
        if not missing:
            return False
        todo: dict[bytes, tuple[str, list[Box | None]]] = {}
        for file_id, raw_path in self.catalog.file_raw_paths(missing).items():
            parsed = [ThumbnailCache.parse_name(name) for name in missing[file_id]]
            todo[raw_path] = (parsed[0][0], [bbox for _, bbox in parsed])
        logger.info("writing %d missing thumbnails", sum(len(b) for _, b in todo.values()))
        progress.total += len(todo)
        with ThreadPoolExecutor(self.decode_workers, thread_name_prefix="imago-thumbs") as pool:
            jobs = [(raw, pool.submit(self._write_thumbnails, raw, *job)) for raw, job in todo.items()]
            for n, (raw_path, job) in enumerate(jobs):
                job.result()
                progress.done += 1
                yield Progress("index", progress.done, progress.total, 0.0, display_path(raw_path),
                               progress.errors, time.monotonic() - started)  # fmt: skip
                if self._checkpoint():
                    for _, rest in jobs[n + 1 :]:
                        rest.cancel()
                    return True
        return False

    def _write_thumbnails(self, raw_path: bytes, digest: str, bboxes: list[Box | None]) -> None:
        """Decode one indexed file and write its listed thumbnails (runs in a pool; logs failures)."""
        shown = display_path(raw_path)
        target = max(self.encoder.input_size, self.thumbnails.size)
        try:
            decoded = decode_path(
                os.path.join(os.fsencode(self.archive), raw_path), name=shown, target_size=target,
                max_side=2048 if self.region_detector else 1024,
            )  # fmt: skip
            for bbox in bboxes:
                self.thumbnails.put(digest, decoded.image if bbox is None else decoded.crop(bbox), bbox)
        except Exception as exc:  # one file's thumbnail never stops the run; tried again next time
            logger.warning("cannot write thumbnail for %s: %s", shown, exc)

    # -- captions ---------------------------------------------------------------------------------

    def _dates_pass(self, started: float) -> Iterator[Progress]:
        """Read the EXIF dates of files indexed before the catalog had them (header reads only, in
        batches of DATES_BATCH per transaction). Returns True when cancelled."""
        batch = self.catalog.files_without_exif(DATES_BATCH)
        if not batch:  # the usual case: nothing to count or report
            return False
        total = self.catalog.count_files_without_exif()
        done = 0
        phase_started = time.monotonic()
        root = os.fsencode(self.archive)
        while batch:
            dates = [(file_id, read_taken_at(os.path.join(root, raw))) for file_id, raw in batch]
            with self.catalog.transaction():
                for file_id, taken_at in dates:
                    self.catalog.set_taken_at(file_id, taken_at)
            done += len(batch)
            elapsed = time.monotonic() - phase_started
            yield Progress("dates", done, total, done / elapsed if elapsed > 0 else 0.0,
                           display_path(batch[-1][1]), 0, time.monotonic() - started)  # fmt: skip
            if self._checkpoint():
                return True
            batch = self.catalog.files_without_exif(DATES_BATCH)
        return False
