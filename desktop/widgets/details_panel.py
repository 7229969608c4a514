"""The details panel: preview (with the region outlined), top labels, caption, description, facts.

The window hands it an `ItemDetails` (read in a pool thread) and the decoded preview image. The panel
only reports what the curator did; the window writes it: `description_edited(item_id, text)` about a
second after the curator's last key (so a crash loses at most that second of typing), and at once when
the editor loses focus or another item is shown, whenever the text differs from the last one reported;
`label_confirmed(item_id, head, label)` for a confirmed
model suggestion or a typed-in label, `label_rejected(item_id, head, label)` for a wrong one.
"""

from __future__ import annotations

import datetime as dt
import html
import logging

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFocusEvent, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.translation import shown_language
from models.label_names import display_name
from store.services.browse import ItemDetails

logger = logging.getLogger(__name__)

PREVIEW_SIZE = 360
SAVE_DELAY_MS = 1000  # a description is saved this long after the last key (debounced)
HEAD_TITLES = {
    "category": QT_TRANSLATE_NOOP("DetailsPanel", "Categories"),
    "name": QT_TRANSLATE_NOOP("DetailsPanel", "Names"),
}
ADD_HINTS = {
    "category": QT_TRANSLATE_NOOP("DetailsPanel", "Add a category…"),
    "name": QT_TRANSLATE_NOOP("DetailsPanel", "Add a name…"),
}
CONFIRMED = QT_TRANSLATE_NOOP("DetailsPanel", "confirmed")
CONFIRM_TIP = QT_TRANSLATE_NOOP("DetailsPanel", "Confirm “{label}”")
REJECT_TIP = QT_TRANSLATE_NOOP("DetailsPanel", "Reject “{label}”: it is wrong for this item")


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


