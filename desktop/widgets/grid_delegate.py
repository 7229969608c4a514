"""How one thumbnail of the grid is drawn: the picture, a bar for how well a search hit matches (an
"exact copy" badge for the query's own copies; weaker matches dimmed), the name (which photo on the
page a region is) and, below it, the folder, so files with the same name are told apart."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.widgets.grid_model import EntryRole, GridEntry

PADDING = 4
BAR_HEIGHT = 4
DIMMED = 0.45  # opacity of a possible match's thumbnail


def cell_size(icon: int, widget: QWidget | None = None) -> QSize:
    """The grid cell holding a thumbnail of `icon` pixels: the picture, its bar, two lines of text."""
    metrics = (widget or QApplication.instance()).fontMetrics()
    return QSize(icon + 24, icon + BAR_HEIGHT + 3 * PADDING + 2 * metrics.height())


class GridDelegate(QStyledItemDelegate):
    """Paints GridEntry rows (EntryRole) for the icon-mode grid."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return cell_size(option.decorationSize.width(), option.widget)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        entry: GridEntry | None = index.data(EntryRole)
        if entry is None:
            return
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        rect, size = option.rect, option.decorationSize.width()
        picture = QRect(rect.left() + (rect.width() - size) // 2, rect.top() + PADDING, size, size)
        painter.save()
        if entry.match == "possible":
            painter.setOpacity(DIMMED)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None:
            painter.drawPixmap(picture, pixmap)
        painter.setOpacity(1.0)
        if entry.match == "exact":
            self._badge(painter, picture, self.tr("exact copy"), option.palette)
        top = picture.bottom() + PADDING
        if entry.strength is not None:
            self._bar(painter, QRect(picture.left(), top, size, BAR_HEIGHT), entry, option.palette)
        top += BAR_HEIGHT + PADDING
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        metrics, text_rect = option.fontMetrics, QRect(rect.left() + 2, top, rect.width() - 4, 0)
        painter.setPen(option.palette.color(group))
        for line, dim in ((entry.name, False), (entry.folder, True)):
            text_rect.setHeight(metrics.height())
            if dim and not selected:
                painter.setPen(option.palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
            shown = metrics.elidedText(line, Qt.TextElideMode.ElideMiddle, text_rect.width())
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, shown)
            text_rect.translate(0, metrics.height())
        painter.restore()

    @staticmethod
    def _bar(painter: QPainter, rect: QRect, entry: GridEntry, palette: QPalette) -> None:
        painter.fillRect(rect, palette.color(QPalette.ColorRole.Midlight))
        filled = QRect(rect.left(), rect.top(), max(2, round(rect.width() * entry.strength)), rect.height())
        strong = entry.match != "possible"
        painter.fillRect(
            filled, palette.color(QPalette.ColorRole.Highlight) if strong else QColor(150, 150, 150)
        )

    @staticmethod
    def _badge(painter: QPainter, picture: QRect, text: str, palette: QPalette) -> None:
        metrics = painter.fontMetrics()
        badge = QRect(picture.left() + 3, picture.top() + 3, metrics.horizontalAdvance(text) + 10,
                      metrics.height() + 2)  # fmt: skip
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
