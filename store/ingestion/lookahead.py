"""Bounded look-ahead: work on the next few tasks in a thread pool while the caller consumes the
results in task order (the indexer's decoding ahead of inference, and of captioning)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class LookAhead(Generic[T, R]):
    """`work(task)` for each of `tasks` in a pool of `workers` threads, at most `depth` tasks ahead
    of the consumer; a context manager (leaving it waits for running work). One consumer thread."""

    def __init__(
        self, work: Callable[[T], R], tasks: Iterable[T], *, depth: int, workers: int, name: str
    ) -> None:
        self._work = work
        self._tasks = iter(tasks)
        self._depth = depth
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._queue: deque[Future[R]] = deque()
        self._stopped = False

    def __enter__(self) -> LookAhead[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    def next(self) -> R | None:
        """The next task's result (waiting for it); None when every task is done or after stop()."""
        while not self._stopped and len(self._queue) < self._depth:
            task = next(self._tasks, None)
            if task is None:
                break
            self._queue.append(self._pool.submit(self._work, task))
        if not self._queue:
            return None
        return self._queue.popleft().result()

    def again(self, task: T) -> None:
        """Work on `task` (changed) again; its result comes next."""
        self._queue.appendleft(self._pool.submit(self._work, task))

    @property
    def waiting(self) -> bool:
        """Whether results are under way (False: the last result taken was the last one so far)."""
        return bool(self._queue)

    def stop(self) -> None:
        """Take no more tasks and drop the results under way (work already running finishes)."""
        self._stopped = True
        for future in self._queue:
            future.cancel()
        self._queue.clear()
