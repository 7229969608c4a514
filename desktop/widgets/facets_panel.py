"""The facets panel left of the grid: the archive's folder tree and its categories, with item counts.

Clicking a folder or a category restricts what the grid shows (browsing and searches) to it; the
folder root and "All categories" lift that half of the restriction, "Clear filter" both. The counts
come from `store.services.facets` (read in a pool thread by the window, again after every choice, since each
facet is counted within the other's choice); the panel shows them and reports choices by `changed`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.translation import shown_language
from models.label_names import display_name
from store.services.facets import Facets, FolderNode
from store.services.search import SearchFilter

logger = logging.getLogger(__name__)

ValueRole = Qt.ItemDataRole.UserRole + 1  # the folder path or category of a row; None: no restriction


def _tree(title: str) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setColumnCount(2)
    tree.setHeaderLabels([title, ""])
    tree.setUniformRowHeights(True)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    return tree


def _row(text: str, count: int, value: str | None) -> QTreeWidgetItem:
    item = QTreeWidgetItem([text, QLocale().toString(count)])
    item.setData(0, ValueRole, value)
    item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    item.setToolTip(0, text)
    return item


class FacetsPanel(QWidget):
    """Folder and category facets; `folder` / `category` are the current restriction (None: none)."""

    changed = Signal()  # the curator changed the restriction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: str | None = None
        self.category: str | None = None
        self.restriction = QLabel(wordWrap=True)
        self.clear_button = QPushButton(self.tr("Clear filter"))
        self.clear_button.setToolTip(self.tr("Show every folder and category again"))
        self.clear_button.clicked.connect(lambda: self._choose(None, None))
        self.folders = _tree(self.tr("Folders"))
        self.categories = _tree(self.tr("Categories"))
        self.categories.setRootIsDecorated(False)
        self.categories.setToolTip(
            self.tr("Curator categories and each image's best model category; the count includes every "
                    "image that has the category among its top ones")
        )  # fmt: skip
        for tree in (self.folders, self.categories):
            tree.itemClicked.connect(self._on_clicked)
            tree.itemActivated.connect(self._on_clicked)
        header = QHBoxLayout()
        header.addWidget(self.restriction, stretch=1)
        header.addWidget(self.clear_button)
        lists = QSplitter(Qt.Orientation.Vertical)
        lists.addWidget(self.folders)
        lists.addWidget(self.categories)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(lists, stretch=1)
        self.setMinimumWidth(180)
        self._update_label()

    # -- content ----------------------------------------------------------------------------------

    def show_facets(self, facets: Facets | None, archive_name: str = "") -> None:
        """Show new counts (None: no archive), keeping the restriction selected."""
        self.folders.clear()
        self.categories.clear()
        if facets is None:
            return
        root = _row(archive_name or self.tr("All folders"), facets.folders.items, None)
        root.setToolTip(0, self.tr("All folders"))
        self.folders.addTopLevelItem(root)
        self._add_folders(root, facets.folders)
        root.setExpanded(True)
        self.categories.addTopLevelItem(_row(self.tr("All categories"), facets.in_folder, None))
        for category in facets.categories:
            shown = display_name(category.label, shown_language())
            self.categories.addTopLevelItem(_row(shown, category.items, category.label))
        self._select_current()

    def _add_folders(self, parent: QTreeWidgetItem, node: FolderNode) -> None:
        for child in node.children:
            item = _row(child.name, child.items, child.path)
            item.setToolTip(0, child.path)
            parent.addChild(item)
            self._add_folders(item, child)

    def _select_current(self) -> None:
        for tree, value in ((self.folders, self.folder), (self.categories, self.category)):
            found = self._find(tree, value)
            if found is not None:
                parent = found.parent()
                while parent is not None:
                    parent.setExpanded(True)
                    parent = parent.parent()
                tree.setCurrentItem(found)
                tree.scrollToItem(found)
            else:
                tree.setCurrentItem(None)

    @staticmethod
    def _find(tree: QTreeWidget, value: str | None) -> QTreeWidgetItem | None:
        stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item.data(0, ValueRole) == value:
                return item
            stack += [item.child(i) for i in range(item.childCount())]
        return None

    # -- the restriction --------------------------------------------------------------------------

    def filters(self) -> SearchFilter:
        return SearchFilter(folder=self.folder, category=self.category)

    def set_restriction(self, folder: str | None, category: str | None) -> None:
        """Set the restriction from the program (no `changed` signal)."""
        self.folder, self.category = folder or None, category
        self._select_current()
        self._update_label()

    def describe(self) -> str:
        """The restriction in words ("" when there is none)."""
        parts = []
        if self.folder:
            parts.append(self.tr("folder “{folder}”").format(folder=self.folder))
        if self.category:
            shown = display_name(self.category, shown_language())
            parts.append(self.tr("category “{category}”").format(category=shown))
        return ", ".join(parts)

    def restriction_note(self) -> str:
        """The restriction, to append to the grid's heading ("" when there is none)."""
        described = self.describe()
        return self.tr(" — filter: {restriction}").format(restriction=described) if described else ""

    def _on_clicked(self, item: QTreeWidgetItem) -> None:
        value = item.data(0, ValueRole)
        if item.treeWidget() is self.folders:
            self._choose(value, self.category)
        else:
            self._choose(self.folder, value)

    def _choose(self, folder: str | None, category: str | None) -> None:
        if (folder, category) == (self.folder, self.category):
            return
        self.set_restriction(folder, category)
        self.changed.emit()

    def _update_label(self) -> None:
        described = self.describe()
        self.restriction.setText(
            self.tr("Filter: {restriction}").format(restriction=described)
            if described
            else self.tr("All images")
        )
        self.clear_button.setVisible(bool(described))
