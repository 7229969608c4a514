"""Tiny, randomly initialised CLIP and multilingual checkpoints with the real architectures, for tests.

`write_tiny_clip_checkpoint`: CLIP ViT + CLIP text transformer with the full 49,408-token vocabulary
(from CLIP's BPE merges, `bpe_simple_vocab_16e6.txt.gz`, or a checkpoint folder's tokenizer files);
`write_tiny_multilingual_checkpoint`: a sentence-transformers layout (DistilBERT + mean pooling + dense)
with a small deterministic WordPiece vocabulary. `models.export.clip` exports them like real ones.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from models.errors import InputError
from models.export.checkpoints import require_torch

BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"

# Tiny architecture sizes: several patches per image, a text hidden size small enough that the
# 49,408-row token embedding stays ~1.5 MiB.
TINY_IMAGE = {
    "image_size": 32,
    "patch_size": 8,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
}
TINY_TEXT = {
    "hidden_size": 8,
    "intermediate_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "max_position_embeddings": 77,
}
TINY_PROJECTION = 16
TINY_MULTILINGUAL = {"dim": 32, "hidden_dim": 64, "n_layers": 2, "n_heads": 4, "max_position_embeddings": 128}

# Corpus for the tiny multilingual WordPiece vocabulary (the real model has its own 119k vocabulary).
_TINY_CORPUS = [
    "a photo of a painting",
    "an icon of the Virgin Mary",
    "a marble sculpture of a horse",
    "a steam locomotive at the station",
    "an old map of the city",
    "an archival document with a seal",
    "a portrait photograph of a woman",
    "a silver coin",
    "a church with golden domes",
    "a bronze statue in the park",
    "a drawing of a bridge",
    "a chandelier in the palace hall",
    "a sunflower in the field",
    "a pagoda in the mountains",
    "a ceramic ewer",
    "an airplane in the sky",
    "фотография картины",
    "икона Богоматери",
    "мраморная скульптура лошади",
    "паровоз на вокзале",
    "старая карта города",
    "архивный документ с печатью",
    "портрет женщины",
    "серебряная монета",
    "церковь с золотыми куполами",
    "бронзовая статуя в парке",
    "рисунок моста",
    "люстра в зале дворца",
    "подсолнух в поле",
    "пагода в горах",
    "керамический кувшин",
    "самолёт в небе",
    "ёлка и йод",
]


def clip_vocab_from_bpe(bpe_gz: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """CLIP's vocabulary and merges from `bpe_simple_vocab_16e6.txt.gz`, as OpenAI CLIP builds them."""
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    lines = gzip.decompress(Path(bpe_gz).read_bytes()).decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : 49152 - 256 - 2 + 1]]
    tokens = list(bytes_to_unicode().values())
    tokens += [t + "</w>" for t in tokens]
    tokens += ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def write_clip_tokenizer_files(bpe_gz: Path, out_dir: Path) -> None:
    """Write vocab.json + merges.txt + tokenizer.json (transformers' CLIPTokenizer format) into `out_dir`."""
    _, transformers = require_torch()
    vocab, merges = clip_vocab_from_bpe(bpe_gz)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    merges_text = "#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n"
    (out_dir / "merges.txt").write_text(merges_text, encoding="utf-8")
    fast = transformers.CLIPTokenizerFast(
        vocab_file=str(out_dir / "vocab.json"), merges_file=str(out_dir / "merges.txt"), model_max_length=77
    )
    fast.save_pretrained(str(out_dir))


def write_tiny_wordpiece_tokenizer(out_dir: Path) -> None:
    """A small cased multilingual WordPiece tokenizer (DistilBERT format) from a fixed corpus.

    The vocabulary is built deterministically (special tokens, single characters and their `##`
    forms, then the corpus words, sorted), so regenerated fixtures are identical; unknown words fall
    back to characters exactly as in BERT's WordPiece.
    """
    _, transformers = require_torch()
    import re

    alphabet = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()-")
    alphabet += list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ")
    words = sorted({w for text in _TINY_CORPUS for w in re.findall(r"\w+|[^\w\s]", text)} - set(alphabet))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *alphabet, *("##" + c for c in alphabet), *words]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    fast = transformers.DistilBertTokenizerFast(
        vocab_file=str(out_dir / "vocab.txt"),
        do_lower_case=False,
        tokenize_chinese_chars=True,
        model_max_length=512,
    )
    fast.save_pretrained(str(out_dir))


