"""The indexing part of the status bar: what the indexer does, its progress, failed files, pause, and
whether the index is read-only."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from desktop.widgets.elided_label import ElidedLabel

READ_ONLY_TEXT = QT_TRANSLATE_NOOP("IndexStatus", "Read-only index: edits cannot be saved in it")


class IndexStatus(QObject):
    """The status bar's indexing widgets (added to `bar`); `failures_clicked` when the failed count is."""

    failures_clicked = Signal()

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.label = ElidedLabel(max_chars=130)
        self.progress_bar = QProgressBar(maximumWidth=220, textVisible=True)
        self.errors_label = QLabel()
        self.errors_label.setTextFormat(Qt.TextFormat.RichText)
        self.errors_label.linkActivated.connect(lambda _: self.failures_clicked.emit())
        self.pause_button = QPushButton(self.tr("Pause"))
        self.pause_button.setCheckable(True)
        self.read_only_label = QLabel()
        self.read_only_label.setStyleSheet("font-weight: bold")
        self.read_only_label.hide()
        for widget in (self.read_only_label, self.label, self.progress_bar, self.errors_label,
                       self.pause_button):  # fmt: skip
            bar.addPermanentWidget(widget)
        self.show_running(False)

    def show_running(self, running: bool) -> None:
        self.progress_bar.setVisible(running)
        self.pause_button.setVisible(running)

    def set_errors(self, count: int) -> None:
        """The number of files that failed to index, as a link to their list (hidden when none)."""
        text = self.tr("<a href='#'>Failed: {count}</a>").format(count=count) if count else ""
        self.errors_label.setText(text)

    def set_read_only(self, read_only: bool) -> str:
        """Say (or stop saying) that the index is read-only; the text said, for tooltips elsewhere."""
        text = self.tr(READ_ONLY_TEXT) if read_only else ""
        self.read_only_label.setText(text)
        self.read_only_label.setVisible(read_only)
        return text
