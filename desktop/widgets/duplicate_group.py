"""One group of the duplicates window: its header (what the copies are, which to keep and why, the
button that accepts that) and a row per copy with the facts that tell copies apart."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTreeWidgetItem, QWidget

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


def _tr(text: str) -> str:
    return QCoreApplication.translate("DuplicateGroup", text)


def column_titles() -> list[str]:
    return [
        _tr("File"), _tr("Pixels"), _tr("File size"), _tr("Taken"), _tr("Modified"), _tr("Similarity"),
        _tr("Mark"), _tr("Full path"),
    ]  # fmt: skip


def pixels(copy: FileCopy) -> str:
    return f"{copy.width}×{copy.height}" if copy.width and copy.height else "?"


def data_size(size: int) -> str:
    """`size` bytes in binary units (KiB, MiB, GiB) of the UI's language."""
    units = [_tr("{size} B"), _tr("{size} KiB"), _tr("{size} MiB"), _tr("{size} GiB")]
    value = float(size)
    for power, unit in enumerate(units):
        if value < 1024 or power == len(units) - 1:
            return unit.format(size=f"{value:.0f}" if power == 0 else f"{value:.1f}")
        value /= 1024
    raise AssertionError("unreachable")


def when(seconds: float | None) -> str:
    return dt.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M") if seconds is not None else "—"


def reason_text(suggestion: KeepSuggestion) -> str:
    """Why the suggestion keeps its copy, e.g. "largest (4000×3000), oldest (modified 2019-03-02 10:00)"."""
    copy = suggestion.keep
    texts = {
        DESCRIBED: _tr("has a description"),
        LARGEST: _tr("largest ({pixels})").format(pixels=pixels(copy)),
        OLDEST: _tr("oldest (modified {date})").format(date=when(copy.mtime_ns / 1e9)),
        LARGEST_FILE: _tr("largest file ({size})").format(size=data_size(copy.size)),
        FIRST: _tr("first by name"),
    }
    return ", ".join(texts[reason] for reason in suggestion.reasons)


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
    row.setText(SIZE, data_size(copy.size))
    row.setText(TAKEN, when(copy.taken_at))
    row.setText(MODIFIED, when(copy.mtime_ns / 1e9))
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
        return _tr("identical")
    if member is group.members[0]:
        return _tr("reference")
    return f"{member.score:.3f}"
