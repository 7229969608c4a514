"""`eval` (search and classification quality on a labelled folder) and `bench` (the benchmark
harness, which only a source checkout has)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.cli.common import EXIT_FAILURE, EXIT_OK, UsageError, models_dir, unless_missing

NO_BENCHMARKS = "'bench' needs a source checkout: the benchmarks are not part of the installed app"


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    ev = sub.add_parser("eval", parents=[common], help="evaluate search and classification")
    ev.add_argument("dataset", metavar="DATASET", help="folder with one sub-folder per class")
    ev.add_argument("--split-file", metavar="FILE", help="gallery images, one relative path per line")
    ev.add_argument("--query-file", metavar="FILE", help="query images, one relative path per line")
    ev.add_argument("--limit", type=int, metavar="N", help="at most N images per class in each list")
    ev.add_argument("--no-head", action="store_true", help="skip training a linear head")
    ev.add_argument("--models", metavar="DIR", help="model bundle folder or CLIP bundle")
    ev.add_argument("--json", metavar="OUT", nargs="?", const="-", help="JSON report to OUT (- = stdout)")
    ev.add_argument(
        "--ensemble", metavar="BUNDLE",
        help="a second image model (bundle folder or name): find similar by each model and fused",
    )  # fmt: skip
    weight = ev.add_mutually_exclusive_group()
    weight.add_argument(
        "--weight", type=_weight, metavar="W",
        help="the first model's weight in the fused score, 0 to 1 (default: the setting ensemble_weight)",
    )  # fmt: skip
    weight.add_argument(
        "--pick-weight", action="store_true",
        help="measure the weight on the gallery list (part of it queries the rest), then report the "
        "queries at it",
    )  # fmt: skip
    ev.set_defaults(handler=cmd_eval)

    bench = sub.add_parser("bench", parents=[common], help="run the benchmark harness")
    bench.add_argument("suites", nargs="*", metavar="SUITE", help="suites to run (default: all)")
    bench.add_argument("--quick", action="store_true", help="smaller sizes; finishes in minutes")
    bench.add_argument("--json", metavar="OUT", help="write the records as JSON")
    bench.add_argument("--markdown", metavar="OUT", help="write the table as Markdown")
    bench.set_defaults(handler=cmd_bench)


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a weight is a number from 0 to 1, not {text!r}")
    return value


def cmd_eval(args: argparse.Namespace) -> int:
    from models.clip import ClipTextEncoder
    from models.loading import find_image_bundle, image_encoder, image_model_bundle, session_options
    from store.config import Settings
    from store.services import evaluation

    if (args.split_file is None) != (args.query_file is None):
        raise UsageError("give both --split-file and --query-file, or neither")
    if args.ensemble is None and (args.weight is not None or args.pick_weight):
        raise UsageError("--weight and --pick-weight need --ensemble BUNDLE")
    dataset = Path(args.dataset)
    gallery = queries = None
    if args.split_file:
        gallery = evaluation.read_list(dataset, Path(args.split_file))
        queries = evaluation.read_list(dataset, Path(args.query_file))
    folder = models_dir(args, existing=True)
    bundle = image_model_bundle(folder)  # CLIP when installed, else the image model
    settings = Settings.load()
    options = session_options(settings)
    first = image_encoder(bundle, options)
    text_encoder = ClipTextEncoder(bundle, options, tower="clip") if bundle.kind == "clip" else None
    second = weight = None
    if args.ensemble is not None:
        second = image_encoder(find_image_bundle(folder, args.ensemble), options)
        if second.model_id == first.model_id:
            raise UsageError(f"--ensemble names the image model itself ({first.model_id})")
        weight = None if args.pick_weight else args.weight
        if weight is None and not args.pick_weight:
            weight = settings.ensemble_weight

    def progress(stage: str, done: int, total: int) -> None:
        print(f"\r{stage}: {done}/{total}", end="", file=sys.stderr, flush=True)

    report = evaluation.evaluate(
        dataset, first, text_encoder,
        gallery=gallery, queries=queries, limit=args.limit, train_head=not args.no_head, progress=progress,
        ensemble_encoder=second, ensemble_weight=weight,
    )  # fmt: skip
    print(file=sys.stderr)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.json == "-":
        print(text)
        return EXIT_OK
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(evaluation.to_table(report))
    ensemble = report["ensemble"]
    if ensemble is not None:
        w, (a, b) = ensemble["weight"], ensemble["models"]
        where = ensemble["weight_measured_on"]
        said = (
            f"measured on {dataset}, {where}: it holds for images like these, not in general"
            if where
            else "given, not measured (--pick-weight measures one on this folder)"
        )
        print(f"\nFusion weight {w:.1f} for {a} ({1 - w:.1f} for {b}) {said}.")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    with unless_missing("benchmarks", NO_BENCHMARKS):
        from benchmarks import harness

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    records = harness.run(args.suites, quick=args.quick, progress=progress)
    if args.json:
        harness.write_json(records, Path(args.json))
    table = harness.to_markdown(records)
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf-8")
    print(table)
    return EXIT_FAILURE if any(r.get("metric") == "failed" for r in records) else EXIT_OK
