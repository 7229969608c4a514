"""Thumbnail cache for the grid, in the index folder, keyed by content hash (moves keep them).

Files are JPEGs at `thumbs/<first two hash chars>/<hash>[-x-y-w-h].jpg`, written atomically, so any
thread may write and any reader may find a thumbnail without the catalog. A thumbnail that is missing
(deleted, or its write failed, e.g. disk full) is written again by the indexer's next run
(`Indexer` checks `names()` against the catalog's indexed files).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PIL import Image

from store.storage.atomic import atomic_replace

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = 256


class ThumbnailCache:
    """Content-addressed JPEG thumbnails; safe to use from several threads and processes."""

    def __init__(self, folder: Path, size: int = THUMBNAIL_SIZE, quality: int = 85) -> None:
        self.folder = Path(folder)
        self.size = size
        self.quality = quality

    @staticmethod
    def name(content_hash: str, bbox: tuple[int, int, int, int] | None = None) -> str:
        suffix = "" if bbox is None else "-" + "-".join(str(int(v)) for v in bbox)
        return f"{content_hash}{suffix}.jpg"

    def path(self, content_hash: str, bbox: tuple[int, int, int, int] | None = None) -> Path:
        return self.folder / content_hash[:2] / self.name(content_hash, bbox)

    @staticmethod
    def parse_name(name: str) -> tuple[str, tuple[int, int, int, int] | None]:
        """(content hash, bbox or None) of a thumbnail file name made by `name`."""
        parts = name.removesuffix(".jpg").split("-")
        return parts[0], (tuple(int(v) for v in parts[1:5]) if len(parts) == 5 else None)

    def names(self) -> set[str]:
        """The names of all thumbnails present (one listing per subfolder)."""
        found: set[str] = set()
        try:
            subfolders = [e for e in os.scandir(self.folder) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return found
        for sub in subfolders:
            try:
                with os.scandir(sub.path) as entries:
                    for entry in entries:
                        if entry.name.endswith(".jpg") and entry.is_file():
                            found.add(entry.name)
            except OSError as exc:
                logger.warning("cannot list thumbnails in %s: %s", sub.path, exc)
        return found

    def get(self, content_hash: str, bbox: tuple[int, int, int, int] | None = None) -> Path | None:
        path = self.path(content_hash, bbox)
        return path if path.is_file() else None

    def put(
        self, content_hash: str, image: Image.Image, bbox: tuple[int, int, int, int] | None = None
    ) -> Path:
        """Store a thumbnail of `image` (RGB) unless one exists; return its path."""
        path = self.path(content_hash, bbox)
        if path.is_file() and path.stat().st_size > 0:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        thumb = image.copy()
        thumb.thumbnail((self.size, self.size), Image.Resampling.BICUBIC, reducing_gap=2.0)
        with atomic_replace(path, prefix=".thumb-") as tmp:
            thumb.save(tmp, "JPEG", quality=self.quality)
        return path
