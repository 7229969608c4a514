"""Curation behaviours that mutation testing (tools/mutation) found unchecked: the exact messages a
curator reads when an edit is refused, the length limits at their boundary, and an empty training set."""

from __future__ import annotations

import numpy as np
import pytest

from models.errors import InputError
from store.services.curation import MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, CurationService, check_labels
from store.storage.catalog import Catalog


@pytest.fixture
def curation(tmp_path):
    with Catalog(tmp_path / "catalog.db") as catalog:
        with catalog.transaction():
            file_id = catalog.upsert_file(b"a.jpg", size=10, mtime_ns=1, hash="a", status="indexed")
            catalog.ensure_file_item(file_id)
        yield CurationService(catalog)


def _item(curation: CurationService) -> int:
    return curation.catalog.item_ids(curation.catalog.file_id(b"a.jpg"))[0]


def _refused(call, *args) -> str:
    with pytest.raises(InputError) as info:
        call(*args)
    return str(info.value)


def test_refused_edits_say_why(curation):
    item = _item(curation)
    assert _refused(curation.set_description, item, 42) == "description must be text, not int"
    assert _refused(curation.set_description, item, "a\x00b") == "description contains a NUL character"
    assert _refused(curation.confirm_label, item, "category", None) == "label must be text, not NoneType"
    assert _refused(curation.confirm_label, item, "category", "  ") == "label is empty"
    assert _refused(curation.confirm_label, item, "colour", "red") == (
        "unknown label head 'colour' (expected one of category, name)"
    )
    assert _refused(check_labels, ["x\x00"]) == "label contains a NUL character"
    assert _refused(check_labels, [""], "name") == "name is empty"
    assert _refused(curation.record, 10**6) == f"no visible item with id 1000000 in {curation.catalog.path}"
    record = curation.record(item)  # nothing was written by the refused edits
    assert record.description is None and record.labels == {}


def test_length_limits_are_inclusive(curation):
    item = _item(curation)
    curation.set_description(item, "d" * MAX_DESCRIPTION_CHARS)
    assert curation.record(item).description == "d" * MAX_DESCRIPTION_CHARS
    assert _refused(curation.set_description, item, "d" * (MAX_DESCRIPTION_CHARS + 1)) == (
        "description is 20001 characters long; at most 20000 are allowed"
    )
    curation.confirm_label(item, "name", "n" * MAX_LABEL_CHARS)
    assert curation.curator_labels(item, "name") == ["n" * MAX_LABEL_CHARS]
    assert _refused(curation.confirm_label, item, "name", "n" * (MAX_LABEL_CHARS + 1)) == (
        "label is 201 characters long; at most 200 are allowed"
    )


def test_no_training_examples_without_vectors(curation):
    curation.confirm_label(_item(curation), "category", "map")  # labelled, but never embedded
    x, y = curation.training_examples("category", "clip@1")
    assert x.shape == (0, 0) and x.dtype == np.float32 and y == []
