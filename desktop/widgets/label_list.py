"""An item's labels in the details panel: one row per label (a model's suggestion with its score, or
the curator's confirmed one), confirm and reject buttons, and a field per head to add a label, which
completes from the vocabularies and the archive's labels."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QToolButton, QWidget

from desktop.translation import shown_language
from desktop.widgets.label_completer import LabelNames, attach_completer
from models.label_names import HEADS, display_name, stored_label

HEAD_TITLES = {
    "category": QT_TRANSLATE_NOOP("DetailsPanel", "Categories"),
    "name": QT_TRANSLATE_NOOP("DetailsPanel", "Names"),
}
ADD_HINTS = {
    "category": QT_TRANSLATE_NOOP("DetailsPanel", "Add a category…"),
    "name": QT_TRANSLATE_NOOP("DetailsPanel", "Add a name…"),
}
CONFIRMED = QT_TRANSLATE_NOOP("DetailsPanel", "confirmed")
SUGGESTED_TIP = QT_TRANSLATE_NOOP("DetailsPanel", "The model suggested it with a score of {score:.2f}")
CONFIRM_TIP = QT_TRANSLATE_NOOP("DetailsPanel", "Confirm “{label}”")
REJECT_TIP = QT_TRANSLATE_NOOP("DetailsPanel", "Reject “{label}”: it is wrong for this item")


@dataclass(frozen=True)
class LabelRow:
    """One label as shown: the model's score (when it suggested it) and whether the curator confirmed it."""

    label: str
    score: float | None
    confirmed: bool


def merged(labels: list[tuple[str, float | None, str]]) -> list[LabelRow]:
    """(label, score, source) rows -> one row per label, in their order: a confirmed model suggestion
    is one confirmed row that keeps the model's score."""
    rows: dict[str, LabelRow] = {}
    for label, score, source in labels:
        seen = rows.get(label)
        rows[label] = LabelRow(
            label,
            score if score is not None else (seen.score if seen else None),
            source == "curator" or (seen is not None and seen.confirmed),
        )
    return list(rows.values())


def _tr(text: str) -> str:
    return QCoreApplication.translate("DetailsPanel", text)


class LabelsView(QWidget):
    """The labels of each head with confirm and reject buttons, and a field to add one; rebuilt for
    every item. Labels are stored in English and shown by their names in the UI's language."""

    confirmed = Signal(str, str)  # head, label
    rejected = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(0, 1)
        self.names = {head: LabelNames(head, self) for head in HEADS}

    def set_archive_labels(self, labels: dict[str, list[str]]) -> None:
        """The labels the open archive uses, by head: adding a label offers them."""
        for head, names in self.names.items():
            names.set_archive_labels(labels.get(head, []))

    def show_labels(self, labels: dict[str, list[tuple[str, float | None, str]]] | None) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        if labels is None:
            return
        row = 0
        for head in HEAD_TITLES:
            title = QLabel(f"<b>{html.escape(_tr(HEAD_TITLES[head]))}</b>")
            self.grid.addWidget(title, row, 0, 1, 4)
            row += 1
            for shown in merged(labels.get(head, [])):
                self._add_row(head, shown, row)
                row += 1
            add = QLineEdit(placeholderText=_tr(ADD_HINTS[head]))
            add.setObjectName(f"add-{head}")
            attach_completer(add, self.names[head])
            add.returnPressed.connect(lambda field=add, head=head: self._add(field, head))
            self.grid.addWidget(add, row, 0, 1, 4)
            row += 1

    def buttons(self, head: str, label: str) -> dict[str, QToolButton]:
        """The confirm ("✓") and reject ("✗") buttons of a shown label, by their text."""
        return {
            b.text(): b for b in self.findChildren(QToolButton) if b.property("head_label") == [head, label]
        }

    def _add_row(self, head: str, shown: LabelRow, row: int) -> None:
        label = shown.label
        name = display_name(label, shown_language())  # the stored label is English
        name_label = QLabel(name, textFormat=Qt.TextFormat.PlainText)
        if name != label:
            name_label.setToolTip(label)
        self.grid.addWidget(name_label, row, 0)
        score = f"{shown.score:.2f}" if shown.score is not None else ""
        state = QLabel(_tr(CONFIRMED) if shown.confirmed else score)
        if shown.confirmed and shown.score is not None:
            state.setToolTip(_tr(SUGGESTED_TIP).format(score=shown.score))
        self.grid.addWidget(state, row, 1, alignment=Qt.AlignmentFlag.AlignRight)
        if not shown.confirmed:
            confirm = self._button("✓", _tr(CONFIRM_TIP).format(label=name), head, label, self.confirmed)
            self.grid.addWidget(confirm, row, 2)
        reject = self._button("✗", _tr(REJECT_TIP).format(label=name), head, label, self.rejected)
        self.grid.addWidget(reject, row, 3)

    def _button(self, text: str, tip: str, head: str, label: str, signal: Signal) -> QToolButton:
        button = QToolButton(text=text, toolTip=tip, autoRaise=True)
        button.setProperty("head_label", [head, label])
        button.clicked.connect(lambda: signal.emit(head, label))
        return button

    def _add(self, field: QLineEdit, head: str) -> None:
        text = field.text().strip()
        if text:
            field.clear()
            # a name from the head's vocabularies, in Russian too, is stored as its English label
            self.confirmed.emit(head, stored_label(text, head))
