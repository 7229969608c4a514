"""`models` (list, install, verify, remove, embed, import-onnx, export bundles) and `classify` (top
labels of images; `classify train` fits a linear head)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from desktop.cli.common import (
    EXIT_OK,
    UsageError,
    models_dir,
    open_catalog,
    session_options,
    unless_missing,
    utf8_text,
)
from models.errors import ImagoError

NO_EXPORTERS = (
    "'models export' needs a source checkout with the [export] extra (pip install -e '.[export]'): "
    "the exporters are not part of the installed app"
)


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """`models ...` and `classify ...` subcommands."""
    models_opt = argparse.ArgumentParser(add_help=False)
    models_opt.add_argument(
        "--models", metavar="DIR", help="model bundle folder (default: IMAGO_MODELS or user data)"
    )

    models = sub.add_parser("models", parents=[common], help="list, install, verify, export model bundles")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common, models_opt], help="list installed bundles")
    listing.add_argument("--json", action="store_true", help="print JSON")
    install = actions.add_parser(
        "install", parents=[common, models_opt], help="install a bundle folder or zip"
    )
    install.add_argument("source", metavar="PATH_OR_ZIP")
    install.add_argument(
        "--replace", action="store_true", help="replace an installed bundle of the same name"
    )
    verify = actions.add_parser("verify", parents=[common, models_opt], help="check the hashes of bundles")
    verify.add_argument("name", nargs="?", metavar="NAME", help="bundle name or folder (default: all)")
    remove = actions.add_parser("remove", parents=[common, models_opt], help="delete an installed bundle")
    remove.add_argument("name", metavar="NAME")
    embed = actions.add_parser(
        "embed", parents=[common, models_opt], help="print embeddings of images or texts"
    )
    embed.add_argument("bundle", metavar="NAME_OR_DIR", help="CLIP bundle name or folder")
    what = embed.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", nargs="+", metavar="FILE", help="image files")
    what.add_argument(
        "--text", type=utf8_text, nargs="+", metavar="TEXT", help="texts (any language the bundle supports)"
    )
    embed.add_argument("--tower", choices=("auto", "clip", "multilingual"), default="auto", help="text tower")
    embed.add_argument("--precision", choices=("auto", "fp32", "int8"), default="auto", help="image tower")
    embed.add_argument("--json", action="store_true", help='print {"model", "dim", "vectors"} as JSON')
    onnx_import = actions.add_parser(
        "import-onnx", parents=[common, models_opt], help="make an image-model bundle of an ONNX image model"
    )
    onnx_import.add_argument("model", metavar="MODEL.onnx")
    onnx_import.add_argument("--name", required=True, help="bundle name")
    onnx_import.add_argument(
        "--embedding", required=True, metavar="TENSOR", help="embedding tensor (may be intermediate)"
    )
    onnx_import.add_argument("--scores", metavar="TENSOR", help="class scores tensor (needs --labels)")
    onnx_import.add_argument("--scores-are", choices=("probabilities", "logits"), default="probabilities")
    onnx_import.add_argument("--labels", metavar="FILE", help="labels file, one per line, in score order")
    onnx_import.add_argument("--labels-offset", type=int, metavar="N", help="scores before the first label")
    onnx_import.add_argument("--resize", type=int, metavar="PX", help="short side before the centre crop")
    onnx_import.add_argument("--mean", metavar="R,G,B", help="pixel mean (0..1 scale for float input)")
    onnx_import.add_argument("--std", metavar="R,G,B", help="pixel standard deviation")
    onnx_import.add_argument("--source", help="where the weights come from (written to the manifest)")
    onnx_import.add_argument("--license", help="licence name (written to the manifest)")
    onnx_import.add_argument("--license-file", metavar="FILE", help="licence text shipped in the bundle")
    onnx_import.add_argument("--notice-file", metavar="FILE", help="NOTICE shipped in the bundle")
    onnx_import.add_argument("--version", default="1", help="bundle version (default 1)")
    onnx_import.add_argument("--out", metavar="DIR", help="write the bundle here instead of installing it")
    onnx_import.add_argument(
        "--replace", action="store_true", help="replace an installed bundle of that name"
    )
    export = actions.add_parser("export", parents=[common], help="export a Hugging Face model to a bundle")
    families = export.add_subparsers(dest="family", metavar="FAMILY", required=True)
    clip = families.add_parser("clip", parents=[common], help="CLIP image + text towers")
    clip.add_argument(
        "source", metavar="SRC", help="HF id or checkpoint folder (--tiny: CLIP BPE file/folder)"
    )
    clip.add_argument("--out", required=True, metavar="DIR", help="output bundle folder (new or empty)")
    clip.add_argument("--text-model", metavar="SRC2", help="multilingual sentence-transformers text model")
    clip.add_argument("--quantize", choices=("int8",), help="also write an int8 image tower")
    clip.add_argument(
        "--default-precision", choices=("fp32", "int8"), default="fp32", help="image tower used by default"
    )
    clip.add_argument("--tiny", action="store_true", help="tiny randomly initialised models (tests)")
    clip.add_argument("--name", help="bundle name (default from SRC)")
    git = families.add_parser("git", parents=[common], help="GIT captioner")
    git.add_argument("source", metavar="SRC", help="HF id or checkpoint folder")
    git.add_argument("--out", required=True, metavar="DIR", help="output bundle folder")
    git.add_argument(
        "--tiny", nargs="?", const="base", metavar="SIZE", help="tiny random model shaped like SIZE"
    )
    models.set_defaults(handler=cmd_models)

    classify = sub.add_parser(
        "classify",
        parents=[common, models_opt],
        help="top categories and names for images",
        description="classify IMAGE... prints the top labels per head; classify train --labels CSV "
        "(path,label rows) or --embeddings NPZ (embeddings, labels) fits a linear head.",
    )
    classify.add_argument("items", nargs="*", metavar="IMAGE", help="image files, or 'train'")
    classify.add_argument("--head", choices=("category", "name"), help="only this head (train: which head)")
    classify.add_argument("--top", type=int, default=5, help="labels per head (default 5)")
    classify.add_argument("--model", metavar="NAME_OR_DIR", help="CLIP bundle (default: the installed one)")
    classify.add_argument("--vocabularies", metavar="DIR", help="folder with categories.json / names.json")
    classify.add_argument("--json", action="store_true", help="print JSON")
    classify.add_argument("--labels", metavar="CSV", help="train: path,label rows")
    classify.add_argument("--embeddings", metavar="NPZ", help="train: stored embeddings and labels")
    classify.add_argument(
        "--archive", metavar="ARCHIVE", help="train: the curator's labels in this indexed archive"
    )
    classify.add_argument("--name", help="train: head bundle name")
    classify.add_argument("--holdout", type=float, default=0.2, help="train: held-out fraction (default 0.2)")
    classify.set_defaults(handler=cmd_classify)


def _bundle_summary(bundle) -> dict:
    return {
        "name": bundle.name,
        "version": bundle.version,
        "kind": bundle.kind,
        "model_id": bundle.model_id,
        "source": bundle.manifest.get("source"),
        "path": str(bundle.path),
        "files": sorted(bundle.manifest["files"]),
    }


def cmd_models(args: argparse.Namespace) -> int:
    from models import bundle as bundles
    from models.bundle_install import install_bundle, remove_bundle

    folder = models_dir(args)
    if args.action == "list":
        found = [_bundle_summary(b) for b in bundles.list_bundles(folder)]
        if args.json:
            print(json.dumps({"models_dir": str(folder), "bundles": found}, indent=2, ensure_ascii=False))
        elif not found:
            print(f"no model bundles in {folder}")
        for item in [] if args.json else found:
            print(f"{item['name']:<28} {item['kind']:<5} {item['version']:<8} {item['source']}")
        return EXIT_OK
    if args.action == "install":
        installed = install_bundle(Path(args.source), folder, replace=args.replace)
        print(f"installed {installed.model_id} ({installed.kind}) into {installed.path}")
        return EXIT_OK
    if args.action == "verify":
        targets = (
            [bundles.find_bundle(folder, None, args.name)]
            if args.name
            else [bundles.load_bundle(p.parent) for p in sorted(folder.glob("*/manifest.json"))]
        )
        if not targets:
            raise ImagoError(f"no model bundles to verify in {folder}")
        for target in targets:
            bundles.verify_bundle(target)
            print(f"ok {target.model_id} ({len(target.manifest['files'])} files)")
        return EXIT_OK
    if args.action == "remove":
        removed = remove_bundle(folder, args.name)
        print(f"removed {removed}")
        return EXIT_OK
    if args.action == "embed":
        return _cmd_models_embed(args, folder)
    if args.action == "import-onnx":
        return _cmd_models_import_onnx(args, folder)
    return _cmd_models_export(args)


def _cmd_models_import_onnx(args: argparse.Namespace, models_dir: Path) -> int:
    """Make an image bundle of an ONNX file; install it unless --out names a folder for it."""
    import tempfile

    from models.bundle_install import install_bundle
    from models.onnx_import import ImportOptions, import_onnx

    def triple(text: str | None) -> tuple[float, float, float] | None:
        if text is None:
            return None
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) != 3:
            raise UsageError(f"--mean/--std take three numbers, not {text!r}")
        return (values[0], values[1], values[2])

    options = ImportOptions(
        name=args.name, embedding=args.embedding, scores=args.scores, scores_are=args.scores_are,
        labels=Path(args.labels) if args.labels else None, labels_offset=args.labels_offset,
        resize=args.resize, mean=triple(args.mean), std=triple(args.std), source=args.source or "",
        license=args.license or "see the license file",
        license_file=Path(args.license_file) if args.license_file else None,
        notice_file=Path(args.notice_file) if args.notice_file else None, version=args.version,
    )  # fmt: skip
    if args.out:
        made = import_onnx(Path(args.model), Path(args.out), options)
        print(f"wrote {made.model_id} ({made.manifest['image_model']['batch']} batch) to {made.path}")
        return EXIT_OK
    with tempfile.TemporaryDirectory(prefix="imago-import-") as tmp:
        made = import_onnx(Path(args.model), Path(tmp) / args.name, options)
        installed = install_bundle(made.path, models_dir, replace=args.replace)
    print(f"installed {installed.model_id} (image) into {installed.path}")
    return EXIT_OK


def _cmd_models_embed(args: argparse.Namespace, models_dir: Path) -> int:
    from models import batch
    from models.bundle import find_bundle

    bundle = find_bundle(models_dir, "clip", args.bundle)
    options = session_options()
    if args.image:
        quantized = {"auto": None, "fp32": False, "int8": True}[args.precision]
        model_id, vectors = batch.embed_images(bundle, [Path(p) for p in args.image], options, quantized)
    else:
        model_id, vectors = batch.embed_texts(bundle, args.text, options, tower=args.tower)
    if args.json:
        rows = [[float(v) for v in row] for row in vectors]
        print(json.dumps({"model": model_id, "dim": int(vectors.shape[1]), "vectors": rows}))
        return EXIT_OK
    inputs = args.image or args.text
    for source, row in zip(inputs, vectors, strict=True):
        head = " ".join(f"{v:+.4f}" for v in row[:6])
        print(f"{source}\t[{head} ...] ({model_id}, dim {vectors.shape[1]})")
    return EXIT_OK


def _cmd_models_export(args: argparse.Namespace) -> int:
    with unless_missing("models.export", NO_EXPORTERS):
        from models.export.clip import export_clip_bundle
        from models.export.git import export_git_bundle

    if args.family == "clip":
        bundle = export_clip_bundle(
            args.source,
            Path(args.out),
            text_model=args.text_model,
            quantize=args.quantize,
            tiny=args.tiny,
            name=args.name,
            default_precision=args.default_precision,
        )
    else:
        bundle = export_git_bundle(args.source, Path(args.out), tiny=args.tiny)
    print(f"exported {bundle.model_id} to {bundle.path}")
    return EXIT_OK


def _curator_examples(archive: Path, bundle, head: str):
    """(embeddings, labels) of the curator's `head` labels in ARCHIVE's catalogue, for `classify train`."""
    from models.clip import ClipImageEncoder
    from store.services.curation import CurationService

    _, catalog = open_catalog(str(archive))
    with catalog:
        return CurationService(catalog).training_examples(head, ClipImageEncoder(bundle).model_id)


def cmd_classify(args: argparse.Namespace) -> int:
    from models import batch
    from models.bundle import find_bundle
    from store import config

    if not args.items:
        raise UsageError("give one or more image files to classify (or 'train')")
    if args.items[0] == "train" and len(args.items) > 1:
        raise UsageError("'classify train' takes --labels CSV, --embeddings NPZ or --archive, not images")
    folder = models_dir(args)
    options = session_options()
    if args.items[0] != "train" and args.model is None:
        from models.loading import image_model_bundle

        image_model = image_model_bundle(folder)
        if image_model.kind == "image":  # no CLIP: the image model's own classes
            return _print_classified(
                batch.label_images(image_model, [Path(p) for p in args.items], args.top, options), args.json
            )
    bundle = find_bundle(folder, "clip", args.model)
    if args.items[0] == "train":
        head = batch.train_head(
            folder,
            bundle,
            args.head or "category",
            labels_csv=Path(args.labels) if args.labels else None,
            embeddings_file=Path(args.embeddings) if args.embeddings else None,
            name=args.name,
            holdout=args.holdout,
            options=options,
            examples=_curator_examples(Path(args.archive), bundle, args.head or "category")
            if args.archive
            else None,
        )
        metrics = head.manifest["metrics"]
        if args.json:
            print(json.dumps({"bundle": head.model_id, "path": str(head.path), "metrics": metrics}, indent=2))
        else:
            accuracy = metrics.get("heldout_accuracy")
            shown = "n/a (too few examples per label)" if accuracy is None else f"{accuracy:.3f}"
            print(
                f"trained {head.manifest['head']} head {head.model_id}: {metrics['examples']} examples, "
                f"{metrics['classes']} labels, held-out accuracy {shown} on {metrics['heldout_examples']}"
            )
        return EXIT_OK
    results = batch.classify_images(
        folder,
        bundle,
        [Path(p) for p in args.items],
        args.head,
        args.top,
        options,
        Path(args.vocabularies) if args.vocabularies else None,
        config.user_data_dir() / "cache",
    )
    return _print_classified(results, args.json)


def _print_classified(results: list[dict], as_json: bool) -> int:
    if as_json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return EXIT_OK
    for result in results:
        print(result["image"])
        for head_name, ranked in result["heads"].items():
            print(f"  {head_name}: " + ", ".join(f"{label} {prob:.2f}" for label, prob in ranked["top"]))
    return EXIT_OK
