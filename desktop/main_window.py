"""The curator's main window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QMainWindow, QVBoxLayout, QWidget

from models.bundle_dir import installed_bundle_names

NO_MODELS_TEXT = """<h2>No model bundles installed</h2>
<p>Imago needs a CLIP model bundle to search images by meaning.</p>
<p>On a computer with internet access, create the bundles with<br>
<code>imago models export clip openai/clip-vit-base-patch32 --out clip-bundle</code><br>
then copy the folder here and install it with<br>
<code>imago models install clip-bundle</code></p>
<p>Bundles are installed in <code>{models_dir}</code>.</p>"""


class MainWindow(QMainWindow):
    """Search bar on top, results (or a guiding empty state) below, status bar at the bottom."""

    def __init__(self, models_dir: Path, archive: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"Imago — {archive.name}" if archive else "Imago")
        self.resize(1200, 800)
        self.search_field = QLineEdit(placeholderText="Search by text, or drop an image to find similar ones")
        self.empty_state = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.empty_state.setTextFormat(Qt.TextFormat.RichText)
        self.empty_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.search_field)
        layout.addWidget(self.empty_state, stretch=1)
        self.setCentralWidget(central)

        bundles = installed_bundle_names(models_dir)
        if bundles:
            self.empty_state.setText(f"<h2>Models installed</h2><p>{', '.join(bundles)}</p>")
        else:
            self.search_field.setEnabled(False)
            self.empty_state.setText(NO_MODELS_TEXT.format(models_dir=models_dir))
        self.statusBar().showMessage(f"Archive: {archive}" if archive else "No archive open")
