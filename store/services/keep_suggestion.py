"""Which copy of a duplicate group to keep: a suggestion the curator accepts or overrides.

The rules, in order, each narrowing the candidates the one before left:
1. described: a copy the curator wrote a description of (their work is on it);
2. largest: the most pixels (the most detail);
3. oldest: the earliest modification time (the original, not a later copy);
4. largest file: the most bytes (the least compressed);
and when all of them tie, the first by path. The suggestion names the rules that narrowed the choice,
so the window can say why ("keep: largest (4000×3000)").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from store.storage.views import FileCopy

DESCRIBED = "described"
LARGEST = "largest"
OLDEST = "oldest"
LARGEST_FILE = "largest_file"
FIRST = "first"  # nothing told the copies apart: the first by path

_RULES: list[tuple[str, Callable[[FileCopy], object]]] = [
    (DESCRIBED, lambda c: c.described),
    (LARGEST, lambda c: (c.width or 0) * (c.height or 0)),
    (OLDEST, lambda c: -c.mtime_ns),
    (LARGEST_FILE, lambda c: c.size),
]


@dataclass(frozen=True)
class KeepSuggestion:
    """The copy to keep and the rules (in order) that chose it."""

    keep: FileCopy
    reasons: tuple[str, ...]


def suggest_keep(copies: Sequence[FileCopy]) -> KeepSuggestion:
    """The copy of `copies` (two or more) to keep, by the rules above."""
    if not copies:
        raise ValueError("no copies to choose from")
    candidates = sorted(copies, key=lambda c: c.path)
    reasons: list[str] = []
    for rule, value in _RULES:
        best = max(value(c) for c in candidates)
        top = [c for c in candidates if value(c) == best]
        if len(top) < len(candidates):
            reasons.append(rule)
            candidates = top
        if len(candidates) == 1:
            return KeepSuggestion(candidates[0], tuple(reasons))
    return KeepSuggestion(candidates[0], (*reasons, FIRST))
