"""What the window shows while no archive is open: what opening a folder does, an "Open archive…"
button and the archives opened last."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

WELCOME_TEXT = QT_TRANSLATE_NOOP(
    "Welcome",
    """<h2>Open an archive folder</h2>
<p>Choose the folder holding your images. Imago shows them at once and indexes them in the background;
the index is kept in a <code>.imago</code> folder inside it (or in your user data folder when the
archive is read-only). Your files are never changed, moved or deleted.</p>""",
)
MAX_SHOWN = 5
TEXT_WIDTH = 720


class Welcome(QWidget):
    """`open_requested` when "Open archive…" is clicked, `recent_chosen(Path)` for a recent archive."""

    open_requested = Signal()
    recent_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(self.tr(WELCOME_TEXT), wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setMaximumWidth(TEXT_WIDTH)  # lines a reader can follow on a wide window
        self.open_button = QPushButton(self.tr("Open archive…"))
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_requested)
        self.recent_title = QLabel(self.tr("<b>Opened recently</b>"), alignment=Qt.AlignmentFlag.AlignCenter)
        self.recent_buttons: list[QPushButton] = []
        self.recent_box = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        centred = QHBoxLayout()  # the text takes up to TEXT_WIDTH, the margins the rest
        centred.addStretch(1)
        centred.addWidget(self.text, stretch=100)
        centred.addStretch(1)
        layout.addLayout(centred)
        layout.addWidget(self.open_button, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addWidget(self.recent_title)
        layout.addLayout(self.recent_box)
        layout.addStretch(2)
        self.show_recent([])

    def show_recent(self, paths: list[str]) -> None:
        """Offer the archives opened last (the first MAX_SHOWN of `paths`)."""
        for button in self.recent_buttons:
            self.recent_box.removeWidget(button)
            button.deleteLater()
        self.recent_buttons = []
        for path in paths[:MAX_SHOWN]:
            button = QPushButton(f"{Path(path).name} — {path}", flat=True, toolTip=path)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setStyleSheet("color: palette(link); text-decoration: underline")
            button.clicked.connect(lambda _=False, p=path: self.recent_chosen.emit(Path(p)))
            self.recent_box.addWidget(button, alignment=Qt.AlignmentFlag.AlignHCenter)
            self.recent_buttons.append(button)
        self.recent_title.setVisible(bool(self.recent_buttons))
