"""A dismissible line shown while no CLIP bundle is installed (the built-in image model does the rest),
with an "Install model…" button."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

NO_CLIP_TEXT = QT_TRANSLATE_NOOP(
    "ModelsNotice",
    "Text search by meaning needs a CLIP model bundle; until then it matches file names, tags and "
    "descriptions.",
)
BUILT_IN = QT_TRANSLATE_NOOP(
    "ModelsNotice",
    "<p>Indexing, find similar and object names use the built-in image model.</p>",
)
# Keep in step with README.md, "Getting CLIP and GIT".
HOW_TO_GET = QT_TRANSLATE_NOOP(
    "ModelsNotice",
    """<p>Imago downloads nothing. Model bundles are made once on a computer with internet access, in a
source checkout of Imago with its <code>[export]</code> extra (torch, transformers, optimum-onnx):</p>
<pre>pip install -e '.[export]'
python main.py models export clip openai/clip-vit-base-patch32 --out clip-b32 \\
    --text-model sentence-transformers/clip-ViT-B-32-multilingual-v1 --quantize int8
python main.py models export git microsoft/git-base-coco --out git-base</pre>
<p><b>clip-b32</b> searches by meaning in Russian and English; <b>git-base</b> writes descriptions.
Copy the folders (or zips of them) to this computer and install each with “Install model…” or
<code>imago models install clip-b32</code>. Bundles are installed in <code>{models_dir}</code>.</p>""",
)


def how_to_get_models(models_dir: Path) -> str:
    """How to make and install the CLIP and caption bundles (rich text, in the UI language)."""
    return QCoreApplication.translate("ModelsNotice", HOW_TO_GET).format(models_dir=models_dir)


class ModelsNotice(QFrame):
    """The notice; `install_requested` and `dismissed` say which button was clicked."""

    install_requested = Signal()
    dismissed = Signal()

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent, frameShape=QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        self.text = QLabel(self.tr(NO_CLIP_TEXT), wordWrap=True)
        self.text.setToolTip(self.tr(BUILT_IN) + how_to_get_models(models_dir))
        layout.addWidget(self.text, 1)
        self.install_button = QPushButton(self.tr("Install model…"))
        self.install_button.setToolTip(self.tr("How to get model bundles; install one from a folder or zip"))
        self.install_button.clicked.connect(self.install_requested)
        dismiss = QToolButton(text="✕", autoRaise=True, toolTip=self.tr("Hide this notice"))
        dismiss.clicked.connect(self.dismissed)
        layout.addWidget(self.install_button)
        layout.addWidget(dismiss)
