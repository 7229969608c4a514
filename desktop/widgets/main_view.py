"""The main window's central widget: search field, models notice, welcome (while no archive is open),
problem panel, the grid's heading (the query chip, counts, buttons), and the facets | browse controls
over the grid | details splitter."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop.widgets.browse_controls import BrowseControls
from desktop.widgets.details_panel import DetailsPanel
from desktop.widgets.elided_label import ElidedLabel
from desktop.widgets.facets_panel import FacetsPanel
from desktop.widgets.grid_model import GridModel
from desktop.widgets.models_notice import ModelsNotice
from desktop.widgets.problem_panel import ProblemPanel
from desktop.widgets.query_chip import QueryChip
from desktop.widgets.thumbnail_grid import ThumbnailGrid
from desktop.widgets.welcome import Welcome

# The widgets the window offers as its own attributes (its controllers, tests and tools use them).
PARTS = ("search_field", "models_panel", "welcome", "problem_panel", "query_chip", "results_label",
         "more_button", "show_all_button", "browse_controls", "grid_model", "grid", "details", "facets",
         "splitter")  # fmt: skip


class MainView(QWidget):
    """Lays the window's widgets out; what they do is wired by the window and its controllers."""

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_field = QLineEdit(
            placeholderText=self.tr("Search by text (Enter), or drop an image to find similar ones")
        )
        self.search_field.setClearButtonEnabled(True)
        self.models_panel = ModelsNotice(models_dir)
        self.welcome = Welcome()
        self.problem_panel = ProblemPanel()
        self.query_chip = QueryChip()
        self.results_label = ElidedLabel()
        self.more_button = QPushButton(self.tr("More results"))
        self.more_button.setToolTip(self.tr("Show the results below the relevance cut-off too"))
        self.show_all_button = QPushButton(self.tr("Show all files"))
        header = QHBoxLayout()
        for widget, stretch in ((self.query_chip, 0), (self.results_label, 1), (self.more_button, 0),
                                (self.show_all_button, 0)):  # fmt: skip
            header.addWidget(widget, stretch=stretch)
        self.grid_model = GridModel(self)
        self.grid = ThumbnailGrid(self.grid_model)
        self.browse_controls = BrowseControls()
        self.browse_controls.thumbnail_size_changed.connect(self.grid.set_thumbnail_size)
        grid_pane = QWidget()
        pane_layout = QVBoxLayout(grid_pane)
        pane_layout.setContentsMargins(0, 0, 0, 0)
        pane_layout.addWidget(self.browse_controls)
        pane_layout.addWidget(self.grid, stretch=1)
        self.details = DetailsPanel()
        self.facets = FacetsPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.facets, grid_pane, self.details):
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
