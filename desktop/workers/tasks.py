"""The one way desktop/ runs work off the GUI thread: a TaskRunner submits a plain function to a thread
pool and gets its result (or exception, or progress reports) back on the GUI thread.

Short jobs (catalog reads for the grid and the details panel, previews, bundle installs) share the
global pool; long ones (export, re-caption, duplicates) a pool of their own; curator edits a one-thread
pool, so they land in the order made. Searches run on a one-thread pool whose thread never expires (a
SearchService's connection stays on one thread), indexing runs (long cancellable loops, see
`desktop.workers.index_worker`) on a pool of their own. A function runs in a pool thread, so it opens
its own Catalog connection (a connection belongs to one thread) and must not touch widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

logger = logging.getLogger(__name__)


class _Emitter(QObject):
    """Lives on the GUI thread; its signals are emitted from the pool thread (queued delivery)."""

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[..., Any], emitter: _Emitter, reports: bool) -> None:
        super().__init__()
        self.fn = fn
        self.emitter = emitter
        self.reports = reports

    def run(self) -> None:
        # The pool thread lets go of `fn` before reporting: the runner holds it until the report is
        # handled, so the last reference to what `fn` is bound to (e.g. its worker) goes on the GUI thread.
        fn, self.fn = self.fn, None
        try:
            result = fn(self.emitter.progress.emit) if self.reports else fn()
        except Exception as exc:  # reported to the GUI, which shows it; never lost in a pool thread
            logger.debug("background job failed", exc_info=True)
            fn = None
            self.emitter.failed.emit(exc)
        else:
            fn = None
            self.emitter.done.emit(result)


class TaskRunner(QObject):
    """Submits functions to a thread pool; callbacks run on the thread owning the runner (GUI).

    `threads`: None shares Qt's global pool; a number gives the runner a pool of its own with that many
    threads (a one-thread pool keeps its thread: every job of such a runner runs on the same thread).
    `pending` counts jobs not yet reported back, which tests wait on.
    """

    def __init__(self, parent: QObject | None = None, threads: int | None = None) -> None:
        super().__init__(parent)
        if threads is None:
            self.pool = QThreadPool.globalInstance()
        else:
            self.pool = QThreadPool(self)
            self.pool.setMaxThreadCount(threads)
            if threads == 1:
                self.pool.setExpiryTimeout(-1)
        self._jobs: dict[_Emitter, Callable[..., Any]] = {}  # the functions of jobs not reported back

    @property
    def pending(self) -> int:
        return len(self._jobs)

    def submit(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[Exception], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> None:
        """Run `fn()` in the pool; `on_done(result)` or `on_failed(exception)` follow on this runner's
        thread. With `on_progress`, `fn(report)` is called instead: each `report(value)` it makes
        reaches `on_progress(value)` the same way, in order, before the end is reported."""
        # No parent: a runner destroyed with its owner (a model, a window) must not delete the emitter of
        # a job still running, which emits on it from the pool thread; it goes after its report.
        emitter = _Emitter()
        self._jobs[emitter] = fn

        def finish(callback, value) -> None:
            self._jobs.pop(emitter, None)
            emitter.deleteLater()
            if not shiboken6.isValid(self):
                return  # the runner's owner is gone: nobody is left to take the result
            if callback is not None:
                callback(value)
            elif isinstance(value, Exception):
                logger.error("background job failed: %s", value)

        if on_progress is not None:
            emitter.progress.connect(lambda value: on_progress(value) if shiboken6.isValid(self) else None)
        emitter.done.connect(lambda value: finish(on_done, value))
        emitter.failed.connect(lambda exc: finish(on_failed, exc))
        self.pool.start(_Job(fn, emitter, on_progress is not None))

    def wait(self, timeout_ms: int = -1) -> bool:
        """Wait until the pool's jobs have ended (not their callbacks); False on a timeout."""
        return self.pool.waitForDone(timeout_ms)
