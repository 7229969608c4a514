"""The panel shown while the open archive or its index is unavailable: what happened, what to do, how many
curator edits wait to be written, and buttons to check again, index anew or open another archive."""

from __future__ import annotations

import html

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from store.storage.health import INDEX_DAMAGED, INDEX_MISSING, UNAVAILABLE

PROBLEM_TEXTS = {
    UNAVAILABLE: QT_TRANSLATE_NOOP(
        "ProblemPanel",
        """<h2>The archive folder is not available</h2>
<p><code>{archive}</code> cannot be reached: it was renamed, moved or deleted, or the drive or
network share holding it is not connected. Browsing, searching and indexing are stopped.</p>
<p><b>What to do:</b> connect the drive or share again, or give the folder back its name and place.
Imago checks every few seconds and carries on by itself when the folder is back. Descriptions and
labels you edit meanwhile are kept and written then.</p>""",
    ),
    INDEX_DAMAGED: QT_TRANSLATE_NOOP(
        "ProblemPanel",
        """<h2>The archive's index is damaged</h2>
<p>The index file <code>{catalog}</code> cannot be read: it is not a valid database any more.
Browsing, searching and indexing are stopped so that nothing wrong is shown.</p>
<p><b>What to do:</b> restore the file from a backup (Imago carries on by itself once it can read it),
or index the archive again from scratch. The damaged file is then kept beside the new one, but the
descriptions and labels stored only in it are not carried over.</p>""",
    ),
    INDEX_MISSING: QT_TRANSLATE_NOOP(
        "ProblemPanel",
        """<h2>The archive's index was deleted</h2>
<p>The index file <code>{catalog}</code> is gone. Browsing, searching and indexing are stopped.</p>
<p><b>What to do:</b> restore the file from a backup (Imago carries on by itself once it is back),
or index the archive again from scratch; descriptions and labels stored only in the deleted file
are lost.</p>""",
    ),
}
PROBLEM_STATUS = {
    UNAVAILABLE: QT_TRANSLATE_NOOP("ProblemPanel", "Archive not available — not watching"),
    INDEX_DAMAGED: QT_TRANSLATE_NOOP("ProblemPanel", "Index damaged — not indexing"),
    INDEX_MISSING: QT_TRANSLATE_NOOP("ProblemPanel", "Index deleted — not indexing"),
}


def problem_status(problem: str) -> str:
    """The status-bar line for an archive problem (a `store.storage.health` constant), translated."""
    return QCoreApplication.translate("ProblemPanel", PROBLEM_STATUS[problem])


class ProblemPanel(QFrame):
    """Says what happened to the archive or its index; its buttons are wired by the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, frameShape=QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setObjectName("problem-panel")
        self.setStyleSheet("#problem-panel { background: #fff4e5; border: 1px solid #e0a040; }")
        layout = QVBoxLayout(self)
        self.text = QLabel(wordWrap=True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kept_label = QLabel(wordWrap=True)
        self.kept_label.setStyleSheet("font-weight: bold")
        layout.addWidget(self.text)
        layout.addWidget(self.kept_label)
        buttons = QHBoxLayout()
        self.check_button = QPushButton(self.tr("Check again"))
        self.rebuild_button = QPushButton(self.tr("Index again from scratch"))
        self.rebuild_button.setToolTip(
            self.tr("Keep the damaged index file aside and index the archive anew")
        )
        self.other_button = QPushButton(self.tr("Open another archive…"))
        for button in (self.check_button, self.rebuild_button, self.other_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    def show_problem(self, problem: str, archive: object, catalog: object) -> None:
        """Say what `problem` means for `archive` and its `catalog` file, and what to do."""
        self.text.setText(
            self.tr(PROBLEM_TEXTS[problem]).format(
                archive=html.escape(str(archive)), catalog=html.escape(str(catalog))
            )
        )
        self.rebuild_button.setVisible(problem != UNAVAILABLE)

    def show_kept(self, count: int) -> None:
        """How many curator edits wait to be written (hidden when none)."""
        text = self.tr("Edits waiting to be written: {count}").format(count=count) if count else ""
        self.kept_label.setText(text)
        self.kept_label.setVisible(bool(count))
