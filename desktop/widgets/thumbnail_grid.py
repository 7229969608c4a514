"""The thumbnail grid: a virtualised icon-mode list view over a GridModel, its cells drawn by
GridDelegate, with a line before the first result below the relevance cut-off."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView

from desktop.widgets.grid_delegate import GridDelegate, cell_size
from desktop.widgets.grid_model import ICON_SIZE, EntryRole, GridEntry, GridModel

DIVIDER_WIDTH = 3


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
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(GridDelegate(self))
        self.setModel(model)
        self.divider_row: int | None = None
        self.set_thumbnail_size(ICON_SIZE)

    def set_thumbnail_size(self, size: int) -> None:
        """Show thumbnails `size` pixels square."""
        self.setIconSize(QSize(size, size))
        self.setGridSize(cell_size(size, self) + QSize(0, 4))
        self.model().set_icon_size(size)

    def set_divider(self, row: int | None) -> None:
        """Draw the relevance cut-off's line before `row` (None: no line)."""
        self.divider_row = row
        self.viewport().update()

    def current_entry(self) -> GridEntry | None:
        return self.currentIndex().data(EntryRole)

    def selected_entries(self) -> list[GridEntry]:
        """The selected entries, in grid order."""
        selected = sorted(self.selectionModel().selectedIndexes(), key=lambda i: i.row())
        return [i.data(EntryRole) for i in selected]

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        row = self.divider_row
        if row is None or not 0 < row < self.model().rowCount():
            return
        cell = self.visualRect(self.model().index(row))
        if not cell.isValid():
            return
        # A step around the first weaker result: left of it, over the rest of its row, under the
        # strong results before it on the same row.
        x = cell.left() - (self.gridSize().width() - cell.width()) // 2 - self.spacing() // 2
        top, bottom = cell.top() - 2, cell.top() + self.gridSize().height() - 2
        painter = QPainter(self.viewport())
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), DIVIDER_WIDTH, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(x, top, x, bottom)
        painter.drawLine(x, top, self.viewport().width(), top)
        if x > self.gridSize().width() // 2:
            painter.drawLine(0, bottom, x, bottom)
        painter.end()
