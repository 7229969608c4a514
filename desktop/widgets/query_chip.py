"""The search the grid shows, as a chip above it ("Similar to [thumbnail] panda_0004.jpg", or the words
of a text query), with a button that clears it and goes back to browsing."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPalette, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from desktop.widgets.elided_label import ElidedLabel

THUMB = 28


class QueryChip(QFrame):
    """Hidden while browsing; `cleared` when the curator closes it."""

    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, frameShape=QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 1, 2, 1)
        layout.setSpacing(6)
        self.prefix = QLabel()
        self.picture = QLabel()
        self.picture.setFixedSize(THUMB, THUMB)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = ElidedLabel(max_chars=60)
        self.clear_button = QToolButton(text="✕", autoRaise=True)
        self.clear_button.setToolTip(self.tr("Clear the search and browse"))
        self.clear_button.clicked.connect(self.cleared)
        for widget in (self.prefix, self.picture, self.name, self.clear_button):
            layout.addWidget(widget)
        self.hide()

    def show_words(self, text: str) -> None:
        """A text query."""
        self.prefix.setText(self.tr("Text:"))
        self.picture.hide()
        self.name.setText(self.tr("“{text}”").format(text=text))
        self.show()

    def show_image(self, name: str, image: QImage | None = None) -> None:
        """A find-similar query: the image's name, and its thumbnail once known."""
        self.prefix.setText(self.tr("Similar to"))
        self.name.setText(name)
        self.set_picture(image)
        self.show()

    def set_picture(self, image: QImage | None) -> None:
        if image is None or image.isNull():
            self.picture.clear()
            self.picture.setVisible(False)
            return
        pixmap = QPixmap.fromImage(image).scaled(
            THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.picture.setPixmap(pixmap)
        self.picture.setVisible(True)

    def clear(self) -> None:
        self.name.setText("")
        self.set_picture(None)
        self.hide()
