"""The indexing pipeline (no Qt): scan, decode, embed, classify, store; then captions.

`Indexer.run()` is a generator: each `yield` reports a `Progress` and is a pause/cancellation point,
so the GUI can drive it from a worker thread and the CLI from a loop. Decoding runs in a small thread
pool with bounded look-ahead, overlapping with batched inference on the calling thread. Each batch is
one catalog transaction (file rows, items, vectors, labels, FTS); the vector index is updated after
the commit and saved at the end (and periodically), and `VectorIndex.sync` repairs it after a crash.
Captions run as a second, lower-priority pass, so search works long before they finish.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from store.errors import (
    FileIndexError,
    IndexerBusyError,
    ReadOnlyIndexError,
    UnreadableFileError,
)
from store.ingestion.decoder import DecodedImage, decode_bytes, decode_path, read_taken_at
from store.ingestion.file_access import open_regular
from store.ingestion.scanner import Entry, hash_bytes, hash_file, plan_scan, walk
from store.protocols import Captioner, Classifier, ImageEncoder
from store.storage.archive import IndexLocation
from store.storage.backup import daily_backup
from store.storage.catalog import Catalog, FileState, ItemRef, display_path, is_under
from store.storage.index_lock import IndexLock
from store.storage.thumbnails import ThumbnailCache
from store.storage.vector_index import VectorIndex

logger = logging.getLogger(__name__)

RegionDetector = Callable[[Image.Image], Sequence[Any]]  # returns objects with .bbox and .score
CLASSIFY_TOP = 5
SAVE_EVERY_S = 60.0
LOCK_RETRY_S = 2.0  # how often a waiting (watcher) run tries again for the archive's indexer lock
DATES_BATCH = 500  # files per transaction when filling in EXIF dates of files indexed before v2
STREAM_ABOVE_BYTES = 128 * 1024 * 1024  # larger files are hashed and decoded from disk, not memory


@dataclass(frozen=True)
class Progress:
    """A snapshot of the indexer's work, yielded after every step."""

    phase: str  # "scan", "index", "dates", "caption" or "done"
    done: int
    total: int
    rate: float  # files (index phase) or items (caption phase) per second in this phase
    current: str | None  # archive-relative path being worked on
    errors: int
    elapsed: float


@dataclass
class IndexSummary:
    """What a run did; `as_json()` is the CLI's `--json` summary."""

    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    items: int = 0
    embedded: int = 0
    captioned: int = 0
    cancelled: bool = False
    failures: list[dict[str, str]] = field(default_factory=list)
    # Folders that could not be listed (no permission, I/O error, share gone): {"path", "error"}.
    # Their files were kept as they are, neither removed nor purged.
    unavailable: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        out = {
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "moved": self.moved,
            "removed": self.removed,
            "failed": self.failed,
            "items": self.items,
            "failures": self.failures,
        }
        if self.unavailable:  # only then, so the usual summary keeps its keys
            out["unavailable"] = self.unavailable
        return out


@dataclass
class _Task:
    raw_path: bytes
    entry: Entry | None  # None: embed-only task for items of an already indexed file
    state: FileState | None  # the catalog row when the file is known (changed or embed-only)
    items: list[ItemRef] = field(default_factory=list)  # embed-only / caption: which items
    allow_move: bool = True


@dataclass
class _Result:
    task: _Task
    kind: str  # "decoded", "same" (content unchanged), "move" (hash of a vanished file), "failed", "gone"
    hash: str | None = None
    decoded: DecodedImage | None = None
    regions: list[tuple[tuple[int, int, int, int], float]] = field(default_factory=list)
    error: FileIndexError | None = None
    pixels: np.ndarray | None = None  # the encoder's input for `_images_of`, made in the decode pool


@dataclass
class _Counter:
    total: int
    errors: int
    done: int = 0


@dataclass
class _Unit:
    """A decoded file waiting in the current batch: its images in item order."""

    result: _Result
    images: list[Image.Image]
    pixels: np.ndarray | None = None  # the encoder's input for `images`, when made in the pool


def _read_all(path: bytes, shown: str) -> bytes:
    with open_regular(path, shown) as fh:
        return fh.read()


