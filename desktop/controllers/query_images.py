"""Images to search by: a file dropped on the window or the search field, or pasted (a file or image
data on the clipboard). An image file is one the scanner indexes (`store.ingestion.scanner`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Signal
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage, QKeySequence

from store.ingestion.scanner import has_image_extension


def is_image_file(path: Path) -> bool:
    """Whether `path` has a suffix the scanner indexes (e.g. .jpg, .heic, .jfif)."""
    return has_image_extension(os.fsencode(path.name))


def image_file(mime: QMimeData | None, exists: bool = True) -> Path | None:
    """The first local image file among `mime`'s URLs (that is a file, when `exists`), or None."""
    for url in mime.urls() if mime is not None and mime.hasUrls() else []:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if is_image_file(path) and (not exists or path.is_file()):
                return path
    return None


def stored_image(mime: QMimeData, folder: Path) -> Path | None:
    """The image data on `mime` saved as a PNG file in `folder` (created), or None when it holds no
    image; OSError when it cannot be saved there."""
    if not mime.hasImage():
        return None
    image = QImage(mime.imageData())
    if image.isNull():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="pasted-", suffix=".png", dir=folder)
    os.close(fd)
    if not image.save(name, "PNG"):
        Path(name).unlink(missing_ok=True)
        raise OSError(f"cannot store the pasted image in {folder}")
    return Path(name)


class QueryImages(QObject):
    """Turns drops and pastes into `chosen(path)`; images pasted as data are stored in `folder` until
    `discard()` (they are not kept after the window closes)."""

    chosen = Signal(object)  # Path of the image to find similar ones to
    unstorable = Signal(object)  # the folder a pasted image could not be stored in

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self._pasted: list[Path] = []

    def accept_drag(self, event: QDropEvent) -> bool:
        """Accept a drag (or drop) that carries an image file; whether it does."""
        if image_file(event.mimeData()) is None:
            return False
        event.acceptProposedAction()
        return True

    def drop(self, event: QDropEvent) -> None:
        if self.accept_drag(event):
            self.chosen.emit(image_file(event.mimeData()))

    def paste(self) -> bool:
        """Search by the clipboard's image (or image file); False when it holds neither."""
        mime = QGuiApplication.clipboard().mimeData()
        path = image_file(mime, exists=False)
        if path is None and mime is not None:
            try:
                path = stored_image(mime, self.folder)
            except OSError:
                self.unstorable.emit(self.folder)
                return True
            if path is not None:
                self._pasted.append(path)
        if path is not None:
            self.chosen.emit(path)
        return path is not None

    def filter(self, field: QObject, watched: QObject, event: QEvent) -> bool | None:
        """For an event filter on the search `field`: a paste searches when the clipboard holds an image,
        an image file dropped searches by it instead of inserting its URL. None: not handled here."""
        if watched is not field:
            return None
        kind = event.type()
        if kind == QEvent.Type.KeyPress and event.matches(QKeySequence.StandardKey.Paste):
            return self.paste()  # text pastes as usual
        if kind in (QEvent.Type.DragEnter, QEvent.Type.Drop):
            if not event.mimeData().hasUrls():
                return False
            (self.accept_drag if kind == QEvent.Type.DragEnter else self.drop)(event)
            return True
        return None

    def discard(self) -> None:
        for path in self._pasted:
            path.unlink(missing_ok=True)
        self._pasted.clear()
