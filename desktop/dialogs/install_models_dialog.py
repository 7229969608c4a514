"""The "Install model…" dialog: how model bundles are made and copied here, and the two ways to install
one (a bundle folder or a zip of it)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop.widgets.models_notice import how_to_get_models


class InstallModelsDialog(QDialog):
    """Explains where bundles come from; `from_folder` / `from_zip` when the curator picks a source."""

    from_folder = Signal()
    from_zip = Signal()

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Install a model bundle"))
        self.text = QLabel(how_to_get_models(models_dir), wordWrap=True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # commands to copy
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        role = QDialogButtonBox.ButtonRole.AcceptRole
        self.folder_button = buttons.addButton(self.tr("From &folder…"), role)
        self.zip_button = buttons.addButton(self.tr("From &zip…"), role)
        self.folder_button.clicked.connect(lambda: (self.accept(), self.from_folder.emit()))
        self.zip_button.clicked.connect(lambda: (self.accept(), self.from_zip.emit()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
