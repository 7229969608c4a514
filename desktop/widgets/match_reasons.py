"""Why a search hit matched, in the curator's language: the search service's reasons (plain English)
translated, with the label names a keyword matched shown as the vocabularies name them."""

from __future__ import annotations

import re

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from desktop.translation import shown_language
from models.label_names import display_name

# The full-text columns a keyword can be found in (store/storage/fulltext.py FTS_COLUMNS).
COLUMNS = {
    "name": QT_TRANSLATE_NOOP("MatchReasons", "file name"),
    "folder": QT_TRANSLATE_NOOP("MatchReasons", "folder"),
    "caption": QT_TRANSLATE_NOOP("MatchReasons", "caption"),
    "description": QT_TRANSLATE_NOOP("MatchReasons", "description"),
    "labels": QT_TRANSLATE_NOOP("MatchReasons", "labels"),
}


def _say(template: str, **values: str) -> str:
    return QCoreApplication.translate("MatchReasons", template).format(**values)


# Each reason the search service gives, as its English text reads with the values in braces: that text is
# also the template the translation fills (most specific first: a shorter form may match a longer one).
_TEMPLATES = [
    QT_TRANSLATE_NOOP(
        "MatchReasons", "image similarity {score} ({first} {a}, {second} {b}, weight {weight})"
    ),
    QT_TRANSLATE_NOOP("MatchReasons", "image similarity {score}"),
    QT_TRANSLATE_NOOP("MatchReasons", "text-image similarity {score} (rank {rank})"),
    QT_TRANSLATE_NOOP("MatchReasons", "partial keyword match in {column}: {words}"),
    QT_TRANSLATE_NOOP("MatchReasons", "keyword match in {column}: {words}"),
    QT_TRANSLATE_NOOP("MatchReasons", "weak match: below the relevance cut-off"),
    QT_TRANSLATE_NOOP("MatchReasons", "exact duplicate: same file content as the query"),
    QT_TRANSLATE_NOOP("MatchReasons", "part of the same file as the query"),
]


def _pattern(template: str) -> re.Pattern[str]:
    """The regular expression of a reason written from `template`: its text, each {name} a group."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(f"(?P<{p}>.+?)" if i % 2 else re.escape(p) for i, p in enumerate(parts)) + "$")


_REASONS = [(_pattern(template), template) for template in _TEMPLATES]


def shown_reason(reason: str) -> str:
    """`reason` in the UI's language; a reason this module does not know is shown as it is."""
    for pattern, template in _REASONS:
        match = pattern.match(reason)
        if match:
            values = match.groupdict()
            if "column" in values:
                if values["column"] == "labels":  # stored in English: shown as the vocabularies name them
                    words = values["words"].split(", ")
                    values["words"] = ", ".join(display_name(w, shown_language()) for w in words)
                column = COLUMNS.get(values["column"])
                values["column"] = _say(column) if column else values["column"]
            return _say(template, **values)
    return reason
