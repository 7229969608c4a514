"""One group of the duplicates window: its header (what the copies are, which to keep and why, the
button that accepts that) and a row per copy with the facts that tell copies apart."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTreeWidgetItem, QWidget

from desktop.widgets.formatting import human_bytes, local_time
from store.services.duplicates import DuplicateGroup, DuplicateMember
from store.services.keep_suggestion import (
    DESCRIBED,
    FIRST,
    LARGEST,
    LARGEST_FILE,
    OLDEST,
    KeepSuggestion,
)
from store.storage.views import FileCopy

FILE, PIXELS, SIZE, TAKEN, MODIFIED, SIMILARITY, MARK, PATH = range(8)
MemberRole = Qt.ItemDataRole.UserRole + 1
GroupRole = Qt.ItemDataRole.UserRole + 2


COLUMN_TITLES = (
    QT_TRANSLATE_NOOP("DuplicateGroup", "File"),
    QT_TRANSLATE_NOOP("DuplicateGroup", "Pixels"),
    QT_TRANSLATE_NOOP("DuplicateGroup", "File size"),
    QT_TRANSLATE_NOOP("DuplicateGroup", "Taken"),
    QT_TRANSLATE_NOOP("DuplicateGroup", "Modified"),
    QT_TRANSLATE_NOOP("DuplicateGroup", "Similarity"),
    QT_TRANSLATE_NOOP("DuplicateGroup", "Mark"),
    QT_TRANSLATE_NOOP("DuplicateGroup", "Full path"),
)
REASONS = {
    DESCRIBED: QT_TRANSLATE_NOOP("DuplicateGroup", "has a description"),
    LARGEST: QT_TRANSLATE_NOOP("DuplicateGroup", "largest ({pixels})"),
    OLDEST: QT_TRANSLATE_NOOP("DuplicateGroup", "oldest (modified {date})"),
    LARGEST_FILE: QT_TRANSLATE_NOOP("DuplicateGroup", "largest file ({size})"),
    FIRST: QT_TRANSLATE_NOOP("DuplicateGroup", "first by name"),
}
IDENTICAL = QT_TRANSLATE_NOOP("DuplicateGroup", "identical")
REFERENCE = QT_TRANSLATE_NOOP("DuplicateGroup", "reference")


def _tr(text: str) -> str:
    return QCoreApplication.translate("DuplicateGroup", text)


def column_titles() -> list[str]:
    return [_tr(title) for title in COLUMN_TITLES]


def pixels(copy: FileCopy) -> str:
    return f"{copy.width}×{copy.height}" if copy.width and copy.height else "?"


def reason_text(suggestion: KeepSuggestion) -> str:
    """Why the suggestion keeps its copy, e.g. "largest (4000×3000), oldest (modified 2019-03-02 10:00)"."""
    copy = suggestion.keep
    values = {"pixels": pixels(copy), "date": local_time(copy.mtime_ns / 1e9), "size": human_bytes(copy.size)}
    return ", ".join(_tr(REASONS[reason]).format(**values) for reason in suggestion.reasons)


class GroupHeader(QWidget):
    """The head row of a group: its title, the suggestion with its reason, and "Accept suggestion"."""

    accept = Signal()

    def __init__(
        self, group: DuplicateGroup, suggestion: KeepSuggestion, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        title = (
            self.tr("Exact copies: {count} files (same content)")
            if group.kind == "exact"
            else self.tr("Near duplicates: {count} files")
        ).format(count=len(group.members))
        self.title = QLabel(f"<b>{html.escape(title)}</b>")
        self.suggestion = QLabel(
            self.tr("Suggestion: keep {path}: {reason}").format(
                path=suggestion.keep.path, reason=reason_text(suggestion)
            )
        )
        self.suggestion.setTextFormat(Qt.TextFormat.PlainText)
        self.suggestion.setToolTip(suggestion.keep.path)
        self.accept_button = QPushButton(self.tr("Accept suggestion"))
        self.accept_button.setToolTip(self.tr("Mark the suggested copy to keep and the others as duplicates"))
        self.accept_button.clicked.connect(self.accept)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.title)
        layout.addSpacing(16)
        layout.addWidget(self.suggestion, stretch=1)
        layout.addWidget(self.accept_button)


def member_row(group: DuplicateGroup, index: int, member: DuplicateMember, archive: Path) -> QTreeWidgetItem:
    """The row of `member`, a copy in the group numbered `index` (its mark column is left empty)."""
    copy = member.copy
    full_path = str(archive / copy.path)
    row = QTreeWidgetItem()
    row.setText(FILE, copy.path)
    row.setText(PIXELS, pixels(copy))
    row.setText(SIZE, human_bytes(copy.size))
    row.setText(TAKEN, local_time(copy.taken_at))
    row.setText(MODIFIED, local_time(copy.mtime_ns / 1e9))
    row.setText(SIMILARITY, _similarity(group, member))
    row.setText(PATH, full_path)
    row.setToolTip(FILE, full_path)
    row.setToolTip(PATH, full_path)
    for column in (PIXELS, SIZE, SIMILARITY):
        row.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    row.setData(FILE, MemberRole, member)
    row.setData(FILE, GroupRole, index)
    return row


def _similarity(group: DuplicateGroup, member: DuplicateMember) -> str:
    if group.kind == "exact" or (member is not group.members[0] and member.hash == group.members[0].hash):
        return _tr(IDENTICAL)
    if member is group.members[0]:
        return _tr(REFERENCE)
    return f"{member.score:.3f}"
