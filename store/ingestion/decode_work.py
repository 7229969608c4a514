"""The work on one file in the indexer's decode pool: read it once, hash it, tell an unchanged or
moved file from a new one, decode it, find its sub-photos, write its thumbnails, and (for encoders
that preprocess apart from running the model) make the encoder's input. It touches no catalog.

`DecodeWork` is a part of `store.ingestion.indexer.Indexer`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from store.boxes import Box
from store.errors import FileIndexError, UnreadableFileError
from store.ingestion.decoder import DecodedImage, decode_bytes, decode_path
from store.ingestion.file_access import open_regular
from store.ingestion.scanner import Entry, hash_bytes, hash_file
from store.protocols import ImageEncoder
from store.storage.files import FileState, display_path
from store.storage.items import ItemRef
from store.storage.thumbnails import ThumbnailCache

logger = logging.getLogger(__name__)

RegionDetector = Callable[[Image.Image], Sequence[Any]]  # returns objects with .bbox and .score
STREAM_ABOVE_BYTES = 128 * 1024 * 1024  # larger files are hashed and decoded from disk, not memory


@dataclass
class FileTask:
    """A file to index (`entry`), or an indexed file to read again for some of its items."""

    raw_path: bytes
    entry: Entry | None  # None: embed-only task for items of an already indexed file
    state: FileState | None  # the catalog row when the file is known (changed or embed-only)
    items: list[ItemRef] = field(default_factory=list)  # embed-only / caption: which items
    allow_move: bool = True


@dataclass
class Prepared:
    """What the decode pool made of a FileTask."""

    task: FileTask
    kind: str  # "decoded", "same" (content unchanged), "move" (hash of a vanished file), "failed", "gone"
    hash: str | None = None
    decoded: DecodedImage | None = None
    regions: list[tuple[Box, float]] = field(default_factory=list)
    error: FileIndexError | None = None
    images: list[Image.Image] = field(default_factory=list)  # `_images_of`, cropped once, in the pool
    pixels: np.ndarray | None = None  # the encoder's input for `images`, made in the decode pool


def _read_all(path: bytes, shown: str) -> bytes:
    with open_regular(path, shown) as fh:
        return fh.read()


class DecodeWork:
    """Per-file work in the decode pool (a part of Indexer)."""

    archive: Path
    encoder: ImageEncoder
    ensemble_encoder: ImageEncoder | None
    thumbnails: ThumbnailCache | None
    region_detector: RegionDetector | None

    def _prepare(self, task: FileTask, vanished: dict[str, FileState], pixels: bool = False) -> Prepared:
        """Read, hash and decode one file (runs in the decode pool; touches no catalog)."""
        full = os.path.join(os.fsencode(self.archive), task.raw_path)
        sizes = [e.input_size for e in (self.encoder, self.ensemble_encoder) if e is not None]
        target = max(*sizes, self.thumbnails.size if self.thumbnails else 0)
        digest = None
        options = dict(name=display_path(task.raw_path), target_size=target,
                       max_side=2048 if self.region_detector else 1024)  # fmt: skip
        try:
            # One read serves hashing and decoding; very large files are streamed twice instead.
            big = os.stat(full).st_size > STREAM_ABOVE_BYTES
            data = None if big else _read_all(full, options["name"])
            digest = hash_file(full) if big else hash_bytes(data)
            if task.entry is not None:
                if task.state is not None and task.state.hash == digest and task.state.status != "failed":
                    return Prepared(task, "same", digest)
                if task.allow_move and digest in vanished:
                    return Prepared(task, "move", digest)
            decoded = decode_path(full, **options) if big else decode_bytes(data, **options)
            del data
        except FileNotFoundError:
            return Prepared(task, "gone")
        except FileIndexError as exc:
            return Prepared(task, "failed", digest, error=exc)
        except OSError as exc:
            error = UnreadableFileError(f"cannot read {display_path(task.raw_path)}: {exc.strerror or exc}")
            return Prepared(task, "failed", digest, error=error)
        except Exception as exc:  # whatever one file does, it is that file's failure; the run goes on
            shown = display_path(task.raw_path)
            logger.exception("unexpected error reading %s", shown)
            # kind "error": retried on the next run, since the cause may lie outside the file
            error = FileIndexError(f"cannot read {shown}: {type(exc).__name__}: {exc}")
            return Prepared(task, "failed", digest, error=error)
        regions: list[tuple[Box, float]] = []
        if self.region_detector is not None and task.entry is not None:
            regions = self._detect(decoded, task)
        result = Prepared(task, "decoded", digest, decoded, regions)
        result.images = self._images_of(result)
        if self.thumbnails is not None:
            try:
                self.thumbnails.put(digest, decoded.image)
                crops = result.images[1:] if task.entry is not None else []  # the regions' crops
                for (bbox, _), crop in zip(regions, crops, strict=True):
                    self.thumbnails.put(digest, crop, bbox)
            except Exception as exc:  # the file is still indexed; the next run writes the thumbnail
                logger.warning("cannot write thumbnail for %s: %s", display_path(task.raw_path), exc)
        if pixels:  # the encoder's preprocessing, here in the pool instead of before each model run
            try:
                result.pixels = self.encoder.pixels(result.images)
            except Exception as exc:
                shown = display_path(task.raw_path)
                logger.exception("cannot prepare %s for the model", shown)
                error = FileIndexError(f"cannot prepare {shown}: {exc}")
                return Prepared(task, "failed", digest, error=error)
        return result

    def _detect(self, decoded: DecodedImage, task: FileTask) -> list[tuple[Box, float]]:
        try:
            found = self.region_detector(decoded.image)
        except Exception:  # a detector bug must not stop indexing; the whole file is still indexed
            logger.exception("sub-photo detection failed for %s", display_path(task.raw_path))
            return []
        scale = decoded.scale
        regions = []
        for region in found:
            x, y, w, h = region.bbox
            box = (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            box = (
                max(0, min(box[0], decoded.width - 1)),
                max(0, min(box[1], decoded.height - 1)),
                max(1, box[2]),
                max(1, box[3]),
            )
            regions.append((box, float(region.score)))
        return regions

    def _images_of(self, result: Prepared) -> list[Image.Image]:
        """The images to embed for a decoded file, in the order `_flush` assigns them to items."""
        decoded = result.decoded
        task = result.task
        if task.entry is None:  # embed-only: the given items
            return [decoded.image if i.kind == "file" else decoded.crop(i.bbox) for i in task.items]
        images = [decoded.image] + [decoded.crop(bbox) for bbox, _ in result.regions]
        return images

    # -- one transaction per batch ----------------------------------------------------------------
