"""The one background primitive (desktop.workers.tasks.TaskRunner) when its owner goes away."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThreadPool

from desktop.workers.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_a_runner_deleted_while_its_jobs_run_drops_their_results(qtbot):
    """A grid model or window destroyed while its thumbnails load: the jobs still finish and report on
    their emitters (which must outlive the runner), and no callback reaches the deleted owner."""
    owner = QObject()
    runner = TaskRunner(owner)
    release = threading.Event()
    results: list[int] = []
    for n in range(8):
        runner.submit(lambda n=n: release.wait(5) and n, results.append)
    shiboken6.delete(owner)  # the runner goes with it, its jobs still waiting in the pool
    assert not shiboken6.isValid(runner)
    release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(200)  # the reports arrive (queued) and are dropped
    assert results == []


def test_results_reach_a_living_runner_in_order_of_their_end(qtbot):
    runner = TaskRunner()
    results: list[int] = []
    for n in range(5):
        runner.submit(lambda n=n: n * n, results.append)
    qtbot.waitUntil(lambda: len(results) == 5, timeout=10_000)
    assert sorted(results) == [0, 1, 4, 9, 16] and runner.pending == 0
