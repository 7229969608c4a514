"""A dismissible line shown while no CLIP bundle is installed (the built-in image model does the rest),
with buttons to install one from a folder or a zip."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

NO_CLIP_TEXT = QT_TRANSLATE_NOOP(
    "ModelsNotice",
    "Find similar and object names use the built-in image model. Text search by meaning needs a CLIP "
    "model bundle; until then text search matches file names, tags and descriptions.",
)
NO_CLIP_HOW = QT_TRANSLATE_NOOP(
    "ModelsNotice",
    """<p>On a computer with internet access (Imago's <code>[export]</code> extra: torch, transformers):</p>
<pre>python main.py models export clip openai/clip-vit-base-patch32 --out clip-b32 \\
    --text-model sentence-transformers/clip-ViT-B-32-multilingual-v1 --quantize int8
python main.py models export git microsoft/git-base-coco --out git-base</pre>
<p>Copy the folders (or zips of them) here and install them with File › Install model bundle, or
<code>imago models install clip-b32</code>. Bundles are installed in <code>{models_dir}</code>.</p>""",
)


class ModelsNotice(QFrame):
    """The notice; `install_folder`, `install_zip` and `dismissed` say which button was clicked."""

    install_folder = Signal()
    install_zip = Signal()
    dismissed = Signal()

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent, frameShape=QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        self.text = QLabel(self.tr(NO_CLIP_TEXT), wordWrap=True)
        self.text.setToolTip(self.tr(NO_CLIP_HOW).format(models_dir=models_dir))
        layout.addWidget(self.text, 1)
        folder = QPushButton(self.tr("Install model…"))
        folder.setToolTip(self.text.toolTip())
        folder.clicked.connect(self.install_folder)
        from_zip = QPushButton(self.tr("From zip…"))
        from_zip.clicked.connect(self.install_zip)
        dismiss = QToolButton(text="✕", autoRaise=True, toolTip=self.tr("Hide this notice"))
        dismiss.clicked.connect(self.dismissed)
        for widget in (folder, from_zip, dismiss):
            layout.addWidget(widget)
