"""The duplicates window: one group per set of exact or near-duplicate copies, the copies' facts side by
side, a suggestion of which to keep (`store.services.keep_suggestion`), and the curator's marks.

`store.services.duplicates.find_duplicates` runs in a pool thread behind a busy indicator; thumbnails load in
the pool too. Each file can be marked "Keep" or "Duplicate", one by one or by accepting a group's
suggestion (or every unmarked group's); marks are saved in the catalog (`store.storage.marks`) after
every change, so they survive restarts and follow moved files. Imago never deletes or moves the
curator's files: the marks are notes to act on ("Copy paths of duplicates", "Export marked list…").
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
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

from desktop.widgets.duplicate_group import (
    FILE,
    MARK,
    PATH,
    GroupHeader,
    GroupRole,
    MemberRole,
    column_titles,
    member_row,
)
from desktop.workers.duplicate_jobs import Cancelled, DuplicatesFound, find, load_thumbnails, save_marks
from desktop.workers.item_jobs import export_target
from desktop.workers.tasks import TaskRunner
from store.services.duplicate_export import marked_duplicates, write_marked
from store.services.duplicates import DuplicateMember
from store.storage.archive import IndexLocation
from store.storage.marks import DUPLICATE, KEEP
from store.storage.thumbnails import ThumbnailCache

logger = logging.getLogger(__name__)

THUMB_SIZE = 72
THUMB_CHUNK = 100  # thumbnails per pool job, so the first rows fill in quickly
MARK_COLOURS = {KEEP: QColor(30, 130, 60), DUPLICATE: QColor(190, 50, 40)}


class DuplicatesWindow(QWidget):
    """Lists the duplicate groups of one archive; `search(location)` (re)computes them."""

    marks_saved = Signal()
    exported = Signal(Path, int)  # the file written, the rows in it

    def __init__(self, tasks: TaskRunner, writes: TaskRunner, parent: QWidget | None = None) -> None:
        """`tasks` runs the searches and thumbnails; `writes` (one thread) the marks, in the order made."""
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Duplicates"))
        self.resize(1180, 680)
        self.tasks, self.writes = tasks, writes
        self.location: IndexLocation | None = None
        self.found: DuplicatesFound | None = None
        self.marks: dict[int, str] | None = None  # None until a search has finished
        self._generation = 0
        self._cancel = threading.Event()
        self._rows: dict[int, QTreeWidgetItem] = {}  # item id -> its row (groups are disjoint)
        self._headers: list[GroupHeader] = []  # one per group
        self._export_dir = Path.home()

        self.status = QLabel(wordWrap=True)
        self.busy = QProgressBar(maximumWidth=260, textVisible=False)
        self.again_button = QPushButton(self.tr("Search again"))
        self.again_button.clicked.connect(self.search_again)
        top = QHBoxLayout()
        top.addWidget(self.status, stretch=1)
        top.addWidget(self.busy)
        top.addWidget(self.again_button)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(column_titles())
        self.tree.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setUniformRowHeights(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the ends of paths tell copies apart
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(FILE, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(PATH, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(FILE, 260)
        self.tree.itemSelectionChanged.connect(self._update_actions)
        self.tree.itemActivated.connect(lambda item: self._open(item.data(FILE, MemberRole)))
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
        self.accept_all_button = QPushButton(self.tr("Accept all suggestions"))
        self.accept_all_button.setToolTip(
            self.tr("Accept the suggestion of every group in which no file is marked yet")
        )
        self.accept_all_button.clicked.connect(self.accept_all)
        buttons.addWidget(self.accept_all_button)
        buttons.addStretch(1)
        self.copy_button = QPushButton(self.tr("Copy paths of duplicates"))
        self.copy_button.setToolTip(self.tr("Copy the full paths of the files marked as duplicates"))
        self.copy_button.clicked.connect(self.copy_duplicate_paths)
        buttons.addWidget(self.copy_button)
        self.export_button = QPushButton(self.tr("Export marked list…"))
        self.export_button.setToolTip(
            self.tr("Save the files marked as duplicates, each with the copy to keep, as CSV or JSON")
        )
        self.export_button.clicked.connect(self.export_marked)
        buttons.addWidget(self.export_button)
        note = QLabel(
            "<i>{}</i>".format(
                self.tr("Imago never deletes or moves files: the marks are notes for you, saved with "
                        "the archive's index.")
            ),
            wordWrap=True,
        )  # fmt: skip
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.close)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(note, stretch=1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, stretch=1)
        layout.addLayout(buttons)
        layout.addLayout(bottom)
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
        self.found = self.marks = None
        self.tree.clear()
        self._rows.clear()
        self._headers.clear()
        self.status.setText(self.tr("Looking for duplicates in {archive}…").format(archive=location.archive))
        self.busy.setRange(0, 0)
        self.busy.setVisible(True)
        self.again_button.setEnabled(False)
        self._update_actions()
        self.tasks.submit(
            lambda step: find(location, cancel, step),
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
        if isinstance(exc, Cancelled):
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
        self.found, self.marks = found, found.marks
        thumbs = ThumbnailCache(self.location.thumbnails_dir)
        wanted: list[tuple[int, Path]] = []
        heads = []
        with self._bulk_edit():
            for index, group in enumerate(found.groups):  # built detached, added at once: no relayout per row
                head = QTreeWidgetItem()
                head.setFlags(Qt.ItemFlag.ItemIsEnabled)
                for member in group.members:
                    row = member_row(group, index, member, self.location.archive)
                    head.addChild(row)
                    self._rows[member.item_id] = row
                    self._show_mark(row)
                    if member.hash:
                        wanted.append((member.item_id, thumbs.path(member.hash)))
                heads.append(head)
            self.tree.addTopLevelItems(heads)
            for head in heads:  # before any item widget: each of those posts a relayout that spanning runs
                head.setFirstColumnSpanned(True)
            for index, (head, group, suggestion) in enumerate(
                zip(heads, found.groups, found.suggestions, strict=True)
            ):
                header = GroupHeader(group, suggestion)
                header.accept.connect(lambda index=index: self.accept_suggestion(index))
                self.tree.setItemWidget(head, FILE, header)
                self._headers.append(header)
            self.tree.expandAll()
        self._summarise(found)
        for start in range(0, len(wanted), THUMB_CHUNK):
            chunk = wanted[start : start + THUMB_CHUNK]
            self.tasks.submit(
                lambda chunk=chunk: load_thumbnails(chunk, THUMB_SIZE),
                lambda images: self._show_thumbs(generation, images),
            )
        self._update_actions()

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
            if item_id in self._rows:
                self._rows[item_id].setIcon(FILE, QIcon(QPixmap.fromImage(image)))

    def group_header(self, index: int) -> GroupHeader:
        """The header (title, suggestion, accept button) of the group numbered `index`."""
        return self._headers[index]

    # -- marks ------------------------------------------------------------------------------------

    def selected_members(self) -> list[DuplicateMember]:
        return [m for m in (i.data(FILE, MemberRole) for i in self.tree.selectedItems()) if m is not None]

    def mark_of(self, member: DuplicateMember) -> str | None:
        return self.marks.get(member.item_id) if self.marks is not None else None

    def mark_selected(self, mark: str | None) -> None:
        """Mark (or unmark) the selected files and save the marks in the catalog, in the pool."""
        self._set_marks({m.item_id: mark for m in self.selected_members()})

    def accept_suggestion(self, index: int) -> None:
        """Mark the suggested copy of group `index` to keep and the others as duplicates."""
        self._set_marks(self._suggested_marks(index))

    def accept_all(self) -> None:
        """Accept the suggestion of every group none of whose files is marked yet."""
        marks: dict[int, str | None] = {}
        for index in self._unmarked_groups():
            marks.update(self._suggested_marks(index))
        self._set_marks(marks)

    def _suggested_marks(self, index: int) -> dict[int, str | None]:
        keep = self.found.suggestions[index].keep.item_id
        return {m.item_id: KEEP if m.item_id == keep else DUPLICATE for m in self.found.groups[index].members}

    def _unmarked_groups(self) -> list[int]:
        if self.found is None or self.marks is None:
            return []
        return [i for i, group in enumerate(self.found.groups)
                if not any(m.item_id in self.marks for m in group.members)]  # fmt: skip

    def _set_marks(self, marks: dict[int, str | None]) -> None:
        if self.marks is None or self.location is None or not marks:
            return
        with self._bulk_edit():
            for item_id, mark in marks.items():
                if mark is None:
                    self.marks.pop(item_id, None)
                else:
                    self.marks[item_id] = mark
                self._show_mark(self._rows[item_id])
        path = self.location.catalog_path
        self.writes.submit(lambda: save_marks(path, marks), lambda _: self.marks_saved.emit(),
                          self._save_failed)  # fmt: skip
        self._update_actions()

    @contextlib.contextmanager
    def _bulk_edit(self):
        header = self.tree.header()
        modes = [header.sectionResizeMode(i) for i in range(header.count())]
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        try:
            yield
        finally:
            for i, mode in enumerate(modes):
                header.setSectionResizeMode(i, mode)

    def _save_failed(self, exc: Exception) -> None:
        logger.error("saving duplicate marks failed: %s", exc)
        self.status.setText(self.tr("The marks could not be saved: {error}").format(error=exc))

    def _show_mark(self, row: QTreeWidgetItem) -> None:
        member = row.data(FILE, MemberRole)
        mark = self.mark_of(member)
        suggested = self.found.suggestions[row.data(FILE, GroupRole)].keep.item_id == member.item_id
        names = {KEEP: self.tr("Keep"), DUPLICATE: self.tr("Duplicate")}
        row.setText(MARK, names[mark] if mark else self.tr("(suggested: keep)") if suggested else "")
        row.setForeground(MARK, QBrush(MARK_COLOURS[mark]) if mark else QBrush(QColor(Qt.GlobalColor.gray)))
        font = row.font(MARK)
        font.setBold(mark is not None)
        font.setItalic(mark is None)
        row.setFont(MARK, font)

    def duplicate_paths(self) -> list[Path]:
        """Full paths of the listed files marked as duplicates, in list order."""
        if self.location is None:
            return []
        members = [row.data(FILE, MemberRole) for row in self._rows.values()]
        return [self.location.archive / m.path for m in members if self.mark_of(m) == DUPLICATE]

    def copy_duplicate_paths(self) -> None:
        QGuiApplication.clipboard().setText("".join(f"{p}\n" for p in self.duplicate_paths()))

    def export_marked(self) -> None:
        """Ask where to save the list of files marked as duplicates (CSV or JSON) and write it in the pool."""
        if self.found is None or self.marks is None or self.location is None:
            return
        json_filter, csv_filter = self.tr("JSON files (*.json)"), self.tr("CSV files (*.csv)")
        suggested = self._export_dir / f"{self.location.archive.name}-duplicates.json"
        name, chosen = QFileDialog.getSaveFileName(
            self, self.tr("Export marked list"), str(suggested), f"{json_filter};;{csv_filter}"
        )
        if not name:
            return
        out, fmt = export_target(Path(name), chosen == csv_filter)
        self._export_dir = out.parent
        rows, archive = (
            marked_duplicates(self.found.groups, self.marks, self.location.archive),
            self.location.archive,
        )
        self.tasks.submit(lambda: write_marked(rows, out, archive, fmt), lambda n: self._exported(out, n),
                          self._export_failed)  # fmt: skip

    def _exported(self, out: Path, count: int) -> None:
        self.status.setText(
            self.tr("Saved {count} files marked as duplicates to {path}").format(count=count, path=out)
        )
        self.exported.emit(out, count)

    def _export_failed(self, exc: Exception) -> None:
        logger.error("exporting the marked list failed: %s", exc)
        self.status.setText(self.tr("The marked list could not be saved: {error}").format(error=exc))

    def _update_actions(self) -> None:
        can_mark = self.marks is not None and bool(self.selected_members())
        for action in (self.keep_action, self.duplicate_action, self.clear_action):
            action.setEnabled(can_mark)
        self.open_action.setEnabled(bool(self.selected_members()))
        has_rows = self.marks is not None and bool(self._rows)
        self.copy_button.setEnabled(has_rows)
        self.export_button.setEnabled(has_rows)
        self.accept_all_button.setEnabled(bool(self._unmarked_groups()))

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
