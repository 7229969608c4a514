"""The File › Open recent menu."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QWidget


class RecentMenu(QMenu):
    """Lists archive folders; `chosen(Path)` when one is picked."""

    chosen = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)

    def show_paths(self, paths: list[str]) -> None:
        self.clear()
        for path in paths:
            self.addAction(path).triggered.connect(lambda _=False, p=path: self.chosen.emit(Path(p)))
        self.setEnabled(bool(paths))
