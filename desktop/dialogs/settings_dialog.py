"""The settings dialog: device (with what this computer can use, as `doctor` finds it), caption model,
language (which changes at the next start), watching the archive, the index folder of read-only
archives, and under "Advanced" the threads and caption beams (saved to settings.json)."""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from desktop.workers.tasks import TaskRunner
from models.errors import ConfigError
from models.session import ProviderProbe, probe_providers
from store.config import DEVICES, MAX_RESCAN_MINUTES, Settings, default_index_root

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


class _ProbeSignals(QObject):
    done = Signal(object)  # list[ProviderProbe]


_found_providers: list[ProviderProbe] | None = None  # the probe's answer: it does not change while running


def _probe() -> list[ProviderProbe]:
    """models.session.probe_providers (what `doctor` does: a tiny session per provider), run in the
    pool: creating sessions takes long enough to be noticed on the GUI thread."""
    global _found_providers
    try:
        _found_providers = probe_providers()
    except Exception:  # a report only: the combo box still works without it
        logger.exception("probing execution providers failed")
        return []
    return _found_providers


def describe_providers(probes: list[ProviderProbe]) -> str:
    """What the device setting can use on this computer, in the curator's words."""
    gpu = next((p for p in probes if p.provider == "CUDAExecutionProvider"), None)
    if gpu is not None and gpu.usable:
        return QCoreApplication.translate("SettingsDialog", "This computer: the GPU (CUDA) works.")
    if gpu is not None:  # why not (a library's message, in English) is the line's tooltip
        return QCoreApplication.translate(
            "SettingsDialog", "This computer: no usable GPU; models run on the CPU."
        )
    if probes:
        return QCoreApplication.translate(
            "SettingsDialog", "This computer: no GPU support; models run on the CPU."
        )
    return QCoreApplication.translate(
        "SettingsDialog", "This computer: could not check the devices (see the log)."
    )


