"""Export CLIP checkpoints (and a multilingual text tower) from transformers to an ONNX bundle.

Needs the `[export]` extra (torch, transformers, onnx); they are imported lazily, so the rest of the
app runs without them. Sources are Hugging Face ids (downloaded by huggingface_hub: exporting is the
one explicit step that may use the network) or local checkpoint folders.

Graphs written (opset 17, dynamic batch and sequence axes):
- `image.onnx`: pixel_values [n,3,H,W] -> image_embeds [n,d], L2-normalised;
- `text.onnx`: input_ids, attention_mask [n,L] int64 -> text_embeds [n,d], L2-normalised;
- `text_multilingual.onnx` (with `text_model`): a sentence-transformers model (transformer, mean
  pooling over the attention mask, dense projection) -> text_embeds [n,d], L2-normalised, in the
  same space as the image tower (e.g. sentence-transformers/clip-ViT-B-32-multilingual-v1);
- `image_int8.onnx` (with `quantize="int8"`): the image tower with dynamically quantised MatMul/Gemm.

`tiny=True` first writes randomly initialised tiny checkpoints with the same architectures (CLIP
ViT + CLIP text transformer with the full 49,408-token vocabulary; DistilBERT + pooling + dense),
then exports them through the same code path. For the tiny CLIP tokenizer `src` must give CLIP's BPE
merges (`bpe_simple_vocab_16e6.txt.gz` or a folder holding it) or a checkpoint folder with tokenizer
files.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import shutil
import tempfile
import warnings
from pathlib import Path

from models.bundle import Bundle, write_manifest
from models.errors import ImagoError, InputError
from models.preprocess import PreprocessSpec

logger = logging.getLogger(__name__)

OPSET = 17
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


def _require_torch():
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImagoError(
            "exporting models needs the [export] extra (torch, transformers, onnx): "
            "pip install 'imago[export]'"
        ) from exc
    return torch, transformers


# ---------------------------------------------------------------------------------------------------
# tokenizers


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
    _, transformers = _require_torch()
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
    _, transformers = _require_torch()
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


# ---------------------------------------------------------------------------------------------------
# tiny checkpoints


def _bpe_path(src: str) -> Path | None:
    path = Path(src)
    if path.is_file() and path.name.endswith(".txt.gz"):
        return path
    if path.is_dir() and (path / BPE_FILE).is_file():
        return path / BPE_FILE
    return None


def write_tiny_clip_checkpoint(tokenizer_src: str, out_dir: Path, seed: int = 0) -> Path:
    """A randomly initialised tiny CLIPModel (real architecture) + CLIP tokenizer, via save_pretrained."""
    torch, transformers = _require_torch()
    bpe = _bpe_path(tokenizer_src)
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
    torch, transformers = _require_torch()
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


# ---------------------------------------------------------------------------------------------------
# loading checkpoints


def _local_or_download(src: str) -> Path:
    path = Path(src)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover
        raise ImagoError(f"{src!r} is not a local folder and huggingface_hub is not installed") from exc
    logger.info("downloading %s from the Hugging Face Hub", src)
    try:
        # configs, tokenizers, model cards and safetensors weights; not the TF/Flax/ONNX copies
        folder = Path(snapshot_download(src, allow_patterns=_HUB_PATTERNS))
        if _missing_weights(folder):  # older repos only have pytorch_model.bin
            folder = Path(snapshot_download(src, allow_patterns=[*_HUB_PATTERNS, "*pytorch_model.bin"]))
        return folder
    except Exception as exc:  # hub errors come in many types; name the source
        raise ImagoError(f"cannot download {src!r}: {exc}") from exc


_HUB_PATTERNS = ["*.json", "*.txt", "*.md", "*.safetensors", "*.model"]


def _missing_weights(folder: Path) -> bool:
    """True when a folder with a model config (root or a sentence-transformers Dense) has no weights."""
    for config in [folder / "config.json", *folder.glob("*_Dense/config.json")]:
        if config.is_file() and not any(config.parent.glob("*.safetensors")):
            return True
    return False


class SentenceEmbedder:
    """Torch module: transformer -> mean pooling over the attention mask -> dense layers -> L2 norm.

    Loads a sentence-transformers folder (modules.json with Transformer, Pooling (mean), Dense);
    equivalent to SentenceTransformer(...).encode(normalize_embeddings=True) for such models.
    """

    @staticmethod
    def load(folder: Path):
        torch, transformers = _require_torch()
        modules_file = folder / "modules.json"
        if not modules_file.is_file():
            raise InputError(f"{folder} is not a sentence-transformers model (no modules.json)")
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
        transformer, dense_layers = None, []
        for module in modules:
            kind = module["type"].rsplit(".", 1)[-1]
            path = folder / module.get("path", "")
            if kind == "Transformer":
                transformer = transformers.AutoModel.from_pretrained(str(path), attn_implementation="eager")
            elif kind == "Pooling":
                pooling = json.loads((path / "config.json").read_text(encoding="utf-8"))
                if not pooling.get("pooling_mode_mean_tokens"):
                    raise InputError(f"{path}: only mean pooling is supported, got {pooling}")
            elif kind == "Dense":
                dense_layers.append(_load_dense(path))
            elif kind != "Normalize":
                raise InputError(f"{folder}: unsupported sentence-transformers module {module['type']!r}")
        if transformer is None:
            raise InputError(f"{folder}: modules.json has no Transformer module")

        class _Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.transformer = transformer
                self.dense = torch.nn.ModuleList(dense_layers)

            def forward(self, input_ids, attention_mask):
                hidden = self.transformer(
                    input_ids=input_ids, attention_mask=attention_mask
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                for layer in self.dense:
                    pooled = layer(pooled)
                return pooled / pooled.norm(p=2, dim=-1, keepdim=True)

        return _Module().eval()


def _load_dense(path: Path):
    torch, _ = _require_torch()
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    layer = torch.nn.Linear(config["in_features"], config["out_features"], bias=config.get("bias", True))
    if (path / "model.safetensors").is_file():
        from safetensors.torch import load_file

        state = load_file(str(path / "model.safetensors"))
    else:
        state = torch.load(str(path / "pytorch_model.bin"), map_location="cpu", weights_only=True)
    layer.load_state_dict({k.removeprefix("linear."): v for k, v in state.items()})
    activation = config.get("activation_function", "torch.nn.modules.linear.Identity")
    acts = {
        "torch.nn.modules.linear.Identity": torch.nn.Identity,
        "torch.nn.modules.activation.Tanh": torch.nn.Tanh,
    }
    if activation not in acts:
        raise InputError(f"{path}: unsupported dense activation {activation!r}")
    return torch.nn.Sequential(layer, acts[activation]())


# ---------------------------------------------------------------------------------------------------
# export


def _towers(model):
    torch, _ = _require_torch()

    class ImageTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            embeds = self.model.get_image_features(pixel_values=pixel_values)
            return embeds / embeds.norm(p=2, dim=-1, keepdim=True)

    class TextTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            embeds = self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
            return embeds / embeds.norm(p=2, dim=-1, keepdim=True)

    return ImageTower().eval(), TextTower().eval()


def _export(module, inputs: tuple, input_names: list[str], output: str, path: Path, dynamic: dict) -> None:
    torch, _ = _require_torch()
    # the tracer warns about Python-side shape checks in transformers; the graphs are verified by parity tests
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*aten::index.*", category=UserWarning)
        torch.onnx.export(
            module,
            inputs,
            str(path),
            input_names=input_names,
            output_names=[output],
            dynamic_axes={**dynamic, output: {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    import onnx

    onnx.checker.check_model(str(path))


def _export_text(module, tokenizer, samples: list[str], path: Path) -> None:
    """Export a text tower taking (input_ids, attention_mask), traced on `samples`."""
    ids = tokenizer(samples, padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "sequence"}
    _export(module, (ids["input_ids"], ids["attention_mask"]), ["input_ids", "attention_mask"], "text_embeds",
            path, {"input_ids": axes, "attention_mask": axes})  # fmt: skip


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation of MatMul/Gemm weights (activations quantised at run time).

    The graph first goes through onnxruntime's recommended pre-processing (shape inference and
    optimisation); if that step fails the original graph is quantised.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="imago-quant-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        try:
            quant_pre_process(str(src), str(prepared))
        except Exception as exc:  # optional step; onnxruntime raises assorted errors
            logger.warning("quantisation pre-processing failed (%s); quantising %s as is", exc, src.name)
            prepared = src
        quantize_dynamic(
            str(prepared), str(dst), op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8
        )


def export_clip_bundle(
    src: str,
    out_dir: Path,
    text_model: str | None = None,
    quantize: str | None = None,
    tiny: bool = False,
    name: str | None = None,
    version: str = "1",
    checkpoint_dir: Path | None = None,
    default_precision: str = "fp32",
) -> Bundle:
    """Export `src` (HF id or folder) to a CLIP bundle in `out_dir`; see the module docstring.

    With `tiny`, the random checkpoints are written to `checkpoint_dir` (kept, e.g. to compute
    reference outputs from them) or to a temporary folder. `default_precision` ("fp32" or "int8",
    which needs `quantize="int8"`) is the image tower the app uses unless told otherwise.
    """
    _require_torch()
    if quantize not in (None, "int8"):
        raise InputError(f"unsupported quantisation {quantize!r} (only 'int8')")
    if default_precision not in ("fp32", "int8") or (default_precision == "int8" and quantize != "int8"):
        raise InputError(
            f"default precision {default_precision!r} needs to be fp32, or int8 with --quantize int8"
        )
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError(f"output folder {out_dir} is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        bundle = _export_into(src, out_dir, text_model, quantize, tiny, name, version, checkpoint_dir)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)  # it was empty: leave no half-written bundle
        raise
    if default_precision != "fp32":
        bundle = write_manifest(out_dir, {**bundle.manifest, "image_tower": {"default": default_precision}})
    return bundle


def _export_into(src, out_dir, text_model, quantize, tiny, name, version, checkpoint_dir) -> Bundle:
    with tempfile.TemporaryDirectory(prefix="imago-export-") as tmp:
        clip_src, text_src = src, text_model
        if tiny:
            base = Path(checkpoint_dir) if checkpoint_dir is not None else Path(tmp)
            clip_src = str(write_tiny_clip_checkpoint(src, base / "clip"))
            if text_model is not None:
                text_src = str(write_tiny_multilingual_checkpoint(base / "multilingual"))
        return _export_clip(
            clip_src,
            out_dir,
            text_src,
            quantize,
            tiny,
            name or ("clip-tiny" if tiny else _default_name(src)),
            version,
            source=src,
            text_source=text_model,
            extra_files=_license_notes(src) if tiny else {},
        )


def _default_name(src: str) -> str:
    return "clip-" + Path(src.rstrip("/")).name.lower().replace("clip-", "").replace("_", "-")


def _license_notes(src: str) -> dict[str, tuple[Path, str]]:
    """The CLIP BPE license note (README.md beside the merges file), shipped as role 'license'."""
    bpe = _bpe_path(src)
    readme = bpe.parent / "README.md" if bpe is not None else None
    return {"license": (readme, "CLIP-BPE-LICENSE.md")} if readme is not None and readme.is_file() else {}


def _export_clip(
    clip_src, out_dir, text_src, quantize, tiny, name, version, source, text_source, extra_files
) -> Bundle:
    torch, transformers = _require_torch()
    folder = _local_or_download(clip_src)
    model = transformers.CLIPModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    try:
        processor = transformers.CLIPImageProcessor.from_pretrained(str(folder))
    except OSError:
        logger.warning("%s has no preprocessor_config.json; using CLIP's defaults", folder)
        processor = transformers.CLIPImageProcessor()
    spec = _spec_from_processor(processor)
    dim = model.config.projection_dim
    image_tower, text_tower = _towers(model)

    pixels = torch.zeros(2, 3, spec.crop_height, spec.crop_width)
    _export(
        image_tower,
        (pixels,),
        ["pixel_values"],
        "image_embeds",
        out_dir / "image.onnx",
        {"pixel_values": {0: "batch"}},
    )
    _export_text(text_tower, tokenizer, ["a photo", "a photo of a cat"], out_dir / "text.onnx")
    tokenizer_name = _save_tokenizer(tokenizer, out_dir / "tokenizer.json", compress=tiny)
    files = {"image": "image.onnx", "text": "text.onnx", "tokenizer": tokenizer_name}
    text_towers = {
        "clip": {
            "model": "text",
            "tokenizer": "tokenizer",
            "max_length": int(model.config.text_config.max_position_embeddings),
            "pad_id": int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0),
            "source": "tiny random" if tiny else source,
        },
    }
    if text_src is not None:
        text_towers["multilingual"] = _export_multilingual(text_src, out_dir, dim, tiny, text_source, files)
    if quantize == "int8":
        quantize_int8(out_dir / "image.onnx", out_dir / "image_int8.onnx")
        files["image_int8"] = "image_int8.onnx"
    for role, (path, target) in extra_files.items():
        shutil.copyfile(path, out_dir / target)
        files[role] = target
    manifest = {
        "kind": "clip",
        "name": name,
        "version": version,
        "source": "tiny randomly initialised CLIP (ViT + text transformer), for tests" if tiny else source,
        "license": "MIT (CLIP BPE vocabulary: OpenAI, MIT)" if tiny else _card_license(folder),
        "files": files,
        "embedding_dim": int(dim),
        "logit_scale": float(math.exp(float(model.logit_scale.detach()))),
        "preprocessing": spec.to_manifest(),
        "image_tower": {"default": "fp32"},
        "text_towers": text_towers,
    }
    bundle = write_manifest(out_dir, manifest)
    logger.info("exported %s to %s", bundle.model_id, out_dir)
    return bundle


def _export_multilingual(text_src, out_dir: Path, dim: int, tiny: bool, source, files: dict) -> dict:
    torch, transformers = _require_torch()
    folder = _local_or_download(text_src)
    module = SentenceEmbedder.load(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    with torch.no_grad():
        probe = module(**tokenizer(["x"], return_tensors="pt"))
    if probe.shape[-1] != dim:
        raise InputError(
            f"text model {text_src!r} gives {probe.shape[-1]}-dim vectors; the image tower gives {dim}"
        )
    _export_text(module, tokenizer, ["a photo", "фотография кошки"], out_dir / "text_multilingual.onnx")
    max_length = 128
    st_config = folder / "sentence_bert_config.json"
    if st_config.is_file():
        max_length = int(json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length", max_length))
    files["text_multilingual"] = "text_multilingual.onnx"
    files["tokenizer_multilingual"] = _save_tokenizer(
        tokenizer, out_dir / "tokenizer_multilingual.json", tiny
    )
    return {
        "model": "text_multilingual",
        "tokenizer": "tokenizer_multilingual",
        "max_length": max_length,
        "pad_id": int(tokenizer.pad_token_id or 0),
        "source": f"tiny random ({source})" if tiny else source,
        "license": "MIT" if tiny else _card_license(folder),
    }


def _card_license(folder: Path) -> str:
    """The `license:` of a Hugging Face model card's front matter (README.md), or 'unknown'."""
    readme = folder / "README.md"
    try:
        lines = readme.read_text(encoding="utf-8").splitlines() if readme.is_file() else []
    except (OSError, UnicodeDecodeError):
        lines = []
    if lines and lines[0].strip() == "---":
        for line in lines[1:]:
            if line.strip() == "---":
                break
            if line.startswith("license:"):
                return line.split(":", 1)[1].strip().strip("'\"") or "unknown"
    return "unknown (see the source model card)"


def _save_tokenizer(tokenizer, path: Path, compress: bool) -> str:
    if not getattr(tokenizer, "is_fast", False):
        raise InputError(f"tokenizer {type(tokenizer).__name__} has no fast (tokenizers) version")
    text = tokenizer.backend_tokenizer.to_str()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")
    return path.name


def _spec_from_processor(processor) -> PreprocessSpec:
    size = processor.size
    short = size.get("shortest_edge") or min(size.get("height", 224), size.get("width", 224))
    crop = processor.crop_size or {"height": short, "width": short}
    resample = {2: "bilinear", 3: "bicubic", 0: "nearest", 1: "lanczos"}.get(
        int(processor.resample), "bicubic"
    )
    return PreprocessSpec(
        size=int(short),
        crop_height=int(crop["height"]),
        crop_width=int(crop["width"]),
        resample=resample,
        do_center_crop=bool(processor.do_center_crop),
        rescale_factor=float(processor.rescale_factor),
        mean=tuple(float(v) for v in processor.image_mean),
        std=tuple(float(v) for v in processor.image_std),
    )
