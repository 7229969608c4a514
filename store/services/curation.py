"""Curator edits of an item: description, confirmed and rejected categories and names, bulk labelling.

Everything written here is curator data (labels with source 'curator', descriptions with their edit
time), which re-indexing never overwrites; the catalog keeps the FTS index in step. Records
(store.storage.records.ItemRecord) are the full view of items that the export and import use.

Thread-safety: a CurationService uses one Catalog connection, so it belongs to one thread; writes
wait for the indexer's transaction (busy timeout) instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from models.errors import InputError
from models.label_names import HEADS
from store.storage.catalog import Catalog
from store.storage.records import ItemRecord, read_records
from store.storage.views import is_visible

logger = logging.getLogger(__name__)

MAX_DESCRIPTION_CHARS = 20_000
MAX_LABEL_CHARS = 200


def check_text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, not {type(value).__name__}")
    if "\x00" in value:
        raise InputError(f"{what} contains a NUL character")
    value = value.strip()
    if len(value) > limit:
        raise InputError(f"{what} is {len(value)} characters long; at most {limit} are allowed")
    return value


def check_head(head: object) -> str:
    if head not in HEADS:
        raise InputError(f"unknown label head {head!r} (expected one of {', '.join(HEADS)})")
    return str(head)


def check_labels(labels: Iterable[object], what: str = "label") -> list[str]:
    out: list[str] = []
    for value in labels:
        label = check_text(value, what, MAX_LABEL_CHARS)
        if not label:
            raise InputError(f"{what} is empty")
        if label not in out:
            out.append(label)
    return out


class CurationService:
    """Reads item records and writes curator edits through one Catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def _require_item(self, item_id: int) -> None:
        if not is_visible(self.catalog, item_id):
            raise InputError(f"no visible item with id {item_id} in {self.catalog.path}")

    # -- edits ------------------------------------------------------------------------------------

    def set_description(self, item_id: int, text: str) -> None:
        """The curator's description of an item ('' clears it back to the generated caption)."""
        text = check_text(text, "description", MAX_DESCRIPTION_CHARS)
        self._require_item(item_id)
        self.catalog.set_description(int(item_id), text)

    def set_labels(self, item_id: int, head: str, labels: Sequence[str]) -> None:
        """The curator's confirmed labels of `head` (first = primary), replacing earlier ones."""
        head = check_head(head)
        labels = check_labels(labels)
        self._require_item(item_id)
        self.catalog.set_curator_labels(int(item_id), head, labels)

    def confirm_label(self, item_id: int, head: str, label: str) -> None:
        """Add `label` to the curator's labels of `head` (e.g. confirming a model suggestion)."""
        current = self.curator_labels(item_id, head)
        (label,) = check_labels([label])
        if label not in current:
            self.set_labels(item_id, head, [*current, label])

    def remove_label(self, item_id: int, head: str, label: str) -> None:
        """Drop `label` from the curator's labels of `head` (model suggestions are not affected)."""
        current = self.curator_labels(item_id, head)
        if label in current:
            self.set_labels(item_id, head, [x for x in current if x != label])

    def reject_label(self, item_id: int, head: str, label: str) -> None:
        """Mark `label` as wrong for the item: it leaves the item's labels and the model does not give
        it again on re-indexing. Confirming the label later takes the rejection back."""
        head = check_head(head)
        (label,) = check_labels([label])
        self._require_item(item_id)
        self.catalog.reject_label(int(item_id), head, label)

    def bulk_add_label(self, item_ids: Iterable[int], head: str, label: str) -> int:
        """Add a curator label to every item of a selection (one transaction); returns how many
        items gained it."""
        head = check_head(head)
        (label,) = check_labels([label])
        ids = [int(i) for i in item_ids]
        for item_id in ids:
            self._require_item(item_id)
        changed = 0
        with self.catalog.transaction():
            for item_id in ids:
                current = self.curator_labels(item_id, head)
                if label not in current:
                    self.catalog.set_curator_labels(item_id, head, [*current, label])
                    changed += 1
        return changed

    # -- reads ------------------------------------------------------------------------------------

    def training_examples(self, head: str, model_id: str) -> tuple[np.ndarray, list[str]]:
        """(embeddings [n, d], labels) of the curator's labels of `head` on visible items with a
        `model_id` vector: what a trained head (models.classifier.train_linear_head) learns from.
        An item with several curator labels gives one example per label."""
        head = check_head(head)
        rows = self.catalog.curator_labelled(head)
        keys, vectors = self.catalog.vectors(model_id, sorted({r[0] for r in rows}))
        row_of = {int(k): n for n, k in enumerate(keys.tolist())}
        kept = [(row_of[item_id], label) for item_id, label in rows if item_id in row_of]
        if not kept:
            return np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32), []
        return vectors[[n for n, _ in kept]], [label for _, label in kept]

    def curator_labels(self, item_id: int, head: str) -> list[str]:
        return self.catalog.curator_labels(int(item_id), check_head(head))

    def label_names(self, head: str) -> list[str]:
        """The labels of `head` used in the archive (on visible items), sorted: what adding a label offers."""
        return self.catalog.label_names(check_head(head))

    def record(self, item_id: int) -> ItemRecord:
        records = self.records([item_id])
        if not records:
            raise InputError(f"no visible item with id {item_id} in {self.catalog.path}")
        return records[0]

    def records(self, item_ids: Sequence[int] | None = None) -> list[ItemRecord]:
        """Records of the given visible items (all visible items when None), ordered by path and id."""
        return read_records(self.catalog, item_ids)
