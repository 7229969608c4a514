"""The indexer's caption pass: captions for the visible items that lack one of the captioner's,
after indexing (lower priority: search works long before it ends), decoding ahead of the captioner.

`CaptionPass` is a part of `store.ingestion.indexer.Indexer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from PIL import Image

from store.ingestion.lookahead import LookAhead
from store.ingestion.progress import IndexSummary, Progress
from store.protocols import Captioner
from store.storage.catalog import Catalog
from store.storage.files import display_path
from store.storage.items import ItemRef


class CaptionPass:
    """Captioning what lacks a caption (a part of Indexer)."""

    catalog: Catalog
    captioner: Captioner | None
    caption_batch_size: int
    decode_workers: int
    lookahead: int
    summary: IndexSummary

    def _caption_pass(self, started: float, interrupt: Callable[[], bool] | None) -> Iterator[Progress]:
        captioner = self.captioner
        todo = self.catalog.items_without_caption(captioner.model_id)
        total = sum(len(v) for v in todo.values())
        done = 0
        phase_started = time.monotonic()
        yield Progress("caption", 0, total, 0.0, None, 0, time.monotonic() - started)
        tasks = self._embed_only_tasks(todo)
        pending: list[tuple[ItemRef, Image.Image]] = []
        work = LookAhead(lambda task: self._prepare(task, {}), tasks, depth=self.lookahead,
                         workers=self.decode_workers, name="imago-caption-decode")  # fmt: skip
        with work:
            while (result := work.next()) is not None:
                if result.kind == "decoded":
                    pending += list(zip(result.task.items, result.images, strict=True))
                else:
                    done += len(result.task.items)
                last = not work.waiting
                while len(pending) >= self.caption_batch_size or (pending and last):
                    chunk, pending = pending[: self.caption_batch_size], pending[self.caption_batch_size :]
                    texts = captioner.caption([img for _, img in chunk])
                    self.catalog.put_captions(
                        captioner.model_id, zip([item.id for item, _ in chunk], texts, strict=True)
                    )
                    done += len(chunk)
                    self.summary.captioned += len(chunk)
                    elapsed = time.monotonic() - phase_started
                    yield Progress(
                        "caption", done, total, done / elapsed if elapsed > 0 else 0.0,
                        display_path(result.task.raw_path), 0, time.monotonic() - started,
                    )  # fmt: skip
                    if self._checkpoint() or (interrupt is not None and interrupt()):
                        work.stop()
                        return
