"""Model bundles from the window: installed from a folder or zip in the pool; what is installed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.controllers.session import ArchiveSession
from desktop.dialogs.install_models_dialog import InstallModelsDialog
from models.bundle import has_bundle
from models.bundle_install import install_bundle


class ModelsController(QObject):
    """Installs bundles; `installed(bundle)` once one is in the models folder."""

    installed = Signal(object)  # the installed bundle

    def __init__(self, session: ArchiveSession, parent: QWidget) -> None:
        super().__init__(session)
        self.session, self.parent_widget = session, parent

    def has_clip_bundle(self) -> bool:
        return has_bundle(self.session.models_dir, "clip")

    def show_install(self) -> InstallModelsDialog:
        """How to get bundles, then a folder or zip chooser (the notice's "Install model…")."""
        dialog = InstallModelsDialog(self.session.models_dir, self.parent_widget)
        dialog.from_folder.connect(self.choose_folder)
        dialog.from_zip.connect(self.choose_zip)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent_widget, self.tr("Model bundle folder"))
        if folder:
            self.install_from(Path(folder))

    def choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget, self.tr("Model bundle zip"), "", self.tr("Zip archives (*.zip)")
        )
        if path:
            self.install_from(Path(path))

    def install_from(self, source: Path) -> None:
        """Install a bundle (folder or zip) in the pool."""
        self.session.say(self.tr("Installing model bundle from {path}…").format(path=source))
        models_dir, tasks = self.session.models_dir, self.session.tasks
        tasks.submit(lambda: install_bundle(source, models_dir), self._on_installed, self._failed)

    def _on_installed(self, bundle) -> None:
        self.session.say(self.tr("Installed model bundle {name}").format(name=bundle.model_id), 10_000)
        self.installed.emit(bundle)

    def _failed(self, exc: Exception) -> None:
        self.session.say(self.tr("Could not install the bundle: {error}").format(error=exc), 15_000)
        QMessageBox.warning(self.parent_widget, self.tr("Model bundle not installed"), str(exc))
