"""Watching an archive for changes (watchdog), debounced, with a polling fallback and rescans.

Events only mark paths as "touched". A touched path becomes ready once no event arrived for it for
`debounce_s` and its size and mtime did not change between two checks `debounce_s` apart, so a file
still being copied is indexed once, when complete. Deleted paths are ready after the debounce.
Network shares often deliver no events (store.platform.network_shares tells them, on every platform):
`polling=True` (or a native observer that cannot start) uses watchdog's PollingObserver, and a periodic
full rescan catches anything missed. Either part can be switched off: `observe=False` (rescans only)
or `rescan_interval_s=None` (events only).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from store.ingestion.indexer import Indexer, IndexSummary, Progress
from store.platform.network_shares import is_network_filesystem
from store.storage.archive import INDEX_DIR_NAME

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    """What to index next: archive-relative paths, or everything (`full`, a periodic rescan)."""

    paths: frozenset[bytes]
    full: bool = False


class ChangeCollector:
    """Debounces raw file events into stable, archive-relative paths. Thread-safe; the clock is
    injectable so tests need no sleeps."""

    def __init__(
        self, archive: Path, debounce_s: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base = os.fsencode(Path(archive).resolve())
        self.debounce_s = debounce_s
        self.clock = clock
        self._lock = threading.Lock()
        # relative path -> (time of last event, last seen signature, time that signature was seen)
        self._pending: dict[bytes, tuple[float, tuple | None, float]] = {}

    def relative(self, path: str | bytes) -> bytes | None:
        """The archive-relative path, or None for paths outside it, hidden or in the index folder."""
        raw = os.fsencode(path)
        if os.altsep:  # Windows also accepts "/" in paths
            raw = raw.replace(os.altsep.encode(), os.sep.encode())
        if raw == self.base or not raw.startswith(self.base + os.sep.encode()):
            return None
        rel = raw[len(self.base) + 1 :].replace(os.sep.encode(), b"/")
        parts = rel.split(b"/")
        if any(p.startswith(b".") for p in parts) or parts[0] == INDEX_DIR_NAME.encode():
            return None
        return rel

    def add(self, path: str | bytes) -> None:
        rel = self.relative(path)
        if rel is None:
            return
        with self._lock:
            self._pending[rel] = (self.clock(), None, 0.0)

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def _signature(self, rel: bytes) -> tuple | None:
        try:
            st = os.stat(os.path.join(self.base, rel))
        except OSError:
            return ("gone",)
        return (st.st_size, st.st_mtime_ns)

    def ready(self) -> set[bytes]:
        """Pop the paths that are quiet and stable (call periodically)."""
        now = self.clock()
        out: set[bytes] = set()
        with self._lock:
            for rel, (last_event, sig, sig_time) in list(self._pending.items()):
                if now - last_event < self.debounce_s:
                    continue
                current = self._signature(rel)
                if current == ("gone",) or (current == sig and now - sig_time >= self.debounce_s):
                    out.add(rel)
                    del self._pending[rel]
                elif current != sig:
                    self._pending[rel] = (last_event, current, now)
        return out


class _Handler(FileSystemEventHandler):
    def __init__(self, collector: ChangeCollector) -> None:
        self.collector = collector

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        self.collector.add(event.src_path)
        dest = getattr(event, "dest_path", None)
        if dest:
            self.collector.add(dest)


class ArchiveWatcher:
    """Watches an archive folder; `changes()` yields batches of stable changes to index."""

    def __init__(
        self,
        archive: Path,
        *,
        polling: bool | None = None,
        debounce_s: float = 2.0,
        check_interval_s: float = 1.0,
        poll_interval_s: float = 10.0,
        rescan_interval_s: float | None = 3600.0,
        observe: bool = True,
    ) -> None:
        self.archive = Path(archive).resolve()
        self.collector = ChangeCollector(self.archive, debounce_s)
        # None: poll on network filesystems, where inotify & co. see no changes made by other machines
        self.polling = is_network_filesystem(self.archive) if polling is None else polling
        self.check_interval_s = check_interval_s
        self.poll_interval_s = poll_interval_s
        self.rescan_interval_s = rescan_interval_s  # None: no periodic rescans
        self.observe = observe  # False: no file-system events, only the periodic rescans
        self._observer: Observer | PollingObserver | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start observing (idempotent; a stopped watcher stays stopped, so a `stop()` from another
        thread always wins). Start before an initial full run so nothing that changes during it is
        missed."""
        with self._lock:
            if self._observer is None and self.observe and not self._stop.is_set():
                self._observer = self._start_observer()

    def _start_observer(self) -> Observer | PollingObserver:
        handler = _Handler(self.collector)
        if not self.polling:
            try:
                observer = Observer()
                observer.schedule(handler, os.fspath(self.archive), recursive=True)
                observer.start()
                return observer
            except OSError as exc:  # e.g. inotify watch limit reached, or a share without events
                logger.warning(
                    "native file watching unavailable for %s (%s); polling instead", self.archive, exc
                )
        self.polling = True
        observer = PollingObserver(timeout=self.poll_interval_s)
        observer.schedule(handler, os.fspath(self.archive), recursive=True)
        observer.start()
        return observer

    def request_stop(self) -> None:
        """End `changes()` at its next check, without waiting for anything: safe in a signal
        handler. `stop()` (e.g. in `watch()`'s cleanup) then releases the observer."""
        self._stop.set()

    def stop(self) -> None:
        """Stop observing and end `changes()`; safe to call from any thread, more than once."""
        self._stop.set()
        with self._lock:
            observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=10)

    @property
    def has_pending(self) -> bool:
        return self.collector.pending

    def changes(self) -> Iterator[Changes]:
        """Block until there is something to index; yield it. Ends after `stop()`."""
        interval = self.rescan_interval_s
        next_rescan = None if interval is None else time.monotonic() + interval
        while not self._stop.wait(self.check_interval_s):
            ready = self.collector.ready()
            if next_rescan is not None and time.monotonic() >= next_rescan:
                next_rescan = time.monotonic() + interval
                yield Changes(frozenset(ready), full=True)
            elif ready:
                yield Changes(frozenset(ready))


