"""Text tokenisation with the `tokenizers` package from a bundle's tokenizer.json.

The CLIP tokenizer is CLIP's byte-level BPE (lower-casing, whitespace clean-up, `</w>` suffixes)
with `<|startoftext|>`/`<|endoftext|>` around every text and truncation to the 77-token context: a text
that is too long is cut (the end token is kept), never refused. The multilingual tower brings its own
WordPiece tokenizer. Tokenizer files may be gzip-compressed (`tokenizer.json.gz`).
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from models.errors import BundleError

logger = logging.getLogger(__name__)


def load_tokenizer_file(path: Path) -> Tokenizer:
    """A `tokenizers.Tokenizer` from tokenizer.json (or .json.gz); BundleError names a bad file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        return Tokenizer.from_str(raw.decode("utf-8"))
    except Exception as exc:  # tokenizers raises plain Exception on malformed JSON
        raise BundleError(f"cannot load tokenizer {path}: {exc}") from exc


class TextTokenizer:
    """Batch tokenizer: texts -> (input_ids, attention_mask), int64 [n, L], padded to the longest text.

    `max_length` counts the special tokens; longer texts are truncated. Thread-safe (the underlying
    Tokenizer's truncation settings are fixed once at construction).
    """

    def __init__(self, path: Path, max_length: int, pad_id: int) -> None:
        if max_length < 2:
            raise BundleError(f"tokenizer {path}: max_length must be >= 2, not {max_length}")
        self.path = Path(path)
        self.max_length = max_length
        self.pad_id = pad_id
        self._tokenizer = load_tokenizer_file(self.path)
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_length)
        self._lock = threading.Lock()

    def ids(self, text: str) -> list[int]:
        """Token ids of one text, with special tokens, truncated to `max_length`."""
        with self._lock:
            return self._tokenizer.encode(text).ids

    def __call__(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        length = max((len(e.ids) for e in encodings), default=0)
        input_ids = np.full((len(encodings), length), self.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(encodings), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            attention_mask[row, : len(encoding.ids)] = 1
        return input_ids, attention_mask
