"""The details panel, in the order a curator reads it: preview (with the region outlined), the file's
name, the curator's description with the generated caption beside it, dates, size and pixels, folder,
then the labels (`label_list.LabelsView`).

The window hands it an `ItemDetails` and the file's dates (read in a pool thread), then the decoded
preview image. The panel only reports what the curator did; the window writes it:
`description_edited(item_id, text)` about a second after the curator's last key (so a crash loses at
most that second of typing), and at once when the editor loses focus, another item is shown or the
caption is taken as the description, whenever the text differs from the last one reported;
`label_confirmed(item_id, head, label)` for a confirmed model suggestion or a typed-in label,
`label_rejected(item_id, head, label)` for a wrong one.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFocusEvent, QImage, QPainter, QPen, QPixmap, QTextCursor
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.widgets.formatting import human_bytes, local_time
from desktop.widgets.label_list import LabelsView
from store.services.browse import ItemDetails

logger = logging.getLogger(__name__)

PREVIEW_SIZE = 360
SAVE_DELAY_MS = 1000  # a description is saved this long after the last key (debounced)


@dataclass(frozen=True)
class ItemDates:
    """When the photo was taken (EXIF; None when unknown) and when its file was last modified (epoch s)."""

    taken_at: float | None
    modified_at: float | None


class DescriptionEdit(QPlainTextEdit):
    """A plain text editor that reports focus loss (the description is saved then at the latest)."""

    focus_lost = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()


def outlined(image: QImage, region: tuple[int, int, int, int] | None, full_width: int | None) -> QPixmap:
    """`image` (a scaled-down preview of a `full_width`-pixel-wide file) with `region` outlined."""
    pixmap = QPixmap.fromImage(image)
    if region is None or not full_width or image.isNull():
        return pixmap
    scale = image.width() / full_width
    x, y, w, h = (round(v * scale) for v in region)
    painter = QPainter(pixmap)
    pen = QPen(QColor(255, 196, 0), max(2, image.width() // 150))
    painter.setPen(pen)
    painter.drawRect(QRect(x, y, max(1, w), max(1, h)))
    painter.end()
    return pixmap


class DetailsPanel(QScrollArea):
    """Shows one item; `show_item(None)` clears it."""

    description_edited = Signal(int, str)
    label_confirmed = Signal(int, str, str)  # item id, head, label
    label_rejected = Signal(int, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setMinimumWidth(PREVIEW_SIZE + 40)
        body = QWidget()
        layout = QVBoxLayout(body)
        self.preview = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(PREVIEW_SIZE // 2)
        self.title = QLabel(wordWrap=True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description = DescriptionEdit()
        self.description.setPlaceholderText(self.tr("Curator's description (saved as you type)"))
        self.description.setMaximumHeight(110)
        self.description.focus_lost.connect(self._maybe_save)
        # Typing restarts the timer; it saves once the curator pauses, through the same signal.
        self.save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self.save_timer.timeout.connect(self._maybe_save)
        self.description.textChanged.connect(self._typed)
        self.caption = QLabel(wordWrap=True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setToolTip(self.tr("Written by the caption model; searchable like the description"))
        self.use_caption = QPushButton(self.tr("Use as description"))
        self.use_caption.setToolTip(self.tr("Copy the generated caption into the description, to edit it"))
        self.use_caption.clicked.connect(self.use_caption_as_description)
        caption_row = QHBoxLayout()
        caption_row.addWidget(self.caption, stretch=1)
        caption_row.addWidget(self.use_caption, alignment=Qt.AlignmentFlag.AlignTop)
        facts = QWidget()
        self.facts = QFormLayout(facts)
        self.facts.setContentsMargins(0, 0, 0, 0)
        self.labels = LabelsView()
        self.labels.confirmed.connect(lambda h, label: self._label_action(self.label_confirmed, h, label))
        self.labels.rejected.connect(lambda h, label: self._label_action(self.label_rejected, h, label))
        layout.addWidget(self.preview)
        layout.addWidget(self.title)
        layout.addWidget(QLabel("<b>{}</b>".format(self.tr("Description"))))
        layout.addWidget(self.description)
        layout.addWidget(QLabel("<b>{}</b>".format(self.tr("Generated caption"))))
        layout.addLayout(caption_row)
        layout.addWidget(facts)
        layout.addWidget(self.labels)
        layout.addStretch(1)
        self.setWidget(body)
        self.details: ItemDetails | None = None
        self._saved_text = ""
        self._read_only = False
        self.show_item(None)

    def show_item(self, details: ItemDetails | None, dates: ItemDates | None = None) -> None:
        """Show an item (`dates`: its file's, when known), or nothing."""
        self._maybe_save()  # leaving an item with unsaved edits saves them first
        self.details = details
        self.preview.clear()
        while self.facts.rowCount():
            self.facts.removeRow(0)
        if details is None:
            self.title.setText(self.tr("Select an image to see its details."))
            self.title.setToolTip("")
            self.labels.show_labels(None)
            self.caption.clear()
            self._saved_text = ""
            self.description.setPlainText("")
            self.description.setEnabled(False)
            self.use_caption.setEnabled(False)
            self.save_timer.stop()
            return
        self.preview.setText(self.tr("Loading preview…"))
        path = PurePosixPath(details.path)
        where = path.name
        if details.region:
            x, y, w, h = details.region
            where += self.tr("  (region {w}×{h} at {x},{y})").format(x=x, y=y, w=w, h=h)
        self.title.setText(f"<b>{html.escape(where)}</b>")
        self.title.setToolTip(details.path)
        self.caption.setText(details.caption or "—")
        self._saved_text = details.description or ""
        self.description.setEnabled(True)
        self.description.setPlainText(self._saved_text)
        self.save_timer.stop()
        self._enable_use_caption()
        self._show_facts(details, dates, str(path.parent) if path.parent.name else "")
        self.labels.show_labels(details.labels)

    def _show_facts(self, details: ItemDetails, dates: ItemDates | None, folder: str) -> None:
        if dates is not None and dates.taken_at is not None:
            self.facts.addRow(self.tr("Taken"), QLabel(local_time(dates.taken_at)))
        if dates is not None and dates.modified_at is not None:
            self.facts.addRow(self.tr("Modified"), QLabel(local_time(dates.modified_at)))
        pixels = f"{details.width}×{details.height}" if details.width else "?"
        self.facts.addRow(
            self.tr("Size"),
            QLabel(self.tr("{size} px, {bytes}").format(size=pixels, bytes=human_bytes(details.size))),
        )
        self.facts.addRow(self.tr("Format"), QLabel(details.format or "?"))
        shown = QLabel(folder or self.tr("the archive's top folder"), textFormat=Qt.TextFormat.PlainText)
        shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.addRow(self.tr("Folder"), shown)

    def update_labels(self, details: ItemDetails | None) -> None:
        """New labels of the shown item (after a curator edit); the rest of the panel stays."""
        if details is not None and self.details is not None and details.item_id == self.details.item_id:
            self.details = details
            self.labels.show_labels(details.labels)

    def set_archive_labels(self, labels: dict[str, list[str]]) -> None:
        """The labels the open archive uses, by head: adding a label offers them."""
        self.labels.set_archive_labels(labels)

    def remember_label(self, head: str, label: str) -> None:
        """A label the curator gave: adding labels offers it from now on."""
        self.labels.names[head].add_archive_label(label)

    def set_read_only(self, read_only: bool, why: str) -> None:
        """Let the description and labels be edited, or not (`why` says why not, as their tooltip)."""
        self._read_only = read_only
        self.description.setReadOnly(read_only)
        self.description.setToolTip(why)
        self.labels.setEnabled(not read_only)
        self.labels.setToolTip(why)
        self._enable_use_caption()

    def use_caption_as_description(self) -> None:
        """Put the generated caption in the description editor and save it, as if typed: replacing a
        description the curator wrote is asked first, and Ctrl+Z in the editor brings it back."""
        if self.details is None or not self.details.caption or self._read_only:
            return
        written = self.description.toPlainText().strip()
        if written and written != self.details.caption.strip():
            answer = QMessageBox.question(
                self, self.tr("Replace description"),
                self.tr("Replace the description you wrote with the generated caption?"),
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return
        cursor = self.description.textCursor()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(self.details.caption)  # one undo step, unlike setPlainText
        self._maybe_save()

    def show_preview(self, item_id: int, image: QImage) -> None:
        if self.details is None or self.details.item_id != item_id:
            return  # the curator moved on
        if image.isNull():
            self.preview.setText(self.tr("No preview (file missing or unreadable)"))
            return
        self.preview.setPixmap(outlined(image, self.details.region, self.details.width))

    def _enable_use_caption(self) -> None:
        shown = self.details
        self.use_caption.setEnabled(shown is not None and bool(shown.caption) and not self._read_only)

    def _label_action(self, signal: Signal, head: str, label: str) -> None:
        if self.details is not None:
            signal.emit(self.details.item_id, head, label)

    def _typed(self) -> None:
        if self.details is not None and self.description.toPlainText() != self._saved_text:
            self.save_timer.start()  # restarted by every key: fires SAVE_DELAY_MS after the last one

    def _maybe_save(self) -> None:
        self.save_timer.stop()
        if self.details is None:
            return
        text = self.description.toPlainText()
        if text != self._saved_text:
            self._saved_text = text
            self.description_edited.emit(self.details.item_id, text)
