"""SQL pieces the storage modules share: the visibility condition, id lists, and item boxes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from store.boxes import Box

VISIBLE = "files.status = 'indexed' AND items.hidden = 0"
IN_CHUNK = 500  # ids per "IN (...)" list, well below SQLite's limit on bound variables


def id_chunks(ids: Iterable[int]) -> Iterator[tuple[list[int], str]]:
    """`ids` as ints in slices of IN_CHUNK, each with its "?,?,..." placeholder list."""
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        yield chunk, ",".join("?" * len(chunk))


def box_of(kind: str, x, y, w, h) -> Box | None:
    """An item row's box: None for a whole-file item, else (x, y, w, h) in pixels."""
    return None if kind == "file" or x is None else (int(x), int(y), int(w), int(h))
