"""The thumbnail grid: a virtualised icon-mode list view over a GridModel."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView

from desktop.widgets.grid_model import ICON_SIZE, EntryRole, GridEntry, GridModel


class ThumbnailGrid(QListView):
    """Static icon grid, laid out in batches, several items selectable, a custom context menu."""

    def __init__(self, model: GridModel) -> None:
        super().__init__()
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.setGridSize(QSize(ICON_SIZE + 24, ICON_SIZE + 40))
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setModel(model)

    def current_entry(self) -> GridEntry | None:
        return self.currentIndex().data(EntryRole)

    def selected_entries(self) -> list[GridEntry]:
        """The selected entries, in grid order."""
        selected = sorted(self.selectionModel().selectedIndexes(), key=lambda i: i.row())
        return [i.data(EntryRole) for i in selected]
