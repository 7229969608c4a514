"""Curator edits (descriptions, confirmed and rejected labels) written in the one-thread writer pool, or
kept on disk (`desktop.pending_edits`) while the archive or its index is unavailable and written when it
is back. A read-only index takes no edit: the curator is told plainly, and nothing is kept for it."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.controllers.session import STORAGE_ERRORS, ArchiveSession
from desktop.pending_edits import CuratorEdit, ItemGoneError, PendingEdits, catalog_id_of
from desktop.widgets.details_panel import DetailsPanel
from desktop.widgets.grid_model import GridModel
from store.errors import ReadOnlyIndexError
from store.services.browse import ItemDetails, item_details
from store.storage.health import open_catalog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EditResult:
    """A curator edit written (`details`: the item as it is now) or kept for later (`kept`: how many
    edits of the archive wait, `error`: why it could not be written), or refused by a read-only index
    (`read_only`: not kept, it never will be written)."""

    edit: CuratorEdit
    written: bool
    details: ItemDetails | None = None
    kept: int = 0
    error: str = ""
    read_only: bool = False


def write_edit(catalog_path: Path, edit: CuratorEdit, pending: PendingEdits, try_now: bool) -> EditResult:
    """Write a curator edit (older kept edits of its archive first), or keep it when the catalog
    cannot take it (storage errors only: anything else is raised, as a rejected label is), or when
    the catalog at the path is another one than the edit was made in. A read-only index refuses it
    (not kept: it would wait for ever)."""
    error = ""
    if try_now:
        try:
            with open_catalog(catalog_path) as catalog:
                if not edit.catalog_id:  # made before the window knew its catalog: it is this one
                    edit = dataclasses.replace(edit, catalog_id=catalog_id_of(catalog))
                pending.write(edit.archive, catalog)
                fits = edit.fits(catalog)
                item_id = edit.apply(catalog) if fits else None
                details = item_details(catalog, item_id) if item_id is not None else None
        except ReadOnlyIndexError as exc:
            return EditResult(edit, False, error=str(exc), read_only=True)
        except STORAGE_ERRORS as exc:
            error = str(exc)
        else:
            if not fits:
                error = f"the index at {catalog_path} is another catalog than the edit was made in"
            elif item_id is None:
                raise ItemGoneError(f"{edit.path or 'the item'} is no longer in the catalog")
            else:
                return EditResult(edit, True, details)
    return EditResult(edit, False, kept=pending.add(edit), error=error)


def write_kept(catalog_path: Path, archive: str, pending: PendingEdits) -> tuple[int, int]:
    """Write the kept edits of `archive`; (written, dropped). Nothing is opened when none are kept."""
    if not pending.count(archive):
        return 0, 0
    with open_catalog(catalog_path) as catalog:
        return pending.write(archive, catalog)


class CurationController(QObject):
    """Writes what the curator edits in the details panel; says how it went."""

    description_saved = Signal(int)  # item id
    labels_saved = Signal(int)  # item id
    labels_changed = Signal()  # category counts follow the curator's labels
    edit_kept = Signal(int)  # item id of a curator edit kept for later (the archive is unavailable)
    kept_count = Signal(int)  # how many edits of the open archive wait to be written
    kept_edits_written = Signal(int)  # number of kept curator edits written to the catalog
    written_back = Signal()  # kept edits were written: the list and the details show them
    check_wanted = Signal()  # an edit could not be written: check the archive
    read_only_found = Signal()  # the index refused an edit as read-only

    def __init__(self, session: ArchiveSession, panel: DetailsPanel, model: GridModel, parent: QWidget):
        super().__init__(session)
        self.session, self.panel, self.model, self.parent_widget = session, panel, model, parent
        self._retry_kept = False  # an edit failed while all looked well: write it after the next check
        session.back.connect(self.write_kept_edits)
        panel.description_edited.connect(self.save_description)
        panel.label_confirmed.connect(lambda i, head, label: self.edit_label(i, head, label, False))
        panel.label_rejected.connect(lambda i, head, label: self.edit_label(i, head, label, True))

    def save_description(self, item_id: int, text: str) -> None:
        """Write the description (called about a second after the last key, and on leaving it)."""
        self._write(self._edit(item_id, "description", text=text), self._save_failed)

    def edit_label(self, item_id: int, head: str, label: str, reject: bool) -> None:
        """Confirm (or reject) a label of an item as the curator's, then refresh the shown labels."""
        kind = "reject" if reject else "confirm"
        self._write(self._edit(item_id, kind, head=head, label=label), self._label_failed)

    def _edit(self, item_id: int, kind: str, **values) -> CuratorEdit | None:
        """A curator edit of `item_id` in the open archive (naming its file, should its id change)."""
        session = self.session
        if session.archive is None:
            return None
        shown = self.panel.details
        entry = shown if shown is not None and shown.item_id == item_id else None
        if entry is None:
            entry = next((e for e in self.model.entries() if e.item_id == item_id), None)
        return CuratorEdit(
            str(session.archive), item_id, entry.path if entry else "", kind,
            region=entry.region if entry else None, catalog_id=session.catalog_id or "", **values,
        )  # fmt: skip

    def _write(self, edit: CuratorEdit | None, on_failed) -> None:
        """Write a curator edit in the writer thread, or keep it (on disk) while the archive or its
        index is unavailable, to be written when it is back."""
        session = self.session
        if edit is None or session.catalog_path is None:
            return
        if session.read_only:
            logger.warning("curator edit not saved, the index is read-only: %s", edit)
            session.say(self._read_only_text(), 15_000)
            return
        path, pending, try_now = session.catalog_path, session.pending, session.problem is None
        session.writes.submit(lambda: write_edit(path, edit, pending, try_now), self._on_written, on_failed)

    def _read_only_text(self) -> str:
        return self.tr(
            "The archive's index is read-only (read-only folder or medium): edits cannot be saved in it. "
            "Your edit was not saved."
        )

    def _on_written(self, result: EditResult) -> None:
        edit, session = result.edit, self.session
        if result.read_only:  # never kept: a read-only index will not take it later either
            logger.warning("curator edit not saved (%s): %s", result.error, edit)
            self.read_only_found.emit()
            session.say(self._read_only_text(), 15_000)
        elif not result.written:
            why = result.error or "archive unavailable"
            logger.warning("curator edit kept for later (%s): %s", why, edit)
            if session.problem is None:  # it failed while all looked well: checked now, retried after
                self._retry_kept = True
                message = self.tr(
                    "The edit could not be written now ({error}); it is kept and will be "
                    "written later ({count} waiting)"
                ).format(error=why, count=result.kept)
            else:
                message = self.tr(
                    "The archive is not available: your edit is kept and will be written when "
                    "it is back ({count} waiting)"
                ).format(count=result.kept)
            session.say(message, 15_000)
            self.kept_count.emit(result.kept)
            self.check_wanted.emit()
            self.edit_kept.emit(edit.item_id)
        elif edit.kind == "description":
            session.say(self.tr("Description saved"), 5_000)
            self.description_saved.emit(result.details.item_id)
        else:
            self.panel.update_labels(result.details)
            if edit.kind == "confirm":
                self.panel.remember_label(edit.head, edit.label)
            session.say(self.tr("Labels saved"), 5_000)
            self.labels_changed.emit()
            self.labels_saved.emit(result.details.item_id)

    def _label_failed(self, exc: Exception) -> None:
        logger.error("saving a label failed: %s", exc)
        QMessageBox.warning(
            self.parent_widget,
            self.tr("Label not saved"),
            self.tr("The label could not be saved: {error}").format(error=exc),
        )

    def _save_failed(self, exc: Exception) -> None:
        logger.error("saving a description failed: %s", exc)
        QMessageBox.warning(
            self.parent_widget,
            self.tr("Description not saved"),
            self.tr("The description could not be saved: {error}").format(error=exc),
        )

    def retry(self) -> None:
        """All looks well again after an edit failed: write the kept edits."""
        if self._retry_kept:
            self._retry_kept = False
            self.write_kept_edits()

    def write_kept_edits(self) -> None:
        """Write the curator edits kept while the open archive was unavailable (if any)."""
        session = self.session
        if session.catalog_path is None or session.problem is not None or session.read_only:
            return  # a read-only index takes none: they stay kept (for when it can be written)
        path, archive, pending = session.catalog_path, str(session.archive), session.pending
        session.writes.submit(lambda: write_kept(path, archive, pending), self._on_kept_written,
                              self._kept_failed)  # fmt: skip

    def _on_kept_written(self, counts: tuple[int, int]) -> None:
        written, dropped = counts
        if written or dropped:
            message = self.tr("Edits kept while the archive was unavailable are written: {count}").format(
                count=written
            )
            if dropped:
                message += self.tr("; {count} were for items no longer indexed").format(count=dropped)
            self.session.say(message, 15_000)
            self.kept_count.emit(0)
            self.written_back.emit()
            self.kept_edits_written.emit(written)

    def _kept_failed(self, exc: Exception) -> None:
        logger.warning("kept curator edits not written yet: %s", exc)
        self.check_wanted.emit()
