"""The duplicates window: groups of exact and near-duplicate files, with the curator's marks.

`store.services.duplicates.find_duplicates` runs in a pool thread behind a busy indicator; thumbnails load in
the pool too. Each file can be marked "Keep" or "Duplicate"; marks are saved in the catalog
(`store.storage.marks`) after every change, so they survive restarts and follow moved files.
Imago never deletes or moves the curator's files: the marks are notes to act on (e.g. with "Copy
paths of duplicates").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QIcon,
    QImage,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.workers.tasks import TaskRunner
from store.services.duplicates import DuplicateGroup, DuplicateMember, find_duplicates
from store.services.export import open_vector_index
from store.storage.archive import IndexLocation
from store.storage.catalog import Catalog
from store.storage.marks import DUPLICATE, KEEP, read_marks, set_marks
from store.storage.thumbnails import ThumbnailCache

logger = logging.getLogger(__name__)

THUMB_SIZE = 72
THUMB_CHUNK = 100  # thumbnails per pool job, so the first rows fill in quickly
MemberRole = Qt.ItemDataRole.UserRole + 1
MARK_COLOURS = {KEEP: QColor(30, 130, 60), DUPLICATE: QColor(190, 50, 40)}


@dataclass(frozen=True)
class DuplicatesFound:
    groups: list[DuplicateGroup]
    marks: dict[int, str]  # item id -> the curator's mark


class _Cancelled(Exception):
    """The window was closed or the search restarted while duplicates were being looked for."""


def _find(
    location: IndexLocation, cancel: threading.Event, step: Callable[[object], None]
) -> DuplicatesFound:
    def report(done: int, total: int) -> None:
        if cancel.is_set():
            raise _Cancelled
        step((done, total))  # representatives compared, all of them

    with Catalog(location.catalog_path) as catalog:
        groups = find_duplicates(
            catalog, open_vector_index(catalog, location.path), location.archive,
            thumbnails=ThumbnailCache(location.thumbnails_dir), progress=report,
        )  # fmt: skip
        marks = read_marks(catalog, {m.item_id for g in groups for m in g.members})
    return DuplicatesFound(groups, marks)


def _save_marks(catalog_path: Path, item_ids: list[int], mark: str | None) -> None:
    with Catalog(catalog_path) as catalog:
        set_marks(catalog, item_ids, mark)


def _load_thumbnails(paths: list[tuple[int, Path]]) -> list[tuple[int, QImage]]:
    out = []
    for item_id, path in paths:
        image = QImage(str(path))  # QImage (unlike QPixmap) may be built off the GUI thread
        if not image.isNull():
            out.append((item_id, image.scaled(THUMB_SIZE, THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation)))  # fmt: skip
    return out


class DuplicatesWindow(QWidget):
    """Lists the duplicate groups of one archive; `search(location)` (re)computes them."""

    marks_saved = Signal()

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Duplicates"))
        self.resize(980, 680)
        self.tasks = tasks
        self.location: IndexLocation | None = None
        self.marks: dict[int, str] | None = None  # None until a search has finished
        self._generation = 0
        self._cancel = threading.Event()
        # item id -> its rows (a file may head a near group and belong to an exact group too)
        self._rows: dict[int, list[QTreeWidgetItem]] = {}

        self.status = QLabel(wordWrap=True)
        self.busy = QProgressBar(maximumWidth=260, textVisible=False)
        self.again_button = QPushButton(self.tr("Search again"))
        self.again_button.clicked.connect(self.search_again)
        top = QHBoxLayout()
        top.addWidget(self.status, stretch=1)
        top.addWidget(self.busy)
        top.addWidget(self.again_button)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels([self.tr("File"), self.tr("Similarity"), self.tr("Mark")])
        self.tree.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setUniformRowHeights(False)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_actions)
        self.tree.itemActivated.connect(lambda item: self._open(item.data(0, MemberRole)))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.keep_action = self._action(self.tr("Keep"), "K", lambda: self.mark_selected(KEEP))
        self.keep_action.setToolTip(self.tr("Mark the selected files as the ones to keep (K)"))
        self.duplicate_action = self._action(
            self.tr("Mark as duplicate"), "D", lambda: self.mark_selected(DUPLICATE)
        )
        self.duplicate_action.setToolTip(self.tr("Mark the selected files as duplicates (D)"))
        self.clear_action = self._action(self.tr("Clear mark"), "U", lambda: self.mark_selected(None))
        self.clear_action.setToolTip(self.tr("Remove the marks of the selected files (U)"))
        self.open_action = self._action(self.tr("Open"), "", self._open_selected)
        buttons = QHBoxLayout()
        for action in (self.keep_action, self.duplicate_action, self.clear_action):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.copy_button = QPushButton(self.tr("Copy paths of duplicates"))
        self.copy_button.setToolTip(self.tr("Copy the full paths of the files marked as duplicates"))
        self.copy_button.clicked.connect(self.copy_duplicate_paths)
        buttons.addWidget(self.copy_button)
        note = QLabel(
            "<i>{}</i>".format(
                self.tr("Imago never deletes or moves files: the marks are notes for you, saved with "
                        "the archive's index.")
            ),
            wordWrap=True,
        )  # fmt: skip

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, stretch=1)
        layout.addLayout(buttons)
        layout.addWidget(note)
        self._update_actions()

    def _action(self, text: str, shortcut: str, slot) -> QAction:
        action = QAction(text, self, shortcut=shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.tree.addAction(action)
        return action

    # -- searching --------------------------------------------------------------------------------

    def search(self, location: IndexLocation) -> None:
        """Look for the duplicates of `location`'s archive in the pool (a running search is dropped)."""
        self.cancel()
        self._cancel = cancel = threading.Event()
        self._generation += 1
        generation = self._generation
        self.location = location
        self.marks = None
        self.tree.clear()
        self._rows.clear()
        self.status.setText(self.tr("Looking for duplicates in {archive}…").format(archive=location.archive))
        self.busy.setRange(0, 0)
        self.busy.setVisible(True)
        self.again_button.setEnabled(False)
        self._update_actions()
        self.tasks.submit(
            lambda step: _find(location, cancel, step),
            lambda found: self._show(generation, found),
            lambda exc: self._failed(generation, exc),
            lambda done_total: self._on_progress(generation, *done_total),
        )

    def search_again(self) -> None:
        if self.location is not None:
            self.search(self.location)

    def cancel(self) -> None:
        """Stop a search in progress at its next progress report."""
        self._cancel.set()

    def _on_progress(self, generation: int, done: int, total: int) -> None:
        if generation == self._generation and total:
            self.busy.setRange(0, total)
            self.busy.setValue(done)

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self._finish()
        if isinstance(exc, _Cancelled):
            self.status.setText(self.tr("The search for duplicates was stopped."))
        else:
            logger.warning("looking for duplicates failed: %s", exc)
            self.status.setText(self.tr("Could not look for duplicates: {error}").format(error=exc))

    def _finish(self) -> None:
        self.busy.setVisible(False)
        self.again_button.setEnabled(True)

    def _show(self, generation: int, found: DuplicatesFound) -> None:
        if generation != self._generation:
            return
        self._finish()
        self.marks = found.marks
        bold = QFont(self.tree.font())
        bold.setBold(True)
        thumbs = ThumbnailCache(self.location.thumbnails_dir)
        wanted: list[tuple[int, Path]] = []
        for group in found.groups:
            title = (
                self.tr("Exact copies: {count} files (same content)")
                if group.kind == "exact"
                else self.tr("Near duplicates: {count} files")
            ).format(count=len(group.members))
            head = QTreeWidgetItem([title])
            head.setFont(0, bold)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(head)
            head.setFirstColumnSpanned(True)
            for member in group.members:
                row = QTreeWidgetItem([member.path, self._similarity(group, member), ""])
                row.setData(0, MemberRole, member)
                row.setToolTip(0, member.path)
                row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                head.addChild(row)
                self._show_mark(row)
                if member.hash and member.item_id not in self._rows:
                    wanted.append((member.item_id, thumbs.path(member.hash)))
                self._rows.setdefault(member.item_id, []).append(row)
            head.setExpanded(True)
        self._summarise(found)
        for start in range(0, len(wanted), THUMB_CHUNK):
            chunk = wanted[start : start + THUMB_CHUNK]
            self.tasks.submit(
                lambda chunk=chunk: _load_thumbnails(chunk),
                lambda images: self._show_thumbs(generation, images),
            )
        self._update_actions()

    def _similarity(self, group: DuplicateGroup, member: DuplicateMember) -> str:
        if group.kind == "exact":
            return self.tr("identical")
        if member is group.members[0]:
            return self.tr("reference")
        return f"{member.score:.3f}"

    def _summarise(self, found: DuplicatesFound) -> None:
        exact = sum(1 for g in found.groups if g.kind == "exact")
        text = (
            self.tr("Groups found: {groups} ({exact} of exact copies, {near} of near duplicates).").format(
                groups=len(found.groups), exact=exact, near=len(found.groups) - exact
            )
            if found.groups
            else self.tr("No duplicates found.")
        )
        self.status.setText(text)

    def _show_thumbs(self, generation: int, images: list[tuple[int, QImage]]) -> None:
        if generation != self._generation:
            return
        for item_id, image in images:
            icon = QIcon(QPixmap.fromImage(image))
            for row in self._rows.get(item_id, []):
                row.setIcon(0, icon)

    # -- marks ------------------------------------------------------------------------------------

    def selected_members(self) -> list[DuplicateMember]:
        return [m for m in (i.data(0, MemberRole) for i in self.tree.selectedItems()) if m is not None]

    def mark_of(self, member: DuplicateMember) -> str | None:
        return self.marks.get(member.item_id) if self.marks is not None else None

    def mark_selected(self, mark: str | None) -> None:
        """Mark (or unmark) the selected files and save the marks in the catalog, in the pool."""
        members = self.selected_members()
        if self.marks is None or self.location is None or not members:
            return
        ids = sorted({m.item_id for m in members})
        for item_id in ids:
            if mark is None:
                self.marks.pop(item_id, None)
            else:
                self.marks[item_id] = mark
            for row in self._rows[item_id]:
                self._show_mark(row)
        path = self.location.catalog_path
        self.tasks.submit(lambda: _save_marks(path, ids, mark), lambda _: self.marks_saved.emit(),
                          self._save_failed)  # fmt: skip

    def _save_failed(self, exc: Exception) -> None:
        logger.error("saving duplicate marks failed: %s", exc)
        self.status.setText(self.tr("The marks could not be saved: {error}").format(error=exc))

    def _show_mark(self, row: QTreeWidgetItem) -> None:
        mark = self.mark_of(row.data(0, MemberRole))
        names = {KEEP: self.tr("Keep"), DUPLICATE: self.tr("Duplicate")}
        row.setText(2, names.get(mark, ""))
        row.setForeground(2, QBrush(MARK_COLOURS[mark]) if mark else QBrush())
        font = row.font(2)
        font.setBold(mark is not None)
        row.setFont(2, font)

    def duplicate_paths(self) -> list[Path]:
        """Full paths of the listed files marked as duplicates, in list order."""
        if self.location is None:
            return []
        members = [rows[0].data(0, MemberRole) for rows in self._rows.values()]
        return [self.location.archive / m.path for m in members if self.mark_of(m) == DUPLICATE]

    def copy_duplicate_paths(self) -> None:
        QGuiApplication.clipboard().setText("".join(f"{p}\n" for p in self.duplicate_paths()))

    def _update_actions(self) -> None:
        can_mark = self.marks is not None and bool(self.selected_members())
        for action in (self.keep_action, self.duplicate_action, self.clear_action):
            action.setEnabled(can_mark)
        self.open_action.setEnabled(bool(self.selected_members()))
        self.copy_button.setEnabled(self.marks is not None and bool(self._rows))

    # -- files ------------------------------------------------------------------------------------

    def _open(self, member: DuplicateMember | None) -> None:
        if member is not None and self.location is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.location.archive / member.path)))

    def _open_selected(self) -> None:
        for member in self.selected_members()[:10]:  # a slip of the key must not open hundreds
            self._open(member)

    def closeEvent(self, event) -> None:
        self.cancel()
        super().closeEvent(event)