class SettingsDialog(QDialog):
    """Edits a copy of `settings`; `result_settings()` is the validated new value after accept. What
    this computer can use is probed once, with `tasks`."""

    def __init__(self, settings: Settings, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Imago settings"))
        self._original = settings
        form = QFormLayout(self)
        self.device = _combo({d: DEVICE_NAMES.get(d, d) for d in DEVICES}, settings.device)
        self.device_found = QLabel(self.tr("This computer: checking the devices…"), wordWrap=True)
        if _found_providers is not None:
            self._show_probe(_found_providers)
        else:
            self._probe = _ProbeSignals()  # no parent: the probe may outlive the dialog
            self._probe.done.connect(self._show_probe)  # disconnected by Qt when the dialog goes
            tasks.submit(_probe, self._probe.done.emit)
        self.caption_model = _combo(CAPTION_MODELS, settings.caption_model)
        self.language = _combo(LANGUAGES, settings.language)
        self.language_note = QLabel(
            self.tr("The language changes when Imago is next started."), wordWrap=True
        )
        self.language.currentIndexChanged.connect(
            lambda: self.language_note.setVisible(self.language.currentData() != settings.language)
        )
        self.watch = QCheckBox(self.tr("Watch the archive for changes"), checked=settings.watch_archive)
        self.watch.setToolTip(self.tr("Index new, changed, moved and deleted files as they happen"))
        self.rescan = QSpinBox(minimum=0, maximum=MAX_RESCAN_MINUTES, value=settings.rescan_minutes)
        self.rescan.setSpecialValueText(self.tr("Never"))
        self.rescan.setSuffix(self.tr(" min"))
        self.rescan.setToolTip(
            self.tr("Scan the whole archive again at this interval: for network shares, which often "
                    "report no changes")
        )  # fmt: skip
        self.index_dir = QLineEdit(settings.fallback_index_dir, placeholderText=str(default_index_root()))
        self.index_dir.setClearButtonEnabled(True)
        self.index_dir.setMinimumWidth(360)  # room for a full default path
        self.index_dir.setToolTip(
            self.tr("Where the index of an archive you cannot write to (DVD, read-only share) is kept; "
                    "empty: the default folder shown. Indexes already made stay where they are.")
        )  # fmt: skip
        choose = QPushButton(self.tr("Choose…"))
        choose.clicked.connect(self._choose_index_dir)
        index_row = QHBoxLayout()
        index_row.setContentsMargins(0, 0, 0, 0)
        index_row.addWidget(self.index_dir, stretch=1)
        index_row.addWidget(choose)
        form.addRow(self.tr("Device"), self.device)
        form.addRow("", self.device_found)
        form.addRow(self.tr("Caption model"), self.caption_model)
        form.addRow(self.tr("Language"), self.language)
        form.addRow("", self.language_note)
        self.language_note.hide()
        form.addRow("", self.watch)
        form.addRow(self.tr("Rescan every"), self.rescan)
        form.addRow(self.tr("Index location for read-only archives"), index_row)
        self._add_advanced(form, settings)
        form.addRow(
            QLabel(
                "<i>{}</i>".format(
                    self.tr("Changes apply at once to search and to indexing (which restarts), the index "
                            "location when a read-only archive is next opened, the language at the next "
                            "start.")
                ),
                wordWrap=True,
            )
        )  # fmt: skip
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _add_advanced(self, form: QFormLayout, settings: Settings) -> None:
        """Threads and caption beams, in plain words, under "Advanced" (folded away until opened)."""
        self.advanced_button = QToolButton(text=self.tr("Advanced"), checkable=True, autoRaise=True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced = QWidget()
        advanced = QFormLayout(self.advanced)
        advanced.setContentsMargins(0, 0, 0, 0)
        self.threads = QSpinBox(minimum=0, maximum=256, value=settings.intra_op_threads)
        self.threads.setSpecialValueText(self.tr("Automatic"))
        self.threads.setToolTip(
            self.tr("How many processor cores each model may use at once; Automatic lets Imago choose.")
        )
        self.beams = QSpinBox(minimum=1, maximum=8, value=settings.caption_beams)
        self.beams.setToolTip(
            self.tr("How many wordings a caption is chosen from: more gives slightly better captions, "
                    "written more slowly.")
        )  # fmt: skip
        advanced.addRow(self.tr("Processor cores per model"), self.threads)
        advanced.addRow(self.tr("Caption wordings compared"), self.beams)
        self.advanced.hide()
        self.advanced_button.toggled.connect(self._show_advanced)
        form.addRow(self.advanced_button)
        form.addRow(self.advanced)

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _show_probe(self, probes: list[ProviderProbe]) -> None:
        self.device_found.setText(describe_providers(probes))
        gpu = next((p for p in probes if p.provider == "CUDAExecutionProvider" and not p.usable), None)
        self.device_found.setToolTip(gpu.detail if gpu is not None else "")

    def accept(self) -> None:
        """Close only with valid settings; otherwise say what is wrong and stay open."""
        try:
            self.result_settings()
        except ConfigError as exc:
            QMessageBox.warning(self, self.tr("Settings not valid"), str(exc))
            return
        super().accept()

    def _choose_index_dir(self) -> None:
        start = self.index_dir.text() or str(default_index_root())
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Index location for read-only archives"), start
        )
        if folder:
            self.index_dir.setText(folder)

    def result_settings(self) -> Settings:
        """The edited settings; fields the dialog does not show keep their values."""
        settings = dataclasses.replace(
            self._original,
            device=self.device.currentData(),
            intra_op_threads=self.threads.value(),
            caption_model=self.caption_model.currentData(),
            caption_beams=self.beams.value(),
            language=self.language.currentData(),
            recent_archives=list(self._original.recent_archives),
            watch_archive=self.watch.isChecked(),
            rescan_minutes=self.rescan.value(),
            fallback_index_dir=self.index_dir.text().strip(),
        )
        settings.validate()
        return settings
