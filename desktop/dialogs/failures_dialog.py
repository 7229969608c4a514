"""The list of files that could not be indexed: path, problem and details, sortable, copyable.

Fed from the catalog (`Catalog.failures()`, read in a pool thread by the window), so it lists every
failure on record, not only those of this session's indexing run.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

# The catalog's error kinds (store.errors), as the curator reads them: a short name for the Problem
# column and a sentence saying what it means and what to do. The catalog's own message (English, with
# the technical cause) stays in the Details column.
PROBLEMS = {
    "empty_file": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Empty file"),
        QT_TRANSLATE_NOOP("FailuresDialog", "The file is empty (0 bytes); a copy may have failed."),
    ),
    "not_an_image": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Not an image"),
        QT_TRANSLATE_NOOP("FailuresDialog", "The file has an image's name but holds something else."),
    ),
    "unsupported": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Unsupported format"),
        QT_TRANSLATE_NOOP(
            "FailuresDialog", "Imago cannot read this image format; convert it to JPEG, PNG or TIFF."
        ),
    ),
    "truncated": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Truncated file"),
        QT_TRANSLATE_NOOP(
            "FailuresDialog", "The file ends too early; it was not copied or saved completely."
        ),
    ),
    "corrupt": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Damaged image"),
        QT_TRANSLATE_NOOP(
            "FailuresDialog", "The image data is damaged; an earlier copy of the file may be intact."
        ),
    ),
    "too_large": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Too large"),
        QT_TRANSLATE_NOOP(
            "FailuresDialog", "The image is larger than Imago reads; a reduced copy can be indexed."
        ),
    ),
    "decompression_bomb": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Suspiciously large image"),
        QT_TRANSLATE_NOOP(
            "FailuresDialog", "The file claims an implausibly large picture and was not opened."
        ),
    ),
    "unreadable": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Cannot be read"),
        QT_TRANSLATE_NOOP("FailuresDialog", "The file cannot be read; check its permissions or the drive."),
    ),
    "broken_symlink": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Broken link"),
        QT_TRANSLATE_NOOP("FailuresDialog", "The link points to a file that does not exist."),
    ),
    "symlink_loop": (
        QT_TRANSLATE_NOOP("FailuresDialog", "Link loop"),
        QT_TRANSLATE_NOOP("FailuresDialog", "The link points back to itself through other links."),
    ),
}
OTHER = (
    QT_TRANSLATE_NOOP("FailuresDialog", "Could not be indexed"),
    QT_TRANSLATE_NOOP("FailuresDialog", "An unexpected error; the Details column has the technical cause."),
)


def problem_name(kind: str) -> str:
    """The short name of an error kind, translated (unknown kinds get a general one)."""
    return QCoreApplication.translate("FailuresDialog", PROBLEMS.get(kind, OTHER)[0])


def problem_sentence(kind: str) -> str:
    """What an error kind means and what to do, translated."""
    return QCoreApplication.translate("FailuresDialog", PROBLEMS.get(kind, OTHER)[1])


class FailuresDialog(QDialog):
    """Shows `failures`: (archive-relative path, error kind, message) triples."""

    def __init__(self, failures: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Files that could not be indexed"))
        self.resize(900, 480)
        intro = QLabel(
            self.tr("Files that could not be indexed: {count}. Imago leaves them as they are; once a file "
                    "is repaired or replaced, the next scan indexes it.").format(count=len(failures)),
            wordWrap=True,
        )  # fmt: skip
        self.table = QTableWidget(len(failures), 3)
        self.table.setHorizontalHeaderLabels([self.tr("File"), self.tr("Problem"), self.tr("Details")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeaderItem(2).setToolTip(self.tr("The indexer's message, as recorded"))
        for row, (path, kind, message) in enumerate(failures):
            for column, (text, tip) in enumerate(
                ((path, path), (problem_name(kind), problem_sentence(kind)), (message, message))
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 360)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        # The chosen row's problem in a sentence (the table's cells are too narrow for it).
        self.explanation = QLabel(wordWrap=True)
        self.table.currentCellChanged.connect(lambda row: self._explain(row))
        self.table.setCurrentCell(0, 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton(self.tr("Copy list"), QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip(self.tr("Copy every row (tab-separated, in the order shown)"))
        self.copy_button.clicked.connect(self.copy_list)
        self.copy_button.setEnabled(bool(failures))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.explanation)
        layout.addWidget(buttons)

    def _explain(self, row: int) -> None:
        path, problem = self.table.item(row, 0), self.table.item(row, 1)
        self.explanation.setText(f"{path.text()} — {problem.toolTip()}" if problem is not None else "")

    def rows(self) -> list[list[str]]:
        """The table's rows in the order shown."""
        return [
            [self.table.item(row, column).text() for column in range(self.table.columnCount())]
            for row in range(self.table.rowCount())
        ]

    def copy_list(self) -> None:
        QGuiApplication.clipboard().setText("".join("\t".join(row) + "\n" for row in self.rows()))
