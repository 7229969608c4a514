"""A one-line label that elides its text instead of asking for the room to show all of it.

A plain QLabel's minimum width is its text's width, so a 200-character query in the results heading
or a long indexing status widens the window past the screen. This one asks for little, draws the
text elided (in the middle by default, so a path keeps its start and file name) and shows the whole
text as its tooltip when it does not fit.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 12  # the width asked for at least, in average characters


class ElidedLabel(QLabel):
    """A plain-text, single-line QLabel whose size hints never exceed what the layout gives it."""

    def __init__(
        self, text: str = "", parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle, max_chars: int = 80,
    ) -> None:  # fmt: skip
        super().__init__(text, parent)
        self.mode = mode
        self.max_chars = max_chars
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._update_tip()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tip()

    def minimumSizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * MIN_CHARS, metrics.height())

    def sizeHint(self) -> QSize:
        full = super().sizeHint()
        return QSize(min(full.width(), self._preferred_width()), full.height())

    def _preferred_width(self) -> int:
        """Wide enough for most texts, but never the whole of a very long one."""
        return self.fontMetrics().averageCharWidth() * self.max_chars

    def elided(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), self.mode, self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        align = self.alignment() | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.contentsRect(), int(align), self.elided())
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tip()

    def _update_tip(self) -> None:
        self.setToolTip(self.text() if self.elided() != self.text() else "")
