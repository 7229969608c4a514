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

from store.boxes import Box
from store.errors import FileIndexError
from store.ingestion.decoder import decode_file
from store.protocols import Captioner
from store.storage.catalog import Catalog
from store.storage.views import item_files

logger = logging.getLogger(__name__)

DECODE_SIDE = 384  # enough for GIT large (384 px input); JPEG draft mode decodes at least this
REGION_MAX_SIDE = 2048  # regions are cropped from a larger decode, so small ones keep their detail


@dataclass
class RecaptionResult:
    captioned: list[int] = field(default_factory=list)  # item ids, in the order they were done
    failed: list[tuple[int, str]] = field(default_factory=list)  # (item id, why)
    cancelled: bool = False


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
        catalog.put_captions(captioner.model_id, zip([item_id for item_id, _ in pending], texts, strict=True))
        result.captioned += [item_id for item_id, _ in pending]
        pending.clear()

    by_file: dict[bytes, list[tuple[int, str, Box | None]]] = {}
    for item_id, raw_path, path, bbox in item_files(catalog, item_ids):
        by_file.setdefault(raw_path, []).append((item_id, path, bbox))
    for raw_path, file_items in by_file.items():
        if should_stop is not None and should_stop():
            result.cancelled = True
            break
        max_side = REGION_MAX_SIDE if any(bbox for _, _, bbox in file_items) else 1024
        try:
            _, decoded = decode_file(os.path.join(base, raw_path), target_size=DECODE_SIDE, max_side=max_side)
        except (FileNotFoundError, FileIndexError) as exc:
            why = "file not found" if isinstance(exc, FileNotFoundError) else str(exc)
            logger.warning("cannot caption %s again: %s", file_items[0][1], why)
            result.failed += [(item_id, why) for item_id, _, _ in file_items]
            continue
        for item_id, _, bbox in file_items:
            pending.append((item_id, decoded.image if bbox is None else decoded.crop(bbox)))
            if len(pending) >= batch_size:
                flush()
    if pending and not result.cancelled:
        flush()
    logger.info(
        "captioned %d items again with %s (%d failed%s)", len(result.captioned), captioner.model_id,
        len(result.failed), ", cancelled" if result.cancelled else "",
    )  # fmt: skip
    return result
