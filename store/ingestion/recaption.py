"""Captioning chosen items again (the curator's "Re-caption"), outside the indexer's caption pass.

Each file is decoded once; a region item is captioned from its crop. The new caption replaces the
captioner's earlier one for that item (the catalog keeps one caption per item and captioner model),
and the FTS row follows in the same transaction. Curator descriptions are untouched.

Thread-safety: takes a Catalog, which belongs to the calling thread; `should_stop` may be set from
any thread and is checked before each file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from store.errors import FileIndexError
from store.ingestion.decoder import decode_file
from store.protocols import Captioner
from store.storage.catalog import VISIBLE, Catalog, id_chunks

logger = logging.getLogger(__name__)

DECODE_SIDE = 384  # enough for GIT large (384 px input); JPEG draft mode decodes at least this
REGION_MAX_SIDE = 2048  # regions are cropped from a larger decode, so small ones keep their detail


@dataclass
class RecaptionResult:
    captioned: list[int] = field(default_factory=list)  # item ids, in the order they were done
    failed: list[tuple[int, str]] = field(default_factory=list)  # (item id, why)
    cancelled: bool = False


@dataclass(frozen=True)
class _Item:
    item_id: int
    raw_path: bytes
    path: str
    bbox: tuple[int, int, int, int] | None


def _visible(catalog: Catalog, item_ids: Sequence[int]) -> list[_Item]:
    """The visible items among `item_ids`, grouped by file (path order)."""
    found: list[_Item] = []
    for chunk, marks in id_chunks(item_ids):
        rows = catalog.conn.execute(
            "SELECT items.id, files.raw_path, files.path, items.kind, items.x, items.y, items.w, items.h "
            f"FROM items JOIN files ON files.id = items.file_id WHERE {VISIBLE} "
            f"AND items.id IN ({marks})",
            chunk,
        )
        for r in rows:
            bbox = None if r[3] == "file" else (int(r[4]), int(r[5]), int(r[6]), int(r[7]))
            found.append(_Item(int(r[0]), bytes(r[1]), r[2], bbox))
    return sorted(found, key=lambda i: (i.path, i.item_id))


def recaption(
    catalog: Catalog,
    archive: Path,
    captioner: Captioner,
    item_ids: Sequence[int],
    *,
    batch_size: int = 4,
    should_stop: Callable[[], bool] | None = None,
) -> RecaptionResult:
    """Caption the visible items `item_ids` of the archive at `archive` again; ids that are not
    visible items are ignored. Files that cannot be read are reported in `failed`."""
    result = RecaptionResult()
    pending: list[tuple[int, Image.Image]] = []
    base = os.fsencode(archive)

    def flush() -> None:
        texts = captioner.caption([image for _, image in pending])
        with catalog.transaction():
            for (item_id, _), text in zip(pending, texts, strict=True):
                catalog.put_caption(item_id, captioner.model_id, text)
            catalog.refresh_fts([item_id for item_id, _ in pending])
        result.captioned += [item_id for item_id, _ in pending]
        pending.clear()

    items = _visible(catalog, item_ids)
    by_file: dict[bytes, list[_Item]] = {}
    for item in items:
        by_file.setdefault(item.raw_path, []).append(item)
    for raw_path, file_items in by_file.items():
        if should_stop is not None and should_stop():
            result.cancelled = True
            break
        max_side = REGION_MAX_SIDE if any(i.bbox for i in file_items) else 1024
        try:
            _, decoded = decode_file(os.path.join(base, raw_path), target_size=DECODE_SIDE, max_side=max_side)
        except (FileNotFoundError, FileIndexError) as exc:
            why = "file not found" if isinstance(exc, FileNotFoundError) else str(exc)
            logger.warning("cannot caption %s again: %s", file_items[0].path, why)
            result.failed += [(i.item_id, why) for i in file_items]
            continue
        for item in file_items:
            pending.append((item.item_id, decoded.image if item.bbox is None else decoded.crop(item.bbox)))
            if len(pending) >= batch_size:
                flush()
    if pending and not result.cancelled:
        flush()
    logger.info(
        "captioned %d items again with %s (%d failed%s)", len(result.captioned), captioner.model_id,
        len(result.failed), ", cancelled" if result.cancelled else "",
    )  # fmt: skip
    return result
