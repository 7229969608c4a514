"""Reading the checkpoints exporters start from: the [export] extra's imports, local folders or Hugging
Face downloads (the one explicit step that may use the network), sentence-transformers text models and
model-card licences.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from models.errors import ImagoError, InputError

logger = logging.getLogger(__name__)


def require_torch():
    """(torch, transformers), or ImagoError saying that exporting needs the [export] extra."""
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImagoError(
            "exporting models needs the [export] extra (torch, transformers, onnx): "
            "pip install 'imago[export]'"
        ) from exc
    return torch, transformers


_HUB_PATTERNS = ["*.json", "*.txt", "*.md", "*.safetensors", "*.model"]


def local_or_download(src: str) -> Path:
    """The checkpoint folder `src`, or the Hugging Face snapshot of model id `src` (downloaded)."""
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
        torch, transformers = require_torch()
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
    torch, _ = require_torch()
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


def card_license(folder: Path) -> str:
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
