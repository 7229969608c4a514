"""Item records: everything known about visible items (facts, labels, rejections, caption, the
curator's description, a file's regions), read in a few queries per IN_CHUNK items, for the
curation service, the export and the import.

Thread-safety: functions take a Catalog, which belongs to the calling thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from store.boxes import Box
from store.storage.catalog import Catalog
from store.storage.sql import VISIBLE, box_of, id_chunks


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
    region: Box | None
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


def read_records(catalog: Catalog, item_ids: Sequence[int] | None = None) -> list[ItemRecord]:
    """Records of the given visible items (all visible items when None), ordered by path, file
    before its regions, and id."""
    sql = (
        "SELECT items.id, items.file_id, items.kind, items.x, items.y, items.w, items.h, files.path, "
        "files.hash, files.width, files.height FROM items CROSS JOIN files ON files.id = items.file_id "
        f"WHERE {VISIBLE}"
    )
    rows = []
    if item_ids is None:
        rows = catalog.conn.execute(sql).fetchall()
    else:
        for chunk, marks in id_chunks(item_ids):
            rows += catalog.conn.execute(sql + f" AND items.id IN ({marks})", chunk).fetchall()
    rows.sort(key=lambda r: (r[7], r[2] != "file", r[0]))
    records = {r[0]: ItemRecord(int(r[0]), int(r[1]), r[7], r[8], box_of(*r[2:7]), r[9], r[10]) for r in rows}
    _fill(catalog, records)
    return list(records.values())


def _fill(catalog: Catalog, records: dict[int, ItemRecord]) -> None:
    conn = catalog.conn
    for chunk, marks in id_chunks(records):
        labels = conn.execute(
            "SELECT item_id, head, label, score, source, model_id, created_at FROM labels "
            f"WHERE item_id IN ({marks}) ORDER BY item_id, head, source = 'model', rank, id",
            chunk,
        )
        for item_id, head, label, score, source, model_id, created in labels:
            label = Label(label, score, source, model_id, created)
            records[item_id].labels.setdefault(head, []).append(label)
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