class Indexer:
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
            daily_backup(self.catalog.conn, self.catalog.path)
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
        if self._vector_index is None:
            vindex = self.vector_index  # opening it syncs it with the catalog
        else:
            vindex = self._vector_index
            vindex.sync(self.catalog)

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

        tasks = [_Task(e.raw_path, e, None) for e in plan.new]
        tasks += [_Task(e.raw_path, e, s) for e, s in plan.changed]
        # Items that exist but lack a vector for this model (curator-drawn regions, a new model).
        pending = self.catalog.items_without_embedding(self.encoder.model_id)
        changed_ids = {s.id for _, s in plan.changed}
        tasks += self._embed_only_tasks({f: i for f, i in pending.items() if f not in changed_ids})

        total = len(tasks)
        progress = _Counter(total=total, errors=len(plan.problems))
        yield Progress("index", 0, total, 0.0, None, progress.errors, time.monotonic() - started)
        stopped = yield from self._process(tasks, vanished, unmoved, progress, started)
        if not stopped:
            # Curator regions of files whose content changed lost their vectors above: embed them too.
            again = self.catalog.items_without_embedding(self.encoder.model_id)
            if again:
                more = self._embed_only_tasks(again)
                progress.total += len(more)
                stopped = yield from self._process(more, {}, unmoved, progress, started)
        if stopped:
            vindex.save()
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
        tasks: list[_Task],
        vanished: dict[str, FileState],
        unmoved: dict[int, FileState],
        progress: _Counter,
        started: float,
    ) -> Iterator[Progress]:
        """Decode (in the pool, bounded look-ahead), embed and store `tasks`; returns True when
        stopped by cancel()."""
        summary, vindex = self.summary, self.vector_index
        phase_started = time.monotonic()
        done_here = 0
        batch: list[_Unit] = []
        last_save = time.monotonic()
        stop = False
        # Encoders that can preprocess apart from running the model (image bundles) get their input
        # tensors made in the decode pool, so the model never waits for resizing between batches.
        pipelined = callable(getattr(self.encoder, "pixels", None)) and callable(
            getattr(self.encoder, "encode_pixels", None)
        )
        with ThreadPoolExecutor(self.decode_workers, thread_name_prefix="imago-decode") as pool:
            queue: deque[Future[_Result]] = deque()
            task_iter = iter(tasks)
            while True:
                while not stop and len(queue) < self.lookahead:
                    task = next(task_iter, None)
                    if task is None:
                        break
                    queue.append(pool.submit(self._prepare, task, vanished, pipelined))
                if not queue:
                    break
                result = queue.popleft().result()
                if result.kind == "move":
                    claimed = vanished.pop(result.hash, None)
                    if claimed is None:  # another new file already took this hash: a copy, decode it
                        result.task.allow_move = False
                        queue.appendleft(pool.submit(self._prepare, result.task, vanished, pipelined))
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
                    batch.append(_Unit(result, []))
                elif result.kind == "decoded":
                    batch.append(_Unit(result, self._images_of(result), result.pixels))
                progress.done += 1
                done_here += 1
                if sum(len(u.images) for u in batch) >= self.batch_size or (batch and not queue):
                    self._flush(batch, vindex)
                    batch = []
                    if time.monotonic() - last_save > SAVE_EVERY_S:
                        vindex.save()
                        last_save = time.monotonic()
                elapsed = time.monotonic() - phase_started
                yield Progress(
                    "index", progress.done, progress.total, done_here / elapsed if elapsed > 0 else 0.0,
                    display_path(result.task.raw_path), progress.errors, time.monotonic() - started,
                )  # fmt: skip
                if not stop and self._checkpoint():
                    stop = True
                    for future in queue:
                        future.cancel()
                    queue.clear()
            if batch and not stop:
                self._flush(batch, vindex)
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

    def _embed_only_tasks(self, items_by_file: dict[int, list[ItemRef]]) -> list[_Task]:
        """Tasks re-reading indexed files for some of their items (vectors or captions missing)."""
        raw_paths = self.catalog.file_raw_paths(items_by_file)
        return [
            _Task(raw_paths[file_id], None, None, items=items, allow_move=False)
            for file_id, items in items_by_file.items()
        ]

    # -- decode workers ---------------------------------------------------------------------------

    def _prepare(self, task: _Task, vanished: dict[str, FileState], pixels: bool = False) -> _Result:
        """Read, hash and decode one file (runs in the decode pool; touches no catalog)."""
        full = os.path.join(os.fsencode(self.archive), task.raw_path)
        target = max(self.encoder.input_size, self.thumbnails.size if self.thumbnails else 0)
        digest = None
        options = dict(name=display_path(task.raw_path), target_size=target,
                       max_side=2048 if self.region_detector else 1024)  # fmt: skip
        try:
            # One read serves hashing and decoding; very large files are streamed twice instead.
            big = os.stat(full).st_size > STREAM_ABOVE_BYTES
            data = None if big else _read_all(full, options["name"])
            digest = hash_file(full) if big else hash_bytes(data)
            if task.entry is not None:
                if task.state is not None and task.state.hash == digest and task.state.status != "failed":
                    return _Result(task, "same", digest)
                if task.allow_move and digest in vanished:
                    return _Result(task, "move", digest)
            decoded = decode_path(full, **options) if big else decode_bytes(data, **options)
            del data
        except FileNotFoundError:
            return _Result(task, "gone")
        except FileIndexError as exc:
            return _Result(task, "failed", digest, error=exc)
        except OSError as exc:
            error = UnreadableFileError(f"cannot read {display_path(task.raw_path)}: {exc.strerror or exc}")
            return _Result(task, "failed", digest, error=error)
        except Exception as exc:  # whatever one file does, it is that file's failure; the run goes on
            shown = display_path(task.raw_path)
            logger.exception("unexpected error reading %s", shown)
            # kind "error": retried on the next run, since the cause may lie outside the file
            error = FileIndexError(f"cannot read {shown}: {type(exc).__name__}: {exc}")
            return _Result(task, "failed", digest, error=error)
        regions: list[tuple[tuple[int, int, int, int], float]] = []
        if self.region_detector is not None and task.entry is not None:
            regions = self._detect(decoded, task)
        if self.thumbnails is not None:
            try:
                self.thumbnails.put(digest, decoded.image)
                for bbox, _ in regions:
                    self.thumbnails.put(digest, decoded.crop(bbox), bbox)
            except Exception as exc:  # the file is still indexed; the next run writes the thumbnail
                logger.warning("cannot write thumbnail for %s: %s", display_path(task.raw_path), exc)
        result = _Result(task, "decoded", digest, decoded, regions)
        if pixels:  # the encoder's preprocessing, here in the pool instead of before each model run
            try:
                result.pixels = self.encoder.pixels(self._images_of(result))
            except Exception as exc:
                shown = display_path(task.raw_path)
                logger.exception("cannot prepare %s for the model", shown)
                return _Result(task, "failed", digest, error=FileIndexError(f"cannot prepare {shown}: {exc}"))
        return result

    def _detect(self, decoded: DecodedImage, task: _Task) -> list[tuple[tuple[int, int, int, int], float]]:
        try:
            found = self.region_detector(decoded.image)
        except Exception:  # a detector bug must not stop indexing; the whole file is still indexed
            logger.exception("sub-photo detection failed for %s", display_path(task.raw_path))
            return []
        scale = decoded.scale
        regions = []
        for region in found:
            x, y, w, h = region.bbox
            box = (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            box = (
                max(0, min(box[0], decoded.width - 1)),
                max(0, min(box[1], decoded.height - 1)),
                max(1, box[2]),
                max(1, box[3]),
            )
            regions.append((box, float(region.score)))
        return regions

    def _images_of(self, result: _Result) -> list[Image.Image]:
        """The images to embed for a decoded file, in the order `_flush` assigns them to items."""
        decoded = result.decoded
        task = result.task
        if task.entry is None:  # embed-only: the given items
            return [decoded.image if i.kind == "file" else decoded.crop(i.bbox) for i in task.items]
        images = [decoded.image] + [decoded.crop(bbox) for bbox, _ in result.regions]
        return images

    # -- one transaction per batch ----------------------------------------------------------------

    def _encode(
        self, images: list[Image.Image], pixels: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[tuple[str, str, list]]]:
        """Vectors of `images` and their labels as (head, model id, top labels per image): from the
        classifier heads, and from the encoder itself when its model has a classifier of its own
        (image bundles: those encoders are pipelined, so their input comes as `pixels`, made by the
        encoder in the decode pool)."""
        if not images:
            return np.zeros((0, self.encoder.dim), np.float32), []
        own = []
        if pixels is None:
            vectors = self.encoder.encode(images)
        else:
            label_head = getattr(self.encoder, "label_head", None)  # image bundles with class scores
            vectors, per_image = self.encoder.encode_pixels(pixels, CLASSIFY_TOP if label_head else None)
            if label_head:
                own.append((label_head, self.encoder.model_id, per_image))
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(images), self.encoder.dim):
            raise ValueError(
                f"encoder {self.encoder.model_id} returned shape {vectors.shape} for {len(images)} images"
            )
        heads = [(c.head, c.model_id, c.classify(vectors, top=CLASSIFY_TOP)) for c in self.classifiers]
        return vectors, heads + own

    def _flush(self, batch: list[_Unit], vindex: VectorIndex) -> None:
        images = [img for unit in batch for img in unit.images]
        ready = [unit.pixels for unit in batch if unit.images]
        pixels = np.concatenate(ready) if ready and all(p is not None for p in ready) else None
        vectors, labels = self._encode(images, pixels)
        stale: list[int] = []
        with self.catalog.transaction():
            row = 0
            for unit in batch:
                result = unit.result
                if result.kind == "failed":
                    self._record_failure(result.task.raw_path, result.task.entry, result.error, result.hash)
                    continue
                # One id per image; None where a region was vetoed by the curator (not stored).
                stored = []
                for item_id in self._store_file(result, stale):
                    if item_id is not None:
                        stored.append(item_id)
                        self.catalog.put_embeddings(self.encoder.model_id, [item_id], vectors[row : row + 1])
                        for head, model_id, per_image in labels:
                            self.catalog.put_labels(item_id, head, model_id, per_image[row])
                    row += 1
                self.catalog.refresh_fts(stored)
                self.summary.embedded += len(unit.images)
                if result.task.entry is not None:
                    self.summary.indexed += 1
        vindex.remove(stale)
        # The committed vectors, read back by generation: the index then knows it is complete up to
        # this batch, and a crash before its next save re-adds exactly what it lost (see sync).
        vindex.catch_up(self.catalog)

    def _store_file(self, result: _Result, stale: list[int]) -> list[int | None]:
        """Write a decoded file's row and items; return one item id per image of `_images_of`."""
        task, decoded = result.task, result.decoded
        if task.entry is None:
            return [i.id for i in task.items]
        entry = task.entry
        file_id = self.catalog.upsert_file(
            entry.raw_path, size=entry.size, mtime_ns=entry.mtime_ns, hash=result.hash, status="indexed",
            width=decoded.width, height=decoded.height, format=decoded.format, frames=decoded.frames,
            taken_at=decoded.taken_at,
        )  # fmt: skip
        if task.state is not None:  # content changed: drop what models made from the old content
            stale += self.catalog.reset_model_data(file_id)
        item_ids: list[int | None] = [self.catalog.ensure_file_item(file_id)]
        if self.region_detector is not None:
            removed, added = self.catalog.replace_model_regions(file_id, result.regions, self.region_model_id)
            stale += removed
            item_ids += added
        return item_ids

    def _record_failure(
        self, raw_path: bytes, entry: Entry | None, error: FileIndexError | None, digest: str | None = None
    ) -> None:
        full = os.path.join(os.fsencode(self.archive), raw_path)
        if entry is None:
            try:
                st = os.lstat(full)
                size, mtime_ns = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime_ns = 0, 0
        else:
            size, mtime_ns = entry.size, entry.mtime_ns
        self.catalog.upsert_file(
            raw_path, size=size, mtime_ns=mtime_ns, hash=digest, status="failed",
            error_kind=getattr(error, "kind", "error"), error=str(error),
        )  # fmt: skip

    # -- thumbnails -------------------------------------------------------------------------------

    def _thumbnail_pass(self, progress: _Counter, started: float) -> Iterator[Progress]:
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
        todo: dict[bytes, tuple[str, list[tuple[int, int, int, int] | None]]] = {}
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

    def _write_thumbnails(
        self, raw_path: bytes, digest: str, bboxes: list[tuple[int, int, int, int] | None]
    ) -> None:
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

    def _caption_pass(self, started: float, interrupt: Callable[[], bool] | None) -> Iterator[Progress]:
        captioner = self.captioner
        todo = self.catalog.items_without_caption(captioner.model_id)
        total = sum(len(v) for v in todo.values())
        done = 0
        phase_started = time.monotonic()
        yield Progress("caption", 0, total, 0.0, None, 0, time.monotonic() - started)
        tasks = self._embed_only_tasks(todo)
        pending: list[tuple[ItemRef, Image.Image]] = []
        with ThreadPoolExecutor(self.decode_workers, thread_name_prefix="imago-caption-decode") as pool:
            queue: deque[Future[_Result]] = deque()
            task_iter = iter(tasks)
            while True:
                while len(queue) < self.lookahead:
                    task = next(task_iter, None)
                    if task is None:
                        break
                    queue.append(pool.submit(self._prepare, task, {}))
                if not queue:
                    break
                result = queue.popleft().result()
                if result.kind == "decoded":
                    pending += list(zip(result.task.items, self._images_of(result), strict=True))
                else:
                    done += len(result.task.items)
                last = not queue
                while len(pending) >= self.caption_batch_size or (pending and last):
                    chunk, pending = pending[: self.caption_batch_size], pending[self.caption_batch_size :]
                    texts = captioner.caption([img for _, img in chunk])
                    with self.catalog.transaction():
                        for (item, _), text in zip(chunk, texts, strict=True):
                            self.catalog.put_caption(item.id, captioner.model_id, text)
                        self.catalog.refresh_fts([item.id for item, _ in chunk])
                    done += len(chunk)
                    self.summary.captioned += len(chunk)
                    elapsed = time.monotonic() - phase_started
                    yield Progress(
                        "caption", done, total, done / elapsed if elapsed > 0 else 0.0,
                        display_path(result.task.raw_path), 0, time.monotonic() - started,
                    )  # fmt: skip
                    if self._checkpoint() or (interrupt is not None and interrupt()):
                        for future in queue:
                            future.cancel()
                        return


