"""Run a plain function on a QThreadPool and get its result (or exception) back on the GUI thread.

Used for short jobs that must not stall the event loop: catalog reads for the grid and the details
panel, saving a description, decoding a preview, installing a model bundle. The function runs in a
pool thread, so it must open its own Catalog connection (a connection belongs to one thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

logger = logging.getLogger(__name__)


class _Emitter(QObject):
    """Lives on the GUI thread; its signals are emitted from the pool thread (queued delivery)."""

    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], emitter: _Emitter) -> None:
        super().__init__()
        self.fn = fn
        self.emitter = emitter

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the GUI, which shows it; never lost in a pool thread
            logger.debug("background job failed", exc_info=True)
            self.emitter.failed.emit(exc)
        else:
            self.emitter.done.emit(result)


class TaskRunner(QObject):
    """Submits functions to a thread pool; callbacks run on the thread owning the runner (GUI).

    `pending` counts jobs not yet reported back, which tests wait on.
    """

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._emitters: set[_Emitter] = set()

    @property
    def pending(self) -> int:
        return len(self._emitters)

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[Exception], None] | None = None,
    ) -> None:
        emitter = _Emitter(self)
        self._emitters.add(emitter)

        def finish(callback, value) -> None:
            self._emitters.discard(emitter)
            emitter.deleteLater()
            if callback is not None:
                callback(value)
            elif isinstance(value, Exception):
                logger.error("background job failed: %s", value)

        emitter.done.connect(lambda value: finish(on_done, value))
        emitter.failed.connect(lambda exc: finish(on_failed, exc))
        self.pool.start(_Job(fn, emitter))
