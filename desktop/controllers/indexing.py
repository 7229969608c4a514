"""Indexing the open archive: the index worker started, paused, restarted and stopped, its progress and
outcome in the status bar, and the list of files that could not be indexed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from desktop.controllers.session import ArchiveSession
from desktop.dialogs.failures_dialog import FailuresDialog
from desktop.widgets.index_status import IndexStatus
from desktop.widgets.problem_panel import problem_status
from desktop.workers.index_worker import IndexOutcome, IndexTotals, IndexWorker
from store.ingestion.indexer import Progress
from store.storage.health import open_catalog

# Settings whose change restarts a running indexer (models, threads, watching).
RESTART_SETTINGS = {"device", "intra_op_threads", "caption_model", "caption_beams", "watch_archive",
                    "rescan_minutes"}  # fmt: skip


def read_failures(catalog_path: Path) -> list[tuple[str, str, str]]:
    if not catalog_path.is_file():
        return []
    with open_catalog(catalog_path) as catalog:
        return catalog.failures()


class IndexingController(QObject):
    """Runs one IndexWorker for the open archive at a time; says what it does in `status`."""

    index_finished = Signal(object)  # IndexOutcome
    started = Signal()  # a new worker started
    growing = Signal()  # the indexer committed items (an "index" phase step)
    committed = Signal()  # an "index" phase or a run ended: searches, list and facets catch up
    run_ended = Signal()  # a run finished well: kept curator edits may be written
    check_wanted = Signal()  # indexing ended on a problem or an error: check the archive
    failures_shown = Signal(int)  # number of failed files listed
    job_failed = Signal(object)
    shown = Signal()  # panels follow

    def __init__(self, session: ArchiveSession, status: IndexStatus, dialog_parent: QWidget) -> None:
        super().__init__(session)
        self.session, self.status, self.dialog_parent = session, status, dialog_parent
        self.worker: IndexWorker | None = None
        self.last: IndexOutcome | None = None
        self.failures_dialog: FailuresDialog | None = None
        self._workers: set[IndexWorker] = set()
        self._carried = IndexTotals()  # what ended indexing threads did since the archive was opened
        self._phase: str | None = None
        status.pause_button.toggled.connect(self._toggle_pause)
        session.opened.connect(self._opened)
        session.lost.connect(self.cancel)
        session.back.connect(self.start)

    def _opened(self) -> None:
        """Another archive opens: nothing indexed in it yet, no failures known."""
        self._carried = IndexTotals()
        self.status.set_errors(0)
        if self.failures_dialog is not None:
            self.failures_dialog.close()

    def start(self) -> None:
        session = self.session
        if session.archive is None or (self.worker is not None and self.worker.isRunning()):
            return
        if session.location is not None and session.location.read_only:
            self.status.label.setText(self.tr("Not indexing: the index is read-only"))
            return  # the indexer would refuse it (ReadOnlyIndexError); searching and browsing work
        worker = IndexWorker(session.archive, session.models_dir, session.settings_copy())
        # Kept referenced until its thread has really ended.
        self._workers.add(worker)
        worker.finished.connect(lambda: (self._carry(worker), self._workers.discard(worker)))
        worker.progress.connect(lambda progress: self._on_progress(worker, progress))
        worker.outcome.connect(lambda outcome: self._on_outcome(worker, outcome))
        self.worker = worker
        self._phase = None
        self.started.emit()
        self.status.pause_button.setChecked(False)
        self.status.label.setText(self.tr("Loading models…"))
        self.status.show_running(True)
        self.status.progress_bar.setRange(0, 0)
        worker.start()

    def stop(self) -> None:
        """Cancel the running indexer and wait for every indexing thread to end."""
        self.cancel()
        for worker in list(self._workers):
            worker.wait()
            self._carry(worker)
        self._workers.clear()

    def cancel(self) -> None:
        """Cancel the running indexer without waiting (a thread stuck on a vanished share must not
        freeze the window)."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None
            self.status.show_running(False)

    def restart(self) -> None:
        """Index the open archive with the current models and settings (stopping a running indexer)."""
        self.stop()
        self.start()

    def apply_settings(self, changed: set[str]) -> None:
        """New settings were saved (`changed`: their names): a running indexer restarts when it uses one."""
        if changed & RESTART_SETTINGS and self.worker is not None:
            self.restart()
            self.session.say(self.tr("Settings saved; indexing started again with them"), 10_000)
        elif changed == {"language"}:
            note = self.tr("Settings saved; the language changes when Imago is next started")
            self.session.say(note, 10_000)
        else:
            self.session.say(self.tr("Settings saved; they apply to the next indexing run"), 10_000)

    def _carry(self, worker: IndexWorker) -> None:
        """Add an ended indexing thread's totals to what indexing did since the archive was opened."""
        if not worker.carried and worker.archive == self.session.archive:
            worker.carried = True
            self._carried = self._carried + worker.totals

    def _toggle_pause(self, paused: bool) -> None:
        if self.worker is None:
            return
        if paused:
            self.worker.pause()
            self.status.pause_button.setText(self.tr("Resume"))
            self.status.label.setText(self.status.label.text() + self.tr(" (paused)"))
        else:
            self.worker.resume()
            self.status.pause_button.setText(self.tr("Pause"))

    def _on_progress(self, worker: IndexWorker, progress: Progress) -> None:
        if worker is not self.worker:
            return
        status = self.status
        if progress.phase != "done":
            status.show_running(True)  # a watched archive's next run
        names = {"scan": self.tr("Scanning"), "index": self.tr("Indexing"), "dates": self.tr("Reading dates"),
                 "caption": self.tr("Describing")}  # fmt: skip
        phase = names.get(progress.phase, progress.phase)
        if progress.total:
            status.progress_bar.setRange(0, progress.total)
            status.progress_bar.setValue(progress.done)
            rate = self.tr(", {rate:.1f}/s").format(rate=progress.rate) if progress.rate else ""
            status.label.setText(f"{phase} {progress.done}/{progress.total}{rate}")
        else:
            status.progress_bar.setRange(0, 0)
            status.label.setText(f"{phase}… {progress.done or ''}".rstrip())
        if status.pause_button.isChecked():
            status.label.setText(status.label.text() + self.tr(" (paused)"))
        status.set_errors(progress.errors)
        if progress.phase == "index":
            self.growing.emit()
        if self._phase == "index" and progress.phase != "index":
            self.committed.emit()  # vectors are committed: searches see the new items
        self._phase = progress.phase

    def _on_outcome(self, worker: IndexWorker, outcome: IndexOutcome) -> None:
        if worker is not self.worker:
            return
        if not outcome.watching:
            self.worker = None
            self._carry(worker)  # the thread is ending; its runs count with the earlier ones
        self.last = outcome
        status = self.status
        status.show_running(False)
        if outcome.problem is not None:
            status.label.setText(problem_status(outcome.problem))
            self.check_wanted.emit()  # the window's state follows
        elif outcome.missing_models:
            status.label.setText(self.tr("Not indexing: no image model could be loaded"))
        elif outcome.error:
            self.check_wanted.emit()  # e.g. a catalog that cannot be opened
            status.label.setText(self.tr("Indexing failed"))
            self.session.say(self.tr("Indexing failed: {error}").format(error=outcome.error), 15_000)
        elif outcome.summary is not None:
            s = outcome.summary
            self.session.catalog_seen = True  # the indexer made it: from now on its absence is a problem
            status.set_errors(s.failed)
            # Counted over every run since the archive was opened: a run started again (settings,
            # models) or a watched run after the first finds little new, which is no news.
            totals = self._carried if worker.carried else self._carried + outcome.totals
            state = self.tr("Indexing cancelled") if s.cancelled else self.tr("Index up to date")
            status.label.setText(
                self.tr("{state}: searchable {items}; since opening: new {new}, moved {moved}").format(
                    state=state, items=s.items, new=totals.new, moved=totals.moved
                )
                + (self._watch_note() if outcome.watching else "")
            )
            self.committed.emit()
            self.run_ended.emit()
        self.shown.emit()
        self.index_finished.emit(outcome)

    def _watch_note(self) -> str:
        settings = self.session.settings
        if settings.watch_archive:
            return self.tr(" — watching for changes")
        return self.tr(" — rescan every {minutes} min").format(minutes=settings.rescan_minutes)

    def show_failures(self) -> None:
        """List the open archive's files that could not be indexed (read from its catalog)."""
        path = self.session.catalog_path
        if path is not None:
            self.session.tasks.submit(lambda: read_failures(path), self._show_failures, self.job_failed.emit)

    def _show_failures(self, failures: list[tuple[str, str, str]]) -> None:
        if self.failures_dialog is not None:
            self.failures_dialog.close()
            self.failures_dialog.deleteLater()
        self.failures_dialog = FailuresDialog(failures, self.dialog_parent)
        self.failures_dialog.open()
        self.failures_shown.emit(len(failures))