def measure_throughput(
    archive: Path,
    encoder: ImageEncoder,
    *,
    classifiers: Sequence[Classifier] = (),
    batch_size: int = 32,
    model_only_images: int = 256,
    decode_workers: int | None = None,
) -> dict[str, float]:
    """End-to-end indexing rate (decode + embed + classify + store, captions off) into a throw-away
    index, and model-only rate on already decoded images at the same batch size (for the bench)."""
    import tempfile

    from store.ingestion.decoder import decode_file

    with tempfile.TemporaryDirectory(prefix="imago-throughput-") as folder:
        location = IndexLocation(Path(archive).resolve(), Path(folder), fallback=True)
        with Catalog(location.catalog_path) as catalog:
            indexer = Indexer(
                location, catalog, encoder, classifiers=classifiers, batch_size=batch_size,
                decode_workers=decode_workers, thumbnails=False,
            )  # fmt: skip
            started = time.perf_counter()
            summary = indexer.index(captions=False)
            end_to_end_s = time.perf_counter() - started
    images = []
    for entry in walk(Path(archive)):
        if len(images) >= model_only_images:
            break
        if not isinstance(entry, Entry):
            continue
        try:
            _, decoded = decode_file(
                os.path.join(os.fsencode(archive), entry.raw_path), target_size=encoder.input_size
            )
        except (FileIndexError, OSError):
            continue
        images.append(decoded.image)
    encoder.encode(images[:batch_size])  # warm-up (session creation, allocations)
    started = time.perf_counter()
    for start in range(0, len(images), batch_size):
        encoder.encode(images[start : start + batch_size])
    model_s = time.perf_counter() - started
    end_to_end = summary.embedded / end_to_end_s if end_to_end_s else 0.0
    model_only = len(images) / model_s if model_s else 0.0
    return {
        "end_to_end_images_per_s": end_to_end,
        "model_only_images_per_s": model_only,
        "ratio": end_to_end / model_only if model_only else 0.0,
        "images": float(summary.embedded),
    }