def bpe_path(src: str) -> Path | None:
    """CLIP's BPE merges file that `src` names (the file, or a folder holding it), else None."""
    path = Path(src)
    if path.is_file() and path.name.endswith(".txt.gz"):
        return path
    if path.is_dir() and (path / BPE_FILE).is_file():
        return path / BPE_FILE
    return None


def write_tiny_clip_checkpoint(tokenizer_src: str, out_dir: Path, seed: int = 0) -> Path:
    """A randomly initialised tiny CLIPModel (real architecture) + CLIP tokenizer, via save_pretrained."""
    torch, transformers = require_torch()
    bpe = bpe_path(tokenizer_src)
    if bpe is not None:
        write_clip_tokenizer_files(bpe, out_dir)
    elif Path(tokenizer_src).is_dir():
        transformers.AutoTokenizer.from_pretrained(tokenizer_src).save_pretrained(str(out_dir))
    else:
        raise InputError(
            f"--tiny needs CLIP's BPE merges ({BPE_FILE} or a folder holding it) or a local checkpoint "
            f"folder with tokenizer files as SRC, not {tokenizer_src!r}"
        )
    torch.manual_seed(seed)
    config = transformers.CLIPConfig(
        text_config={
            **TINY_TEXT,
            "vocab_size": 49408,
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 49407,
        },
        vision_config=TINY_IMAGE,
        projection_dim=TINY_PROJECTION,
    )
    model = transformers.CLIPModel(config).eval()
    model.save_pretrained(str(out_dir))
    processor = transformers.CLIPImageProcessor(
        size={"shortest_edge": TINY_IMAGE["image_size"]},
        crop_size={"height": TINY_IMAGE["image_size"], "width": TINY_IMAGE["image_size"]},
    )
    processor.save_pretrained(str(out_dir))
    return out_dir


def write_tiny_multilingual_checkpoint(
    out_dir: Path, embedding_dim: int = TINY_PROJECTION, seed: int = 1
) -> Path:
    """A tiny sentence-transformers layout: DistilBERT + mean pooling + dense (no bias), random weights."""
    torch, transformers = require_torch()
    from safetensors.torch import save_file

    write_tiny_wordpiece_tokenizer(out_dir)
    vocab_size = len((out_dir / "vocab.txt").read_text(encoding="utf-8").splitlines())
    torch.manual_seed(seed)
    config = transformers.DistilBertConfig(vocab_size=vocab_size, **TINY_MULTILINGUAL)
    transformers.DistilBertModel(config).eval().save_pretrained(str(out_dir))
    dim = TINY_MULTILINGUAL["dim"]
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]
    (out_dir / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
    (out_dir / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 128, "do_lower_case": False}), encoding="utf-8"
    )
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    (out_dir / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": dim,
                "pooling_mode_cls_token": False,
                "pooling_mode_mean_tokens": True,
                "pooling_mode_max_tokens": False,
            }
        ),
        encoding="utf-8",
    )
    (out_dir / "2_Dense").mkdir(exist_ok=True)
    (out_dir / "2_Dense" / "config.json").write_text(
        json.dumps(
            {
                "in_features": dim,
                "out_features": embedding_dim,
                "bias": False,
                "activation_function": "torch.nn.modules.linear.Identity",
            }
        ),
        encoding="utf-8",
    )
    dense = torch.nn.Linear(dim, embedding_dim, bias=False)
    save_file(
        {"linear.weight": dense.weight.detach().contiguous()}, str(out_dir / "2_Dense" / "model.safetensors")
    )
    return out_dir


def tiny_license_notes(src: str) -> dict[str, tuple[Path, str]]:
    """The CLIP BPE license note (README.md beside the merges file), shipped as role 'license'."""
    bpe = bpe_path(src)
    readme = bpe.parent / "README.md" if bpe is not None else None
    return {"license": (readme, "CLIP-BPE-LICENSE.md")} if readme is not None and readme.is_file() else {}
