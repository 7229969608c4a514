"""Label names in the curator's language: the English label stored in the catalog -> its display name.

Labels are stored as their English names (zero-shot vocabularies, an image model's labels file); the
vocabularies in resources/vocabularies (`names.json`, `categories.json`, `imagenet.json`) give each
its Russian name. The Russian UI shows those, and the full-text index holds both, so a Russian
keyword finds an English-labelled image.
"""

from __future__ import annotations

import functools
import json
import logging

from resources import resource_path

logger = logging.getLogger(__name__)

HEADS = ("category", "name")  # the two label lists every image gets: categories, object/place names
VOCABULARY_FILES = ("names.json", "categories.json", "imagenet.json")


@functools.cache
def _vocabularies() -> tuple[tuple[str, tuple[dict, ...]], ...]:
    """(head, labels) of every shipped vocabulary (read once); an unreadable one is left out."""
    out = []
    for file in VOCABULARY_FILES:
        path = resource_path("vocabularies", file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            head, labels = data["head"], data["labels"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("cannot read label names from %s: %s", path, exc)
            continue
        valid = (label for label in labels if isinstance(label, dict) and isinstance(label.get("en"), str))
        out.append((head, tuple(valid)))
    return tuple(out)


@functools.cache
def _names() -> dict[str, dict[str, str]]:
    """English label -> {language: name}, from every shipped vocabulary."""
    out: dict[str, dict[str, str]] = {}
    for _head, labels in _vocabularies():
        for label in labels:
            names = {k: v for k, v in label.items() if k not in ("id", "prompt") and isinstance(v, str)}
            out.setdefault(label["en"], names)
    return out


@functools.cache
def _labels_by_name(head: str) -> dict[str, str]:
    """Any language's name (case-folded) of a `head` label -> the English label; the first one wins."""
    out: dict[str, str] = {}
    for vocab_head, vocab in _vocabularies():
        if vocab_head == head:
            for label in vocab:
                for name in label.values():
                    if isinstance(name, str):
                        out.setdefault(name.casefold(), label["en"])
    return out


def vocabulary_labels(head: str) -> list[str]:
    """The English labels the shipped vocabularies of `head` ("category", "name") hold, in their order."""
    labels = (label["en"] for vocab_head, vocab in _vocabularies() if vocab_head == head for label in vocab)
    return list(dict.fromkeys(labels))


def stored_label(name: str, head: str) -> str:
    """The English label a name in any language stands for in `head`'s vocabularies (e.g. "икона" ->
    "icon"); `name` itself when none has it: a curator's own label is stored as typed."""
    return _labels_by_name(head).get(name.casefold(), name)


def display_name(label: str, language: str) -> str:
    """`label` in `language` ("en", "ru"); the label itself when no vocabulary names it."""
    if language == "en":
        return label
    return _names().get(label, {}).get(language) or label


def searchable_text(label: str) -> str:
    """The label with its names in every language, for the full-text index."""
    names = _names().get(label)
    if not names:
        return label
    return " ".join(dict.fromkeys([label, *names.values()]))
