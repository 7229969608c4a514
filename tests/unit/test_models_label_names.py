"""Label names: the shipped vocabularies' Russian names, and back to the stored English label."""

from __future__ import annotations

from models.label_names import display_name, searchable_text, stored_label, vocabulary_labels


def test_display_name_and_back():
    assert display_name("icon", "ru") == "икона" and display_name("icon", "en") == "icon"
    assert stored_label("икона", "category") == "icon" and stored_label("Икона", "category") == "icon"
    assert stored_label("icon", "category") == "icon" and stored_label("goldfish", "name") == "goldfish"
    assert stored_label("золотая рыбка", "name") == "goldfish"  # the ImageNet vocabulary too
    assert stored_label("Tula samovar", "name") == "Tula samovar"  # the curator's own label: as typed
    # Names are looked up in the field's own vocabularies only: a category's name typed as an object
    # name stays as typed, it is not mapped through another head's list.
    assert stored_label("икона", "name") == "икона"
    assert stored_label("золотая рыбка", "category") == "золотая рыбка"
    assert display_name("Tula samovar", "ru") == "Tula samovar"
    assert searchable_text("icon") == "icon икона"


def test_vocabulary_labels_per_head():
    categories, names = vocabulary_labels("category"), vocabulary_labels("name")
    assert categories[:2] == ["painting", "icon"] and "airplane" not in categories
    assert "airplane" in names and "goldfish" in names and len(names) == len(set(names))
    assert vocabulary_labels("unknown head") == []
