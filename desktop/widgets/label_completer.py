"""Completion for a label being typed: the shipped vocabularies' labels of a head and the archive's own
labels, in English and, in the Russian UI, by their Russian names too (`models.label_names`)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QStringListModel, Qt
from PySide6.QtWidgets import QCompleter, QLineEdit

from desktop.translation import shown_language
from models.label_names import display_name, vocabulary_labels


def offered_names(head: str, archive_labels: list[str], language: str) -> list[str]:
    """What typing a label of `head` offers: every label and, unless `language` is English, its name in
    `language`; each once, sorted ignoring case."""
    labels = dict.fromkeys([*archive_labels, *vocabulary_labels(head)])
    names = [display_name(label, language) for label in labels] if language != "en" else []
    return sorted(dict.fromkeys([*names, *labels]), key=str.casefold)


class LabelNames(QStringListModel):
    """The names offered for labels of one head; one model shared by every field that adds them."""

    def __init__(self, head: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.head = head
        self.set_archive_labels([])

    def set_archive_labels(self, labels: list[str]) -> None:
        """The labels the open archive uses (read off the GUI thread)."""
        self.archive_labels = list(labels)
        self.setStringList(offered_names(self.head, self.archive_labels, shown_language()))

    def add_archive_label(self, label: str) -> None:
        if label not in self.archive_labels:
            self.set_archive_labels([*self.archive_labels, label])


def attach_completer(field: QLineEdit, names: LabelNames) -> QCompleter:
    """Let `field` complete from `names`, matching anywhere in a name and ignoring case."""
    completer = QCompleter(names, field)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    field.setCompleter(completer)
    return completer
