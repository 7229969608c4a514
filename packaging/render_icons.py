"""Render resources/icons/imago.svg to imago.png (256 px) and imago.ico (16-256 px, for Windows).

Run after editing the SVG: `QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def main() -> int:
    app = QGuiApplication(sys.argv)  # noqa: F841 (QPainter needs an application)
    renderer = QSvgRenderer(str(ICONS / "imago.svg"))
    if not renderer.isValid():
        sys.exit(f"cannot read {ICONS / 'imago.svg'}")
    image = QImage(256, 256, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, 256, 256))
    painter.end()
    image.save(str(ICONS / "imago.png"))
    with Image.open(ICONS / "imago.png") as png:
        png.save(ICONS / "imago.ico", sizes=ICO_SIZES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
