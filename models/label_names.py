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
def _names() -> dict[str, dict[str, str]]:
    """English label -> {language: name}, from every shipped vocabulary (read once)."""
    out: dict[str, dict[str, str]] = {}
    for file in VOCABULARY_FILES:
        path = resource_path("vocabularies", file)
        try:
            labels = json.loads(path.read_text(encoding="utf-8"))["labels"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("cannot read label names from %s: %s", path, exc)
            continue
        for label in labels:
            if isinstance(label, dict) and isinstance(label.get("en"), str):
                names = {k: v for k, v in label.items() if k not in ("id", "prompt") and isinstance(v, str)}
                out.setdefault(label["en"], names)
    return out


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
