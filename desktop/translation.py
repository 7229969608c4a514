"""UI language: English (the source strings) or Russian, from the setting or the system locale."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from resources import resource_path

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "ru")


def ui_language(setting: str, system: str | None = None) -> str:
    """The language to show: `setting` unless "auto", else the system locale's when supported."""
    if setting in LANGUAGES:
        return setting
    code = (system or QLocale.system().name()).split("_")[0].lower()
    return code if code in LANGUAGES else "en"


_shown_language = "en"


def shown_language() -> str:
    """The language the UI is shown in ("en" until `install_translators` installs another)."""
    return _shown_language


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install Imago's (and Qt's own, for standard dialogs) translations; [] for English.

    Keep the returned translators referenced while the application runs."""
    global _shown_language
    _shown_language = language
    if language == "en":
        return []
    installed = []
    ours = QTranslator(app)
    if ours.load(str(resource_path("translations", f"imago_{language}.qm"))):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        logger.warning("no %s translation found in %s", language, resource_path("translations"))
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    return installed


def remove_translators(app: QCoreApplication, translators: list[QTranslator]) -> None:
    global _shown_language
    _shown_language = "en"
    for translator in translators:
        app.removeTranslator(translator)
