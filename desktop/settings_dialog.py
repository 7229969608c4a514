"""The settings dialog: device, threads, caption model and beams, language (saved to settings.json)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from store.config import DEVICES, Settings

logger = logging.getLogger(__name__)

DEVICE_NAMES = {
    "auto": QT_TRANSLATE_NOOP("SettingsDialog", "Automatic (GPU when usable)"),
    "cpu": QT_TRANSLATE_NOOP("SettingsDialog", "CPU only"),
    "gpu": QT_TRANSLATE_NOOP("SettingsDialog", "GPU (CUDA)"),
}
CAPTION_MODELS = {
    "git-base": QT_TRANSLATE_NOOP("SettingsDialog", "GIT base (faster)"),
    "git-large": QT_TRANSLATE_NOOP("SettingsDialog", "GIT large (better)"),
}
LANGUAGES = {"auto": QT_TRANSLATE_NOOP("SettingsDialog", "System language"), "en": "English", "ru": "Русский"}


def _combo(choices: dict[str, str], current: str) -> QComboBox:
    combo = QComboBox()
    for key, text in choices.items():
        combo.addItem(QCoreApplication.translate("SettingsDialog", text), key)
    if current not in choices:  # a value from a newer version or a hand-edited file: keep it selectable
        combo.addItem(current, current)
    combo.setCurrentIndex(combo.findData(current))
    return combo


class SettingsDialog(QDialog):
    """Edits a copy of `settings`; `result_settings()` is the validated new value after accept."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Imago settings"))
        self._original = settings
        form = QFormLayout(self)
        self.device = _combo({d: DEVICE_NAMES.get(d, d) for d in DEVICES}, settings.device)
        self.threads = QSpinBox(minimum=0, maximum=256, value=settings.intra_op_threads)
        self.threads.setSpecialValueText(self.tr("Automatic"))
        self.caption_model = _combo(CAPTION_MODELS, settings.caption_model)
        self.beams = QSpinBox(minimum=1, maximum=8, value=settings.caption_beams)
        self.language = _combo(LANGUAGES, settings.language)
        form.addRow(self.tr("Device"), self.device)
        form.addRow(self.tr("Threads per model"), self.threads)
        form.addRow(self.tr("Caption model"), self.caption_model)
        form.addRow(self.tr("Caption beams"), self.beams)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(
            QLabel(
                "<i>{}</i>".format(
                    self.tr(
                        "Changes apply to the next indexing run and search; the language to the next start."
                    )
                )
            )
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def result_settings(self) -> Settings:
        settings = Settings(
            device=self.device.currentData(),
            intra_op_threads=self.threads.value(),
            caption_model=self.caption_model.currentData(),
            caption_beams=self.beams.value(),
            language=self.language.currentData(),
            recent_archives=list(self._original.recent_archives),
        )
        settings.validate()
        return settings
