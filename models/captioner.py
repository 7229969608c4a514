"""GIT image captioning with onnxruntime: image encoder + KV-cached decoder, numpy decoding.

A "git" bundle (written by `models.export.git`) holds `image.onnx` (pixel_values -> image_features),
`decoder.onnx` (merged first-step / with-past decoder), `tokenizer.json` and a manifest with the
`preprocessing`, `git` and `generation` sections. Decoding (greedy or beam search, repetition handling)
is in `models.git_decoding` and reproduces transformers' `GitForCausalLM.generate()` token for token.

Thread safety: the sessions and the tokenizer load lazily once, behind locks (models.session.Lazy);
`caption`/`generate` may be called from several threads (onnxruntime sessions are safe for concurrent
`run`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from models.bundle import Bundle, find_bundle, load_bundle
from models.errors import BundleError, BundleNotFoundError, InputError
from models.git_decoding import GenerationSettings, beam_search, greedy_search
from models.preprocess import PreprocessSpec, load_image, preprocess
from models.session import Lazy, LazySession, SessionOptions
from models.tokenizer import load_tokenizer_file

logger = logging.getLogger(__name__)

_GIT_KEYS = (
    "num_image_tokens",
    "hidden_size",
    "num_layers",
    "num_heads",
    "head_dim",
    "vocab_size",
    "max_position_embeddings",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
)
# transformers' `clean_up_tokenization` (BERT tokenizers enable it): no space before punctuation/contractions
_CLEAN_UP = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


@dataclass(frozen=True)
class Caption:
    """A generated caption and the token ids it was decoded from (EOS included when produced)."""

    text: str
    token_ids: list[int]


class GitCaptioner:
    """Captions images with a GIT bundle; satisfies `store.protocols.Captioner`.

    `beams` 1 is greedy search; `max_tokens` caps the new tokens per caption. `repetition_penalty` and
    `no_repeat_ngram_size` override the bundle's generation settings (default: the checkpoint's, i.e.
    none for microsoft/git-*-coco). Bundle problems raise BundleError naming the file, at construction
    (manifest) or at load time (graphs, tokenizer).
    """

    def __init__(
        self,
        bundle: Bundle | Path,
        options: SessionOptions | None = None,
        beams: int = 1,
        max_tokens: int = 20,
        *,
        repetition_penalty: float | None = None,
        no_repeat_ngram_size: int | None = None,
    ) -> None:
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
        if self.bundle.kind != "git":
            raise BundleError(
                f"bundle {self.bundle.path} is a {self.bundle.kind!r} bundle, not a GIT captioner"
            )
        manifest_path = self.bundle.path / "manifest.json"
        if beams < 1:
            raise InputError(f"beams must be at least 1, not {beams}")
        if max_tokens < 1:
            raise InputError(f"max_tokens must be at least 1, not {max_tokens}")
        self.model_id = self.bundle.model_id
        self.options = options or SessionOptions()
        self.spec = PreprocessSpec.from_manifest(
            self.bundle.manifest.get("preprocessing"), where=manifest_path
        )
        self.git = _git_section(self.bundle.manifest, manifest_path)
        if max_tokens > self.git["max_position_embeddings"] - 1:
            raise InputError(
                f"max_tokens {max_tokens} exceeds what {self.model_id} supports "
                f"({self.git['max_position_embeddings'] - 1})"
            )
        generation = self.bundle.manifest.get("generation", {})
        self.settings = GenerationSettings(
            bos_token_id=self.git["bos_token_id"],
            eos_token_id=self.git["eos_token_id"],
            pad_token_id=self.git["pad_token_id"],
            max_new_tokens=max_tokens,
            num_beams=beams,
            repetition_penalty=float(generation.get("repetition_penalty", 1.0)),
            no_repeat_ngram_size=int(generation.get("no_repeat_ngram_size", 0)),
            length_penalty=float(generation.get("length_penalty", 1.0)),
            early_stopping=generation.get("early_stopping", False),
        )
        if repetition_penalty is not None:
            if repetition_penalty <= 0:
                raise InputError(f"repetition_penalty must be positive, not {repetition_penalty}")
            self.settings = replace(self.settings, repetition_penalty=float(repetition_penalty))
        if no_repeat_ngram_size is not None:
            self.settings = replace(self.settings, no_repeat_ngram_size=int(no_repeat_ngram_size))
        self._clean_up = bool(
            self.bundle.manifest.get("tokenizer_options", {}).get("clean_up_tokenization_spaces", True)
        )
        self._past_names = [
            f"past_{kind}_{i}" for i in range(self.git["num_layers"]) for kind in ("key", "value")
        ]
        self._tokenizer = Lazy(self._load_tokenizer)
        self._image = LazySession(self.bundle.file("image"), self.options, check=self._check_image)
        self._decoder = LazySession(self.bundle.file("decoder"), self.options, check=self._check_decoder)

    @property
    def _image_session(self):
        return self._image.get()

    @property
    def _decoder_session(self):
        return self._decoder.get()

    @property
    def input_size(self) -> int:
        """The side the image encoder sees (for JPEG draft decoding)."""
        return self.spec.input_size

    def load(self) -> None:
        """Load the tokenizer and the graphs now (otherwise on first use); checks they fit the manifest."""
        self._tokenizer.get()
        self._image.get()
        self._decoder.get()

    def _load_tokenizer(self):
        tokenizer = load_tokenizer_file(self.bundle.file("tokenizer"))
        vocab = self.git["vocab_size"]
        if tokenizer.get_vocab_size() != vocab:
            raise BundleError(
                f"{self.bundle.file('tokenizer')}: tokenizer has {tokenizer.get_vocab_size()} tokens, "
                f"the model's vocabulary has {vocab}"
            )
        logger.info("loading GIT captioner %s from %s", self.model_id, self.bundle.path)
        return tokenizer

    def _check_image(self, image) -> None:
        outputs = {o.name: o.shape for o in image.get_outputs()}
        hidden = self.git["hidden_size"]
        if "image_features" not in outputs or outputs["image_features"][-1] != hidden:
            raise BundleError(f"{self.bundle.file('image')}: expected output image_features [b, n, {hidden}]")

    def _check_decoder(self, decoder) -> None:
        decoder_path, git = self.bundle.file("decoder"), self.git
        names = {i.name for i in decoder.get_inputs()}
        wanted = {"image_features", "input_ids", *self._past_names}
        if not wanted <= names:
            raise BundleError(f"{decoder_path}: missing decoder inputs {', '.join(sorted(wanted - names))}")
        logits = {o.name: o.shape for o in decoder.get_outputs()}.get("logits")
        if logits is None or logits[-1] != git["vocab_size"]:
            shown = logits[-1] if logits else None
            raise BundleError(
                f"{decoder_path}: logits have vocabulary size {shown}, the manifest says {git['vocab_size']}"
            )
        presents = [o.name for o in decoder.get_outputs()][1:]
        if presents != [name.replace("past_", "present_", 1) for name in self._past_names]:
            raise BundleError(
                f"{decoder_path}: decoder outputs are not logits + present key/values per layer"
            )

    def close(self) -> None:
        """Release the sessions; the next call loads them again."""
        for lazy in (self._image, self._decoder, self._tokenizer):
            lazy.close()

    # -- generation --------------------------------------------------------------------------------

    def caption(self, images: Sequence[Image.Image]) -> list[str]:
        """One caption per image, in order."""
        return [c.text for c in self.describe(images)]

    def describe(self, images: Sequence[Image.Image]) -> list[Caption]:
        """Captions with their token ids, one per image, in order."""
        return [Caption(self.decode(ids), ids) for ids in self.generate(images)]

    def generate(self, images: Sequence[Image.Image]) -> list[list[int]]:
        """Generated token ids per image (without the [CLS] prompt; EOS included when produced)."""
        if not images:
            return []
        self.load()
        pixel_values = preprocess(list(images), self.spec)
        features = self._image_session.run(["image_features"], {"pixel_values": pixel_values})[0]
        if self.settings.num_beams == 1:
            logits, past = self._first_step(features)
            return greedy_search(logits, past, self._step, self.settings)
        results = []
        for row in range(features.shape[0]):
            logits, past = self._first_step(features[row : row + 1])
            results.append(beam_search(logits, past, self._step, self.settings))
        return results

    def decode(self, token_ids: Sequence[int]) -> str:
        """Text of `token_ids` without special tokens, spaced as transformers' tokenizer decodes it."""
        text = self._tokenizer.get().decode(list(token_ids), skip_special_tokens=True)
        if self._clean_up:
            for old, new in _CLEAN_UP:
                text = text.replace(old, new)
        return text

    def _first_step(self, features: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        batch = features.shape[0]
        git = self.git
        empty = np.zeros((batch, git["num_heads"], 0, git["head_dim"]), dtype=np.float32)
        feeds = {name: empty for name in self._past_names}
        feeds["image_features"] = features
        feeds["input_ids"] = np.full((batch, 1), git["bos_token_id"], dtype=np.int64)
        outputs = self._decoder_session.run(None, feeds)
        return outputs[0], outputs[1:]

    def _step(self, input_ids: np.ndarray, past: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        batch = input_ids.shape[0]
        feeds = dict(zip(self._past_names, past, strict=True))
        feeds["image_features"] = np.zeros((batch, 0, self.git["hidden_size"]), dtype=np.float32)
        feeds["input_ids"] = input_ids
        outputs = self._decoder_session.run(None, feeds)
        return outputs[0], outputs[1:]


def _git_section(manifest: dict, where: Path) -> dict:
    section = manifest.get("git")
    if not isinstance(section, dict):
        raise BundleError(f"{where}: a git bundle needs a 'git' section")
    for key in _GIT_KEYS:
        if not isinstance(section.get(key), int) or section[key] < 0:
            raise BundleError(f"{where}: git.{key} must be a non-negative integer, not {section.get(key)!r}")
    for role in ("image", "decoder", "tokenizer"):
        if role not in manifest.get("files", {}):
            raise BundleError(f"{where}: a git bundle needs a file with role {role!r}")
    return section


def open_captioner(
    models_dir: Path,
    name: str | None,
    options: SessionOptions | None = None,
    beams: int = 1,
    max_tokens: int = 20,
    explicit: bool = True,
) -> GitCaptioner:
    """The captioner for bundle `name` (a bundle folder, or a name installed in `models_dir`).

    With `explicit` false (the name comes from the settings, not the user), a missing bundle of that
    name falls back to the installed default GIT bundle.
    """
    try:
        bundle = find_bundle(models_dir, "git", name)
    except BundleNotFoundError:
        if explicit or name is None:
            raise
        bundle = find_bundle(models_dir, "git", None)
        logger.warning("captioner %r is not installed; using %s", name, bundle.model_id)
    return GitCaptioner(bundle, options, beams=beams, max_tokens=max_tokens)


def caption_files(
    captioner: GitCaptioner, paths: Sequence[Path], batch: int = 8
) -> list[tuple[Path, Caption]]:
    """Caption image files in order; ImageDecodeError names the first file that cannot be decoded."""
    results: list[tuple[Path, Caption]] = []
    for start in range(0, len(paths), batch):
        chunk = list(paths[start : start + batch])
        images = [load_image(p) for p in chunk]
        results += zip(chunk, captioner.describe(images), strict=True)
    return results
