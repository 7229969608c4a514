"""The curator's marks on duplicate files ("keep" or "duplicate"), in a JSON file in the index folder.

Marks only: Imago never deletes or moves the curator's files. A mark belongs to an archive-relative
path and the content hash the file had when it was marked; once the content changes the mark no
longer applies. The file (`duplicate-marks.json`) is small and written atomically (temp file +
os.replace), so a crash leaves the previous version:

    {"format": "imago-duplicate-marks", "version": 1,
     "marks": {PATH: {"mark": "keep" | "duplicate", "hash": HASH or null, "marked_at": EPOCH}}}

Thread-safety: a DuplicateMarks may be shared; its methods take a lock, and `save()` writes a
consistent snapshot.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from models.errors import InputError
from store.errors import DuplicateMarksError

logger = logging.getLogger(__name__)

MARKS_FILE = "duplicate-marks.json"
FORMAT = "imago-duplicate-marks"
VERSION = 1
KEEP = "keep"
DUPLICATE = "duplicate"
MARKS = (KEEP, DUPLICATE)


@dataclass(frozen=True)
class Mark:
    mark: str
    hash: str | None
    marked_at: float


class DuplicateMarks:
    """Marks by path; `load(folder)` reads them from an index folder, `save()` writes them back."""

    def __init__(self, folder: Path, marks: dict[str, Mark] | None = None) -> None:
        self.path = Path(folder) / MARKS_FILE
        self._marks = dict(marks or {})
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path) -> DuplicateMarks:
        """The marks saved in `folder` (none when there is no file yet); DuplicateMarksError when the
        file exists but cannot be used."""
        path = Path(folder) / MARKS_FILE
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(folder)
        except (OSError, ValueError) as exc:
            raise DuplicateMarksError(f"cannot read the duplicate marks in {path}: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("marks"), dict):
            raise DuplicateMarksError(f"{path} is not an Imago duplicate marks file")
        marks = {}
        for rel, entry in doc["marks"].items():
            mark = _parse_mark(entry)
            if mark is None:
                raise DuplicateMarksError(f"{path} has a malformed mark for {rel!r}: {entry!r}")
            marks[rel] = mark
        return cls(folder, marks)

    def get(self, path: str, content_hash: str | None) -> str | None:
        """The mark of the file at `path` if it still has the content it was marked with."""
        with self._lock:
            mark = self._marks.get(path)
        return mark.mark if mark is not None and mark.hash == content_hash else None

    def set(self, path: str, mark: str | None, content_hash: str | None) -> None:
        """Mark the file at `path` (with its current content hash); None removes the mark."""
        if mark is not None and mark not in MARKS:
            raise InputError(f"a duplicate mark is one of {', '.join(MARKS)}, not {mark!r}")
        with self._lock:
            if mark is None:
                self._marks.pop(path, None)
            else:
                self._marks[path] = Mark(mark, content_hash, time.time())

    def paths(self, mark: str) -> list[str]:
        """The paths carrying `mark`, sorted (whatever their content now)."""
        with self._lock:
            return sorted(p for p, m in self._marks.items() if m.mark == mark)

    def save(self) -> None:
        """Write all marks atomically; DuplicateMarksError when the folder is not writable."""
        with self._lock:
            doc = {
                "format": FORMAT,
                "version": VERSION,
                "marks": {p: {"mark": m.mark, "hash": m.hash, "marked_at": m.marked_at}
                          for p, m in sorted(self._marks.items())},
            }  # fmt: skip
            try:
                _write_atomic(self.path, json.dumps(doc, ensure_ascii=False, indent=1))
            except OSError as exc:
                raise DuplicateMarksError(f"cannot save the duplicate marks to {self.path}: {exc}") from exc
        logger.info("saved %d duplicate marks to %s", len(doc["marks"]), self.path)


def _parse_mark(entry: object) -> Mark | None:
    if not isinstance(entry, dict) or entry.get("mark") not in MARKS:
        return None
    digest, when = entry.get("hash"), entry.get("marked_at")
    if not isinstance(digest, str | None) or not isinstance(when, int | float):
        return None
    return Mark(entry["mark"], digest, float(when))


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".duplicate-marks-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
