"""Sizes and times as a curator reads them, in the UI's language (translated units, the locale's
decimal mark)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale

from desktop.translation import shown_language

BYTE_UNITS = (
    QT_TRANSLATE_NOOP("Units", "B"),
    QT_TRANSLATE_NOOP("Units", "KiB"),
    QT_TRANSLATE_NOOP("Units", "MiB"),
    QT_TRANSLATE_NOOP("Units", "GiB"),
)


def human_bytes(size: int) -> str:
    """`size` in bytes as the curator reads it ("2.0 KiB"; "2,0 КиБ" in the Russian UI)."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(BYTE_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    locale = QLocale(shown_language())
    number = locale.toString(size) if unit == 0 else locale.toString(value, "f", 1)
    return f"{number} {QCoreApplication.translate('Units', BYTE_UNITS[unit])}"


def local_time(timestamp: float | None) -> str:
    """A file time to the minute ("2026-11-28 03:25"), or "—" when unknown."""
    if timestamp is None:
        return "—"
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
