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

# The catalog's error kinds (store.errors), as the curator reads them.
PROBLEMS = {
    "empty_file": QT_TRANSLATE_NOOP("FailuresDialog", "Empty file"),
    "not_an_image": QT_TRANSLATE_NOOP("FailuresDialog", "Not an image"),
    "unsupported": QT_TRANSLATE_NOOP("FailuresDialog", "Unsupported format"),
    "truncated": QT_TRANSLATE_NOOP("FailuresDialog", "Truncated file"),
    "corrupt": QT_TRANSLATE_NOOP("FailuresDialog", "Damaged image"),
    "too_large": QT_TRANSLATE_NOOP("FailuresDialog", "Too large"),
    "decompression_bomb": QT_TRANSLATE_NOOP("FailuresDialog", "Suspiciously large image"),
    "unreadable": QT_TRANSLATE_NOOP("FailuresDialog", "Cannot be read"),
    "broken_symlink": QT_TRANSLATE_NOOP("FailuresDialog", "Broken link"),
    "symlink_loop": QT_TRANSLATE_NOOP("FailuresDialog", "Link loop"),
}


def problem_name(kind: str) -> str:
    text = PROBLEMS.get(kind)
    return QCoreApplication.translate("FailuresDialog", text) if text else kind.replace("_", " ")


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
        for row, (path, kind, message) in enumerate(failures):
            for column, text in enumerate((path, problem_name(kind), message)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 360)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton(self.tr("Copy list"), QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip(self.tr("Copy every row (tab-separated, in the order shown)"))
        self.copy_button.clicked.connect(self.copy_list)
        self.copy_button.setEnabled(bool(failures))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(buttons)

    def rows(self) -> list[list[str]]:
        """The table's rows in the order shown."""
        return [
            [self.table.item(row, column).text() for column in range(self.table.columnCount())]
            for row in range(self.table.rowCount())
        ]

    def copy_list(self) -> None:
        QGuiApplication.clipboard().setText("".join("\t".join(row) + "\n" for row in self.rows()))
