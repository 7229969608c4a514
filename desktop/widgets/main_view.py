"""The main window's central widget: search field, models notice, welcome text, problem panel, the grid's
heading with its buttons, and the facets | grid | details splitter."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop.widgets.details_panel import DetailsPanel
from desktop.widgets.elided_label import ElidedLabel
from desktop.widgets.facets_panel import FacetsPanel
from desktop.widgets.grid_model import GridModel
from desktop.widgets.models_notice import ModelsNotice
from desktop.widgets.problem_panel import ProblemPanel
from desktop.widgets.thumbnail_grid import ThumbnailGrid

WELCOME_TEXT = QT_TRANSLATE_NOOP(
    "MainView",
    """<h2>Open an archive folder</h2>
<p>Choose the folder holding your images (<b>File › Open archive…</b>, Ctrl+O).
Imago indexes it in the background; its index is kept in a <code>.imago</code> folder inside it
(or in your user data folder when the archive is read-only).</p>""",
)
# The widgets the window offers as its own attributes (its controllers, tests and tools use them).
PARTS = ("search_field", "models_panel", "welcome", "problem_panel", "results_label", "more_button",
         "show_all_button", "grid_model", "grid", "details", "facets", "splitter")  # fmt: skip


class MainView(QWidget):
    """Lays the window's widgets out; what they do is wired by the window and its controllers."""

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_field = QLineEdit(
            placeholderText=self.tr("Search by text (Enter), or drop an image to find similar ones")
        )
        self.search_field.setClearButtonEnabled(True)
        self.models_panel = ModelsNotice(models_dir)
        self.welcome = QLabel(self.tr(WELCOME_TEXT), wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.welcome.setTextFormat(Qt.TextFormat.RichText)
        self.problem_panel = ProblemPanel()
        self.results_label = ElidedLabel()
        self.more_button = QPushButton(self.tr("More results"))
        self.more_button.setToolTip(self.tr("Show the results below the relevance cut-off too"))
        self.show_all_button = QPushButton(self.tr("Show all files"))
        header = QHBoxLayout()
        for widget, stretch in ((self.results_label, 1), (self.more_button, 0), (self.show_all_button, 0)):
            header.addWidget(widget, stretch=stretch)
        self.grid_model = GridModel(self)
        self.grid = ThumbnailGrid(self.grid_model)
        self.details = DetailsPanel()
        self.facets = FacetsPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.facets, self.grid, self.details):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setSizes([240, 640, 400])
        layout = QVBoxLayout(self)
        layout.addWidget(self.search_field)
        layout.addWidget(self.models_panel)
        layout.addWidget(self.welcome, stretch=1)
        layout.addWidget(self.problem_panel)
        layout.addLayout(header)
        layout.addWidget(self.splitter, stretch=1)
        layout.addStretch(0)  # keeps the models panel at the top when nothing else is shown
