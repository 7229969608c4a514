"""Tokenizer parity: identical ids to transformers' CLIP and DistilBERT tokenizers (stored reference)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from models.errors import BundleError
from models.tokenizer import TextTokenizer, load_tokenizer_file

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
BUNDLE = MODELS / "clip-tiny"
META = json.loads((MODELS / "clip-tiny-reference.json").read_text(encoding="utf-8"))


def clip_tokenizer() -> TextTokenizer:
    return TextTokenizer(BUNDLE / "tokenizer.json.gz", max_length=77, pad_id=49407)


def multilingual_tokenizer() -> TextTokenizer:
    return TextTokenizer(BUNDLE / "tokenizer_multilingual.json.gz", max_length=128, pad_id=0)


def test_reference_covers_the_hard_cases():
    texts = META["texts"]
    assert "" in texts
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in t) for t in texts)  # Russian
    assert any(any(ord(ch) > 0x1F000 for ch in t) for t in texts)  # emoji
    assert max(len(ids) for ids in META["ids"]["clip_fast"]) == 77  # one text is cut to the context
    assert META["ids"]["clip_fast"] == META["ids"]["clip_slow"]  # transformers' own two tokenizers agree


@pytest.mark.parametrize("index", range(len(META["texts"])))
def test_clip_ids_match_transformers(index):
    assert clip_tokenizer().ids(META["texts"][index]) == META["ids"]["clip_fast"][index]


@pytest.mark.parametrize("index", range(len(META["texts"])))
def test_multilingual_ids_match_transformers(index):
    assert multilingual_tokenizer().ids(META["texts"][index]) == META["ids"]["multilingual_fast"][index]


def test_clip_vocabulary_is_the_real_one():
    tokenizer = load_tokenizer_file(BUNDLE / "tokenizer.json.gz")
    assert tokenizer.get_vocab_size() == 49408
    assert (
        tokenizer.token_to_id("<|startoftext|>") == 49406 and tokenizer.token_to_id("<|endoftext|>") == 49407
    )
    assert clip_tokenizer().ids("") == [49406, 49407]
    assert clip_tokenizer().ids("A PHOTO") == clip_tokenizer().ids("a photo")  # lower-cased


def test_long_text_is_truncated_keeping_the_end_token():
    ids = clip_tokenizer().ids("word " * 500)
    assert len(ids) == 77 and ids[0] == 49406 and ids[-1] == 49407


def test_batch_is_padded_with_mask():
    input_ids, mask = clip_tokenizer()(["a photo of a cat", "x"])
    assert input_ids.dtype == mask.dtype and str(input_ids.dtype) == "int64"
    assert input_ids.shape == mask.shape == (2, 7)
    assert mask[1].tolist() == [1, 1, 1, 0, 0, 0, 0]
    assert input_ids[1, 3:].tolist() == [49407] * 4


def test_plain_and_gzip_files_load_the_same(tmp_path):
    plain = tmp_path / "tokenizer.json"
    plain.write_bytes(gzip.decompress((BUNDLE / "tokenizer.json.gz").read_bytes()))
    assert TextTokenizer(plain, 77, 49407).ids("икона 🖼") == clip_tokenizer().ids("икона 🖼")


def test_bad_tokenizer_files_are_named(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{broken")
    with pytest.raises(BundleError, match=r"tokenizer\.json"):
        load_tokenizer_file(bad)
    with pytest.raises(BundleError, match=r"missing\.json"):
        load_tokenizer_file(tmp_path / "missing.json")
    with pytest.raises(BundleError, match="max_length"):
        TextTokenizer(BUNDLE / "tokenizer.json.gz", max_length=1, pad_id=0)