class LabelsView(QWidget):
    """The top labels of each head with their scores, a confirm and a reject button per label, and a
    field to add a label; rebuilt for every item."""

    confirmed = Signal(str, str)  # head, label
    rejected = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(0, 1)

    def show_labels(self, labels: dict[str, list[tuple[str, float | None, str]]] | None) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        if labels is None:
            return
        row = 0
        for head in HEAD_TITLES:
            title = QLabel(f"<b>{html.escape(self._tr(HEAD_TITLES[head]))}</b>")
            self.grid.addWidget(title, row, 0, 1, 4)
            row += 1
            for label, score, source in labels.get(head, []):
                name = display_name(label, shown_language())  # the stored label is English
                shown_label = QLabel(name, textFormat=Qt.TextFormat.PlainText)
                if name != label:
                    shown_label.setToolTip(label)
                self.grid.addWidget(shown_label, row, 0)
                curator = source == "curator"
                shown = self._tr(CONFIRMED) if curator else (f"{score:.2f}" if score is not None else "")
                self.grid.addWidget(QLabel(shown), row, 1, alignment=Qt.AlignmentFlag.AlignRight)
                if not curator:
                    self.grid.addWidget(self._button("✓", self._tr(CONFIRM_TIP).format(label=name),
                                                     head, label, self.confirmed), row, 2)  # fmt: skip
                self.grid.addWidget(self._button("✗", self._tr(REJECT_TIP).format(label=name),
                                                 head, label, self.rejected), row, 3)  # fmt: skip
                row += 1
            add = QLineEdit(placeholderText=self._tr(ADD_HINTS[head]))
            add.setObjectName(f"add-{head}")
            add.returnPressed.connect(lambda field=add, head=head: self._add(field, head))
            self.grid.addWidget(add, row, 0, 1, 4)
            row += 1

    def buttons(self, head: str, label: str) -> dict[str, QToolButton]:
        """The confirm ("✓") and reject ("✗") buttons of a shown label, by their text."""
        return {
            b.text(): b for b in self.findChildren(QToolButton) if b.property("head_label") == [head, label]
        }

    def _button(self, text: str, tip: str, head: str, label: str, signal: Signal) -> QToolButton:
        button = QToolButton(text=text, toolTip=tip, autoRaise=True)
        button.setProperty("head_label", [head, label])
        button.clicked.connect(lambda: signal.emit(head, label))
        return button

    def _add(self, field: QLineEdit, head: str) -> None:
        text = field.text().strip()
        if text:
            field.clear()
            self.confirmed.emit(head, text)

    @staticmethod
    def _tr(text: str) -> str:
        return QCoreApplication.translate("DetailsPanel", text)


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
        self.labels = LabelsView()
        self.labels.confirmed.connect(lambda h, label: self._label_action(self.label_confirmed, h, label))
        self.labels.rejected.connect(lambda h, label: self._label_action(self.label_rejected, h, label))
        self.caption = QLabel(wordWrap=True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description = DescriptionEdit()
        self.description.setPlaceholderText(self.tr("Curator's description (saved as you type)"))
        self.description.setMaximumHeight(110)
        self.description.focus_lost.connect(self._maybe_save)
        # Typing restarts the timer; it saves once the curator pauses, through the same signal.
        self.save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self.save_timer.timeout.connect(self._maybe_save)
        self.description.textChanged.connect(self._typed)
        facts = QWidget()
        self.facts = QFormLayout(facts)
        for widget in (self.preview, self.title, self.labels):
            layout.addWidget(widget)
        layout.addWidget(QLabel("<b>{}</b>".format(self.tr("Generated caption"))))
        layout.addWidget(self.caption)
        layout.addWidget(QLabel("<b>{}</b>".format(self.tr("Description"))))
        layout.addWidget(self.description)
        layout.addWidget(facts)
        layout.addStretch(1)
        self.setWidget(body)
        self.details: ItemDetails | None = None
        self._saved_text = ""
        self.show_item(None)

    def show_item(self, details: ItemDetails | None) -> None:
        self._maybe_save()  # leaving an item with unsaved edits saves them first
        self.details = details
        self.preview.clear()
        while self.facts.rowCount():
            self.facts.removeRow(0)
        if details is None:
            self.title.setText(self.tr("Select an image to see its details."))
            self.labels.show_labels(None)
            self.caption.clear()
            self._saved_text = ""
            self.description.setPlainText("")
            self.description.setEnabled(False)
            self.save_timer.stop()
            return
        self.preview.setText(self.tr("Loading preview…"))
        where = f"{details.path}"
        if details.region:
            x, y, w, h = details.region
            where += self.tr("  (region {w}×{h} at {x},{y})").format(x=x, y=y, w=w, h=h)
        self.title.setText(f"<b>{html.escape(where)}</b>")
        self.labels.show_labels(details.labels)
        self.caption.setText(details.caption or "—")
        self._saved_text = details.description or ""
        self.description.setEnabled(True)
        self.description.setPlainText(self._saved_text)
        self.save_timer.stop()
        size = f"{details.width}×{details.height}" if details.width else "?"
        self.facts.addRow(
            self.tr("Size"),
            QLabel(self.tr("{size} px, {bytes}").format(size=size, bytes=_human_bytes(details.size))),
        )
        self.facts.addRow(self.tr("Format"), QLabel(details.format or "?"))
        indexed = dt.datetime.fromtimestamp(details.indexed_at).strftime("%Y-%m-%d %H:%M")
        self.facts.addRow(self.tr("Indexed"), QLabel(indexed))
        self.facts.addRow(self.tr("Item"), QLabel(f"#{details.item_id}"))
        if details.hash:
            digest = QLabel(details.hash[:16] + "…")
            digest.setToolTip(details.hash)
            self.facts.addRow(self.tr("Content hash"), digest)

    def update_labels(self, details: ItemDetails | None) -> None:
        """New labels of the shown item (after a curator edit); the rest of the panel stays."""
        if details is not None and self.details is not None and details.item_id == self.details.item_id:
            self.details = details
            self.labels.show_labels(details.labels)

    def set_read_only(self, read_only: bool, why: str) -> None:
        """Let the description and labels be edited, or not (`why` says why not, as their tooltip)."""
        self.description.setReadOnly(read_only)
        self.description.setToolTip(why)
        self.labels.setEnabled(not read_only)
        self.labels.setToolTip(why)

    def show_preview(self, item_id: int, image: QImage) -> None:
        if self.details is None or self.details.item_id != item_id:
            return  # the curator moved on
        if image.isNull():
            self.preview.setText(self.tr("No preview (file missing or unreadable)"))
            return
        self.preview.setPixmap(outlined(image, self.details.region, self.details.width))

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


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
