"""The indexing pipeline (no Qt): scan, decode, embed, classify, store; then captions.

`Indexer.run()` is a generator: each `yield` reports a `Progress` and is a pause/cancellation point,
so the GUI can drive it from a worker thread and the CLI from a loop. Decoding runs in a small thread
pool with bounded look-ahead, overlapping with batched inference on the calling thread. Each batch is
one catalog transaction (file rows, items, vectors, labels, FTS); the vector index is updated after
the commit and saved at the end (and periodically), and `VectorIndex.sync` repairs it after a crash.
Captions run as a second, lower-priority pass, so search works long before they finish.

The Indexer is assembled from its parts: DecodeWork (store.ingestion.decode_work: one file in the
decode pool), BatchStore (batch_store: embedding and storing a batch), Upkeep (upkeep: thumbnail and
EXIF date passes) and CaptionPass (captions); this module holds the run itself.

With an `ensemble_encoder` (a second image model, for find-similar ensembles: store.services.fusion)
every image is embedded by both models, in one more model run per batch, and each model's vectors
get their own vector index; items lacking either model's vector are embedded again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from store.errors import IndexerBusyError, ReadOnlyIndexError
from store.ingestion.batch_store import BatchStore, BatchUnit
from store.ingestion.captions import CaptionPass
from store.ingestion.decode_work import DecodeWork, FileTask, RegionDetector
from store.ingestion.lookahead import LookAhead
from store.ingestion.progress import Counter, IndexSummary, Progress
from store.ingestion.scanner import plan_scan, walk
from store.ingestion.upkeep import Upkeep
from store.protocols import Captioner, Classifier, ImageEncoder
from store.storage.archive import IndexLocation
from store.storage.catalog import Catalog
from store.storage.files import FileState, display_path, is_under
from store.storage.index_lock import IndexLock
from store.storage.items import ItemRef
from store.storage.thumbnails import ThumbnailCache
from store.storage.vector_index import VectorIndex

__all__ = ["IndexSummary", "Indexer", "Progress"]

logger = logging.getLogger(__name__)

SAVE_EVERY_S = 60.0
LOCK_RETRY_S = 2.0  # how often a waiting (watcher) run tries again for the archive's indexer lock


class Indexer(DecodeWork, BatchStore, Upkeep, CaptionPass):
    """Indexes one archive into its catalog and vector index with the given models.

    Thread-safety: `run()` must be driven by one thread (it owns `catalog`); `pause()`, `resume()`
    and `cancel()` may be called from any thread.
    """

    def __init__(
        self,
        location: IndexLocation,
        catalog: Catalog,
        encoder: ImageEncoder,
        *,
        classifiers: Sequence[Classifier] = (),
        captioner: Captioner | None = None,
        region_detector: RegionDetector | None = None,
        region_model_id: str = "subphotos",
        batch_size: int = 32,
        caption_batch_size: int = 8,
        decode_workers: int | None = None,
        lookahead: int | None = None,
        thumbnails: bool = True,
        vector_index: VectorIndex | None = None,
        ensemble_encoder: ImageEncoder | None = None,
    ) -> None:
        self.location = location
        self.archive = location.archive
        self.catalog = catalog
        self.encoder = encoder
        self.classifiers = list(classifiers)
        self.captioner = captioner
        self.region_detector = region_detector
        self.region_model_id = region_model_id
        self.batch_size = max(1, batch_size)
        self.caption_batch_size = max(1, caption_batch_size)
        self.decode_workers = decode_workers or max(1, min(8, (os.cpu_count() or 2) - 1))
        self.lookahead = lookahead or max(2 * self.batch_size, 4 * self.decode_workers)
        self.thumbnails = ThumbnailCache(location.thumbnails_dir) if thumbnails else None
        self._vector_index = vector_index
        self.ensemble_encoder = ensemble_encoder
        self._ensemble_index: VectorIndex | None = None
        self._run = threading.Event()
        self._run.set()
        self._cancel = threading.Event()
        self._runs = 0  # runs started: only the first one refuses to wait for another indexer
        self.summary = IndexSummary()

    # -- control (any thread) ---------------------------------------------------------------------

    def pause(self) -> None:
        self._run.clear()

    def resume(self) -> None:
        self._run.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._run.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _checkpoint(self) -> bool:
        """Block while paused; True when the run should stop."""
        while not self._run.wait(0.2):
            if self._cancel.is_set():
                break
        return self._cancel.is_set()

    @property
    def vector_index(self) -> VectorIndex:
        if self._vector_index is None:
            self._vector_index = VectorIndex.open(
                self.location.path, self.encoder.model_id, self.encoder.dim, self.catalog
            )
        return self._vector_index

    def _vector_indexes(self) -> list[VectorIndex]:
        """The image model's vector index, and the ensemble model's (same storage settings)."""
        if self.ensemble_encoder is not None and self._ensemble_index is None:
            first, second = self.vector_index, self.ensemble_encoder
            self._ensemble_index = VectorIndex.open(
                self.location.path, second.model_id, second.dim, self.catalog,
                dtype=first.dtype, connectivity=first.connectivity,
            )  # fmt: skip
        return [self.vector_index] + ([self._ensemble_index] if self._ensemble_index is not None else [])

    def _save_indexes(self) -> None:
        for vindex in self._vector_indexes():
            vindex.save()

    def _lacking_vectors(self) -> dict[int, list[ItemRef]]:
        """Visible items lacking a vector of the image model or of the ensemble model, by file."""
        lacking = self.catalog.items_without_embedding(self.encoder.model_id)
        if self.ensemble_encoder is not None:
            second = self.catalog.items_without_embedding(self.ensemble_encoder.model_id)
            for file_id, items in second.items():
                known = {i.id for i in lacking.get(file_id, [])}
                lacking.setdefault(file_id, []).extend(i for i in items if i.id not in known)
        return lacking

    # -- the run ----------------------------------------------------------------------------------

    def index(self, only: Iterable[str | bytes] | None = None, *, captions: bool = True) -> IndexSummary:
        """Run to completion without progress reports; return the summary."""
        for _ in self.run(only, captions=captions):
            pass
        return self.summary

    def run(self, only: Iterable[str | bytes] | None = None, *, captions: bool = True,
            caption_interrupt: Callable[[], bool] | None = None) -> Iterator[Progress]:  # fmt: skip
        """Index the archive (or only the relative paths `only`), yielding progress.

        One indexer per archive: the run holds the index folder's IndexLock. When another process
        (or run) holds it, this indexer's first run raises IndexerBusyError on its first step; later
        runs (the watcher's) wait for it, until cancelled. A run starts with the catalog's daily
        backup (store.storage.backup) when the last one is a day old.
        `caption_interrupt` is polled between caption batches; returning True ends the caption pass
        early (the watcher uses it to give new files priority).
        An index that cannot be written (`IndexLocation.read_only`, a read-only catalog) raises
        ReadOnlyIndexError on the first step: it is never replaced by a second index elsewhere."""
        if self.location.read_only or self.catalog.read_only:
            raise ReadOnlyIndexError(
                f"the index of {self.archive} in {self.location.path} is read-only (read-only folder or "
                "medium): it can be searched and browsed, but indexing cannot update it and edits cannot "
                "be saved in it"
            )
        lock = IndexLock(self.location.path, self.archive)
        if not self._take(lock):
            self.summary = IndexSummary(cancelled=True)
            return
        try:
            self._runs += 1
            self.catalog.backup_daily()
            yield from self._index_run(only, captions=captions, caption_interrupt=caption_interrupt)
        finally:
            lock.release()

    def _take(self, lock: IndexLock) -> bool:
        """Acquire `lock` (see `run`); False when cancelled while waiting for it."""
        try:
            lock.acquire()
            return True
        except IndexerBusyError as exc:
            if not self._runs:
                raise
            logger.info("%s; waiting for it to finish", exc)
        while not self._cancel.wait(LOCK_RETRY_S):
            try:
                lock.acquire()
                return True
            except IndexerBusyError:
                continue
        return False

    def _index_run(self, only: Iterable[str | bytes] | None, *, captions: bool,
                   caption_interrupt: Callable[[], bool] | None) -> Iterator[Progress]:  # fmt: skip
        self.summary = summary = IndexSummary()
        started = time.monotonic()
        roots = None if only is None else [os.fsencode(p).strip(b"/") for p in only]
        opened = [v for v in (self._vector_index, self._ensemble_index) if v is not None]
        for vindex in opened:
            vindex.sync(self.catalog)
        self._vector_indexes()  # opening an index syncs it with the catalog

        yield Progress("scan", 0, 0, 0.0, None, 0, time.monotonic() - started)
        found = []
        mounts, seen_mounts = self.catalog.mount_points(), set()
        for n, entry in enumerate(walk(self.archive, roots, mount_points=mounts, seen_mounts=seen_mounts), 1):
            found.append(entry)
            if n % 500 == 0:
                yield Progress("scan", n, 0, 0.0, display_path(entry.raw_path), 0, time.monotonic() - started)
                if self._checkpoint():
                    yield self._finish(summary, cancelled=True, started=started)
                    return
        known = self.catalog.file_states()
        plan = plan_scan(self.archive, known, found, roots)
        summary.unchanged = len(plan.unchanged)
        summary.unavailable = [
            {"path": display_path(u.raw_path) or ".", "error": u.reason} for u in plan.unavailable
        ]
        vanished = {s.hash: s for s in plan.vanished if s.hash}
        for state in known.values():  # files already missing may come back under another name
            if state.status == "missing" and state.hash and state.hash not in vanished:
                vanished[state.hash] = state
        unmoved = {s.id: s for s in plan.vanished}

        with self.catalog.transaction():
            for problem in plan.problems:
                self._record_failure(problem.raw_path, None, problem.error)

        tasks = [FileTask(e.raw_path, e, None) for e in plan.new]
        tasks += [FileTask(e.raw_path, e, s) for e, s in plan.changed]
        # Items that exist but lack a vector for this model (curator-drawn regions, a new model).
        pending = self._lacking_vectors()
        changed_ids = {s.id for _, s in plan.changed}
        tasks += self._embed_only_tasks({f: i for f, i in pending.items() if f not in changed_ids})

        total = len(tasks)
        progress = Counter(total=total, errors=len(plan.problems))
        yield Progress("index", 0, total, 0.0, None, progress.errors, time.monotonic() - started)
        stopped = yield from self._process(tasks, vanished, unmoved, progress, started)
        if not stopped:
            # Curator regions of files whose content changed lost their vectors above: embed them too.
            again = self._lacking_vectors()
            if again:
                more = self._embed_only_tasks(again)
                progress.total += len(more)
                stopped = yield from self._process(more, {}, unmoved, progress, started)
        if stopped:
            self._save_indexes()
            yield self._finish(summary, cancelled=True, started=started)
            return

        with self.catalog.transaction():
            newly_missing = [s.id for s in unmoved.values() if s.status != "missing"]
            self.catalog.mark_missing(newly_missing)
            # Mount points to remember: those seen, those now unavailable, and any outside this walk.
            keep = {m for m in mounts if any(is_under(m, u.raw_path) for u in plan.unavailable)}
            if roots is not None:
                keep |= {m for m in mounts if not any(is_under(m, r) for r in roots)}
            if seen_mounts | keep != mounts:
                self.catalog.set_mount_points(seen_mounts | keep)
            # Nothing under a folder that could not be listed is purged: it is not known to be gone.
            self.catalog.purge_missing(keep_under=[u.raw_path for u in plan.unavailable])
        summary.removed += len(newly_missing)
        for vindex in self._vector_indexes():
            vindex.sync(self.catalog)
            vindex.save()

        if roots is None and (yield from self._thumbnail_pass(progress, started)):
            yield self._finish(summary, cancelled=True, started=started)
            return
        if (yield from self._dates_pass(started)):
            yield self._finish(summary, cancelled=True, started=started)
            return
        if captions and self.captioner is not None:
            yield from self._caption_pass(started, caption_interrupt)
        yield self._finish(summary, cancelled=self.cancelled, started=started)

    def _process(
        self,
        tasks: list[FileTask],
        vanished: dict[str, FileState],
        unmoved: dict[int, FileState],
        progress: Counter,
        started: float,
    ) -> Iterator[Progress]:
        """Decode (in the pool, bounded look-ahead), embed and store `tasks`; returns True when
        stopped by cancel()."""
        summary, vindexes = self.summary, self._vector_indexes()
        phase_started = time.monotonic()
        done_here = 0
        batch: list[BatchUnit] = []
        last_save = time.monotonic()
        stop = False
        # Encoders that can preprocess apart from running the model (image bundles) get their input
        # tensors made in the decode pool, so the model never waits for resizing between batches.
        pipelined = callable(getattr(self.encoder, "pixels", None)) and callable(
            getattr(self.encoder, "encode_pixels", None)
        )
        work = LookAhead(lambda task: self._prepare(task, vanished, pipelined), tasks, depth=self.lookahead,
                         workers=self.decode_workers, name="imago-decode")  # fmt: skip
        with work:
            while (result := work.next()) is not None:
                if result.kind == "move":
                    claimed = vanished.pop(result.hash, None)
                    if claimed is None:  # another new file already took this hash: a copy, decode it
                        result.task.allow_move = False
                        work.again(result.task)
                        continue
                    unmoved.pop(claimed.id, None)
                    entry, replaced = result.task.entry, result.task.state
                    with self.catalog.transaction():
                        if replaced is not None and replaced.id != claimed.id:
                            # Another file was moved over this one (`mv B A`): the old row frees the
                            # path and is kept as missing, curator data and all, for the grace period
                            # of a deleted file; its content found again (here or later) takes it back.
                            self.catalog.set_aside(replaced.id)
                            unmoved.pop(replaced.id, None)
                            if replaced.status != "missing":
                                summary.removed += 1
                            if replaced.hash:
                                vanished.setdefault(replaced.hash, replaced)
                        self.catalog.move_file(
                            claimed.id, entry.raw_path, size=entry.size, mtime_ns=entry.mtime_ns
                        )
                    summary.moved += 1
                elif result.kind == "same":
                    entry, state = result.task.entry, result.task.state
                    with self.catalog.transaction():
                        if state.status == "missing":  # back at its old path: visible again
                            if vanished.get(state.hash) is not None and vanished[state.hash].id == state.id:
                                vanished.pop(state.hash, None)
                            self.catalog.move_file(
                                state.id, entry.raw_path, size=entry.size, mtime_ns=entry.mtime_ns
                            )
                        else:
                            self.catalog.touch_file(state.id, size=entry.size, mtime_ns=entry.mtime_ns)
                    summary.unchanged += 1
                elif result.kind == "failed":
                    progress.errors += 1
                    batch.append(BatchUnit(result, []))
                elif result.kind == "decoded":
                    batch.append(BatchUnit(result, result.images, result.pixels))
                progress.done += 1
                done_here += 1
                if sum(len(u.images) for u in batch) >= self.batch_size or (batch and not work.waiting):
                    self._flush(batch, vindexes)
                    batch = []
                    if time.monotonic() - last_save > SAVE_EVERY_S:
                        self._save_indexes()
                        last_save = time.monotonic()
                elapsed = time.monotonic() - phase_started
                yield Progress(
                    "index", progress.done, progress.total, done_here / elapsed if elapsed > 0 else 0.0,
                    display_path(result.task.raw_path), progress.errors, time.monotonic() - started,
                )  # fmt: skip
                if not stop and self._checkpoint():
                    stop = True
                    work.stop()
            if batch and not stop:
                self._flush(batch, vindexes)
        return stop

    def _finish(self, summary: IndexSummary, *, cancelled: bool, started: float) -> Progress:
        """Complete the summary; returns the final ("done") progress report."""
        summary.cancelled = cancelled
        failures = self.catalog.failures()
        summary.failed = len(failures)
        summary.failures = [{"path": p, "error": f"{kind}: {msg}"} for p, kind, msg in failures]
        summary.items = self.catalog.searchable_count(self.encoder.model_id)
        logger.info(
            "indexing %s finished: %s", self.archive, summary.as_json() | {"failures": summary.failed}
        )
        done = summary.indexed + summary.unchanged + summary.moved + summary.failed
        return Progress("done", done, done, 0.0, None, summary.failed, time.monotonic() - started)

    def _embed_only_tasks(self, items_by_file: dict[int, list[ItemRef]]) -> list[FileTask]:
        """Tasks re-reading indexed files for some of their items (vectors or captions missing)."""
        raw_paths = self.catalog.file_raw_paths(items_by_file)
        return [
            FileTask(raw_paths[file_id], None, None, items=items, allow_move=False)
            for file_id, items in items_by_file.items()
        ]

    # -- decode workers ---------------------------------------------------------------------------
