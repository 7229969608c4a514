"""Curator edits of an item: description, confirmed and rejected categories and names, bulk labelling.

Everything written here is curator data (labels with source 'curator', descriptions with their edit
time), which re-indexing never overwrites; the catalog keeps the FTS index in step. `ItemRecord`
is the full view of one item (what the details panel and the export show).

Thread-safety: a CurationService uses one Catalog connection, so it belongs to one thread; writes
wait for the indexer's transaction (busy timeout) instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.errors import InputError
from store.storage.catalog import VISIBLE, Catalog, id_chunks

logger = logging.getLogger(__name__)

HEADS = ("category", "name")
MAX_DESCRIPTION_CHARS = 20_000
MAX_LABEL_CHARS = 200


@dataclass(frozen=True)
class Label:
    label: str
    score: float | None
    source: str  # "model" or "curator"
    model_id: str | None
    time: float

    def as_json(self) -> dict:
        score = None if self.score is None else round(float(self.score), 6)
        return {"label": self.label, "score": score, "source": self.source, "model_id": self.model_id,
                "time": self.time}  # fmt: skip


@dataclass
class ItemRecord:
    """Everything known about one item, curator data first where both exist."""

    item_id: int
    file_id: int
    path: str
    hash: str | None
    region: tuple[int, int, int, int] | None
    width: int | None
    height: int | None
    labels: dict[str, list[Label]] = field(default_factory=dict)  # head -> curator labels, then model
    rejected: dict[str, list[str]] = field(default_factory=dict)  # head -> labels the curator rejected
    caption: str | None = None
    caption_model: str | None = None
    caption_time: float | None = None
    description: str | None = None  # the curator's text
    description_time: float | None = None
    regions: list[dict] = field(default_factory=list)  # for a file item: its visible region items

    def top_label(self, head: str) -> Label | None:
        """The curator's first label of `head`, else the model's best one."""
        labels = self.labels.get(head, [])
        return labels[0] if labels else None

    @property
    def effective_description(self) -> str | None:
        """The curator's description when there is one, else the generated caption."""
        return self.description if self.description else self.caption

    @property
    def description_source(self) -> str | None:
        if self.description:
            return "curator"
        return "model" if self.caption else None


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
        row = self.catalog.conn.execute(
            "SELECT 1 FROM items CROSS JOIN files ON files.id = items.file_id "
            f"WHERE items.id = ? AND {VISIBLE}",
            (int(item_id),),
        ).fetchone()
        if row is None:
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
        rows = self.catalog.conn.execute(
            "SELECT labels.item_id, labels.label FROM labels CROSS JOIN items ON items.id = labels.item_id "
            "CROSS JOIN files ON files.id = items.file_id "
            f"WHERE labels.head = ? AND labels.source = 'curator' AND {VISIBLE} "
            "ORDER BY labels.item_id, labels.rank",
            (head,),
        ).fetchall()
        keys, vectors = self.catalog.vectors(model_id, sorted({r[0] for r in rows}))
        row_of = {int(k): n for n, k in enumerate(keys.tolist())}
        kept = [(row_of[item_id], label) for item_id, label in rows if item_id in row_of]
        if not kept:
            return np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32), []
        return vectors[[n for n, _ in kept]], [label for _, label in kept]

    def curator_labels(self, item_id: int, head: str) -> list[str]:
        head = check_head(head)
        rows = self.catalog.conn.execute(
            "SELECT label FROM labels WHERE item_id = ? AND head = ? AND source = 'curator' "
            "ORDER BY rank, id",
            (int(item_id), head),
        )
        return [r[0] for r in rows]

    def record(self, item_id: int) -> ItemRecord:
        records = self.records([item_id])
        if not records:
            raise InputError(f"no visible item with id {item_id} in {self.catalog.path}")
        return records[0]

    def records(self, item_ids: Sequence[int] | None = None) -> list[ItemRecord]:
        """Records of the given visible items (all visible items when None), ordered by path and id."""
        sql = (
            "SELECT items.id, items.file_id, items.kind, items.x, items.y, items.w, items.h, files.path, "
            "files.hash, files.width, files.height FROM items CROSS JOIN files ON files.id = items.file_id "
            f"WHERE {VISIBLE}"
        )
        rows = []
        if item_ids is None:
            rows = self.catalog.conn.execute(sql).fetchall()
        else:
            for chunk, marks in id_chunks(item_ids):
                rows += self.catalog.conn.execute(sql + f" AND items.id IN ({marks})", chunk).fetchall()
        rows.sort(key=lambda r: (r[7], r[2] != "file", r[0]))
        records = {}
        for r in rows:
            region = None if r[2] == "file" else (int(r[3]), int(r[4]), int(r[5]), int(r[6]))
            records[r[0]] = ItemRecord(int(r[0]), int(r[1]), r[7], r[8], region, r[9], r[10])
        self._fill(records)
        return list(records.values())

    def _fill(self, records: dict[int, ItemRecord]) -> None:
        conn = self.catalog.conn
        for chunk, marks in id_chunks(records):
            labels = conn.execute(
                "SELECT item_id, head, label, score, source, model_id, created_at FROM labels "
                f"WHERE item_id IN ({marks}) ORDER BY item_id, head, source = 'model', rank, id",
                chunk,
            )
            for item_id, head, label, score, source, model_id, created in labels:
                records[item_id].labels.setdefault(head, []).append(
                    Label(label, score, source, model_id, created)
                )
            rejected = conn.execute(
                f"SELECT item_id, head, label FROM rejected_labels WHERE item_id IN ({marks}) "
                "ORDER BY item_id, head, created_at, label",
                chunk,
            )
            for item_id, head, label in rejected:
                records[item_id].rejected.setdefault(head, []).append(label)
            captions = conn.execute(
                f"SELECT item_id, model_id, text, created_at FROM captions WHERE item_id IN ({marks}) "
                "ORDER BY created_at",
                chunk,
            )
            for item_id, model_id, text, created in captions:  # the newest wins
                rec = records[item_id]
                rec.caption, rec.caption_model, rec.caption_time = text, model_id, created
            descriptions = conn.execute(
                f"SELECT item_id, text, edited_at FROM descriptions WHERE item_id IN ({marks})", chunk
            )
            for item_id, text, edited in descriptions:
                records[item_id].description = text or None
                records[item_id].description_time = edited
        file_items = {rec.file_id: rec for rec in records.values() if rec.region is None}
        if not file_items:
            return
        for chunk, marks in id_chunks(file_items):
            regions = conn.execute(
                "SELECT id, file_id, x, y, w, h, source, score FROM items "
                f"WHERE kind = 'region' AND hidden = 0 AND file_id IN ({marks}) ORDER BY id",
                chunk,
            )
            for item_id, file_id, x, y, w, h, source, score in regions:
                file_items[file_id].regions.append(
                    {"item_id": item_id, "region": [x, y, w, h], "source": source, "score": score}
                )
