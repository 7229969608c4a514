"""Loading the models indexing and search need from the installed bundles.

Shared by the GUI and the CLI so both build the same encoder, heads and captioner from the same
settings (any object with the `ModelSettings` attributes; the store's `Settings` is one). Loading
creates onnxruntime sessions lazily, but reads manifests and vocabularies: call it off the GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from models.captioner import GitCaptioner
    from models.classifier import TrainedHead, ZeroShotHead
    from models.clip import ClipImageEncoder, ClipTextEncoder
    from models.image_model import ImageModelEncoder

logger = logging.getLogger(__name__)


class ModelSettings(Protocol):
    """The settings model loading reads (`device`: see models.session.SessionOptions)."""

    device: str
    intra_op_threads: int
    caption_model: str
    caption_beams: int
    ensemble_model: str


def session_options(settings: ModelSettings):
    """onnxruntime options from the user's settings (device, threads)."""
    from models.session import SessionOptions

    return SessionOptions(device=settings.device, intra_op_threads=settings.intra_op_threads)


def bundled_models_dir() -> Path:
    """Model bundles shipped with Imago (the MobileNetV2 ImageNet image model), read-only."""
    from resources import resource_path

    return resource_path("models")


def image_model_bundle(models_dir: Path):
    """The bundle that embeds images: an installed CLIP bundle leads (it also serves text search);
    else an installed image bundle; else the image model shipped with Imago. `models_dir` may itself
    be a bundle folder."""
    from models.bundle import MANIFEST, find_bundle, load_bundle
    from models.errors import BundleNotFoundError

    if (models_dir / MANIFEST).is_file():
        return load_bundle(models_dir)
    for kind in ("clip", "image"):
        try:
            return find_bundle(models_dir, kind)
        except BundleNotFoundError:
            continue
    return find_bundle(bundled_models_dir(), "image")


def load_index_models(
    models_dir: Path, settings: ModelSettings, captions: bool, cache_dir: Path | None = None
) -> tuple[ClipImageEncoder | ImageModelEncoder, list[ZeroShotHead | TrainedHead], GitCaptioner | None]:
    """(image encoder, classifier heads, captioner or None) from the bundles in `models_dir`.
    Label embeddings of zero-shot heads are cached in `cache_dir` when given.

    With a CLIP bundle: its image tower and zero-shot or trained heads. Without one: the image
    model (see `image_model_bundle`), which names objects with its own classifier. Without a GIT
    bundle (or with `captions` false) the captioner is None and indexing runs without descriptions.
    """
    from models.bundle import has_bundle

    encoder, text_encoder = load_search_encoders(models_dir, settings)
    classifiers: list[ZeroShotHead | TrainedHead] = []
    if text_encoder is not None:
        from models.classifier import load_heads

        classifiers = load_heads(
            models_dir, encoder.bundle, text_encoder, options=session_options(settings),
            cache_dir=cache_dir,
        )  # fmt: skip
    captioner = None
    if captions:
        if has_bundle(models_dir, "git"):
            captioner = load_captioner(models_dir, settings)
        else:
            logger.warning("no captioner (GIT) bundle in %s: indexing without descriptions", models_dir)
    return encoder, classifiers, captioner


def load_captioner(models_dir: Path, settings: ModelSettings) -> GitCaptioner:
    """The captioner the settings choose (the installed default GIT bundle when that one is not
    installed); BundleError when no GIT bundle is installed."""
    from models.captioner import open_captioner

    return open_captioner(
        models_dir, settings.caption_model, session_options(settings), beams=settings.caption_beams,
        explicit=False,
    )  # fmt: skip


def load_search_encoders(
    models_dir: Path, settings: ModelSettings
) -> tuple[ClipImageEncoder | ImageModelEncoder, ClipTextEncoder | None]:
    """The image encoder for find-similar and the text encoder for search by meaning: CLIP's towers,
    or the image model and None (text search then matches words only). BundleError when no model
    can be found at all."""
    from models.clip import ClipTextEncoder

    options = session_options(settings)
    bundle = image_model_bundle(models_dir)
    encoder = image_encoder(bundle, options)
    return encoder, ClipTextEncoder(bundle, options) if bundle.kind == "clip" else None


def image_encoder(bundle, options) -> ClipImageEncoder | ImageModelEncoder:
    """The image encoder of a CLIP or image bundle; BundleError for a bundle of another kind."""
    from models.clip import ClipImageEncoder
    from models.image_model import ImageModelEncoder

    if bundle.kind == "clip":
        return ClipImageEncoder(bundle, options)
    if bundle.kind == "image":
        return ImageModelEncoder(bundle, options)
    from models.errors import BundleError

    raise BundleError(f"{bundle.path} is a {bundle.kind} bundle; it cannot embed images")


def find_image_bundle(models_dir: Path, name: str):
    """The bundle `name` means (a folder, or an installed bundle's name), also among the bundles
    shipped with Imago; BundleNotFoundError names `models_dir` when neither has it."""
    from models.bundle import find_bundle
    from models.errors import BundleNotFoundError

    try:
        return find_bundle(models_dir, None, name)
    except BundleNotFoundError as missing:
        try:
            return find_bundle(bundled_models_dir(), None, name)
        except BundleNotFoundError:
            raise missing from None


def load_ensemble_encoder(
    models_dir: Path, settings: ModelSettings, first_model_id: str
) -> ClipImageEncoder | ImageModelEncoder | None:
    """The second image model of a find-similar ensemble (the setting `ensemble_model`), or None when
    the setting is empty or names the model that already embeds images (`first_model_id`)."""
    if not settings.ensemble_model:
        return None
    encoder = image_encoder(find_image_bundle(models_dir, settings.ensemble_model), session_options(settings))
    from models.bundle import base_model_id

    if base_model_id(encoder.model_id) == base_model_id(first_model_id):
        logger.warning("ensemble_model %s is the image model itself: no ensemble", settings.ensemble_model)
        return None
    return encoder


def load_text_encoder(models_dir: Path, settings: ModelSettings) -> ClipTextEncoder | None:
    """The CLIP text encoder (multilingual tower when the bundle has one); None without CLIP."""
    return load_search_encoders(models_dir, settings)[1]
