"""What an indexing run reports while it runs (`Progress`) and when it ends (`IndexSummary`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """A snapshot of the indexer's work, yielded after every step."""

    phase: str  # "scan", "index", "dates", "caption" or "done"
    done: int
    total: int
    rate: float  # files (index phase) or items (caption phase) per second in this phase
    current: str | None  # archive-relative path being worked on
    errors: int
    elapsed: float


@dataclass
class IndexSummary:
    """What a run did; `as_json()` is the CLI's `--json` summary."""

    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    items: int = 0
    embedded: int = 0
    captioned: int = 0
    cancelled: bool = False
    failures: list[dict[str, str]] = field(default_factory=list)
    # Folders that could not be listed (no permission, I/O error, share gone): {"path", "error"}.
    # Their files were kept as they are, neither removed nor purged.
    unavailable: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        out = {
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "moved": self.moved,
            "removed": self.removed,
            "failed": self.failed,
            "items": self.items,
            "failures": self.failures,
        }
        if self.unavailable:  # only then, so the usual summary keeps its keys
            out["unavailable"] = self.unavailable
        return out


@dataclass
class Counter:
    """Files to do in the index phase, done, and failed so far."""

    total: int
    errors: int
    done: int = 0