def outermost(paths: Iterable[bytes]) -> list[bytes]:
    """`paths` without those inside another of them, sorted. A folder's event comes with its new
    file's, and the indexer would otherwise find that file twice (once by walking the folder)."""
    chosen = set(paths)
    return sorted(
        p for p in chosen if not any(p[:i] in chosen for i in range(len(p)) if p[i : i + 1] == b"/")
    )


def watch(
    indexer: Indexer,
    watcher: ArchiveWatcher,
    *,
    captions: bool = True,
    on_run_done: Callable[[IndexSummary], None] | None = None,
    still_there: Callable[[], bool] | None = None,
) -> Iterator[Progress]:
    """Keep `indexer` in step with the archive: index each batch of changes as it becomes stable.

    Yields the indexer's progress and calls `on_run_done` with each run's summary; captions give
    way to new changes (they resume on the next run). Before each run `still_there()`, when given,
    checks that the archive and its index are still there; watching ends when it says no."""
    watcher.start()
    try:
        for change in watcher.changes():
            if still_there is not None and not still_there():
                return
            only = None if change.full else outermost(change.paths)
            logger.info(
                "indexing %s", "everything (periodic rescan)" if change.full else f"{len(only)} changed paths"
            )
            yield from indexer.run(only, captions=captions, caption_interrupt=lambda: watcher.has_pending)
            if on_run_done is not None:
                on_run_done(indexer.summary)
    finally:
        watcher.stop()


def index_and_watch(
    indexer: Indexer,
    watcher: ArchiveWatcher | None,
    *,
    captions: bool = True,
    on_run_done: Callable[[IndexSummary], None] | None = None,
    still_there: Callable[[], bool] | None = None,
) -> Iterator[Progress]:
    """The sequence both front ends run: a full run, then, with a watcher and unless the run was
    cancelled, `watch` until the watcher stops. The watcher starts before the full run, so changes
    made during it are not missed; `on_run_done` follows every run, the full one included."""
    if watcher is None:
        yield from indexer.run(captions=captions)
        if on_run_done is not None:
            on_run_done(indexer.summary)
        return
    watcher.start()
    try:
        yield from indexer.run(captions=captions)
        if on_run_done is not None:
            on_run_done(indexer.summary)
        if not indexer.cancelled:
            yield from watch(
                indexer, watcher, captions=captions, on_run_done=on_run_done, still_there=still_there
            )
    finally:
        watcher.stop()
