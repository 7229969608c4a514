"""Composition of the models the store needs (indexing and search) from the installed bundles.

Shared by the GUI and the CLI so both build the same encoder, heads and captioner from the same
settings. Loading creates onnxruntime sessions lazily, but reads manifests and vocabularies: call it
off the GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from store.config import Settings, user_data_dir
from store.protocols import Captioner, Classifier, ImageEncoder, TextEncoder

logger = logging.getLogger(__name__)


def session_options(settings: Settings):
    """onnxruntime options from the user's settings (device, threads)."""
    from models.session import SessionOptions

    return SessionOptions(force_cpu=settings.force_cpu, intra_op_threads=settings.intra_op_threads)


def load_index_models(
    models_dir: Path, settings: Settings, captions: bool
) -> tuple[ImageEncoder, list[Classifier], Captioner | None]:
    """(image encoder, classifier heads, captioner or None) from the bundles in `models_dir`.

    Raises models.errors.BundleError when no CLIP bundle is installed. Without a GIT bundle (or
    with `captions` false) the captioner is None and indexing runs without descriptions.
    """
    from models.bundle import find_bundle, list_bundles
    from models.classifier import load_heads
    from models.clip import ClipImageEncoder, ClipTextEncoder

    options = session_options(settings)
    clip = find_bundle(models_dir, "clip")
    encoder = ClipImageEncoder(clip, options)
    classifiers = load_heads(
        models_dir, clip, ClipTextEncoder(clip, options), options=options, cache_dir=user_data_dir() / "cache"
    )
    captioner = None
    if captions:
        if any(b.kind == "git" for b in list_bundles(models_dir)):
            captioner = load_captioner(models_dir, settings)
        else:
            logger.warning("no captioner (GIT) bundle in %s: indexing without descriptions", models_dir)
    return encoder, classifiers, captioner


def load_captioner(models_dir: Path, settings: Settings) -> Captioner:
    """The captioner the settings choose (the installed default GIT bundle when that one is not
    installed); BundleError when no GIT bundle is installed."""
    from models.captioner import open_captioner

    return open_captioner(
        models_dir, settings.caption_model, session_options(settings), beams=settings.caption_beams,
        explicit=False,
    )  # fmt: skip


def load_search_encoders(models_dir: Path, settings: Settings) -> tuple[ImageEncoder, TextEncoder]:
    """The CLIP image and text encoders used for find-similar and text search (BundleError when no
    CLIP bundle is installed)."""
    from models.bundle import find_bundle
    from models.clip import ClipImageEncoder, ClipTextEncoder

    options = session_options(settings)
    clip = find_bundle(models_dir, "clip")
    return ClipImageEncoder(clip, options), ClipTextEncoder(clip, options)


def load_text_encoder(models_dir: Path, settings: Settings) -> TextEncoder:
    """The CLIP text encoder (multilingual tower when the bundle has one)."""
    return load_search_encoders(models_dir, settings)[1]


def region_detector():
    """The sub-photo detector (collages, album pages, screenshots) the indexer runs on every image."""
    from store.subphotos import detect_subphotos

    return detect_subphotos
