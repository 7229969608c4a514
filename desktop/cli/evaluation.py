"""`eval` (search and classification quality on a labelled folder) and `bench` (the benchmark
harness, which only a source checkout has)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.cli.common import EXIT_FAILURE, EXIT_OK, UsageError, models_dir, session_options, unless_missing

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
    ev.set_defaults(handler=cmd_eval)

    bench = sub.add_parser("bench", parents=[common], help="run the benchmark harness")
    bench.add_argument("suites", nargs="*", metavar="SUITE", help="suites to run (default: all)")
    bench.add_argument("--quick", action="store_true", help="smaller sizes; finishes in minutes")
    bench.add_argument("--json", metavar="OUT", help="write the records as JSON")
    bench.add_argument("--markdown", metavar="OUT", help="write the table as Markdown")
    bench.set_defaults(handler=cmd_bench)


def cmd_eval(args: argparse.Namespace) -> int:
    from models.clip import ClipImageEncoder, ClipTextEncoder
    from models.image_model import ImageModelEncoder
    from models.loading import image_model_bundle
    from store.services import evaluation

    if (args.split_file is None) != (args.query_file is None):
        raise UsageError("give both --split-file and --query-file, or neither")
    dataset = Path(args.dataset)
    gallery = queries = None
    if args.split_file:
        gallery = evaluation.read_list(dataset, Path(args.split_file))
        queries = evaluation.read_list(dataset, Path(args.query_file))
    bundle = image_model_bundle(models_dir(args, existing=True))  # CLIP when installed, else the image model
    options = session_options()
    if bundle.kind == "clip":
        image_encoder, text_encoder = (
            ClipImageEncoder(bundle, options),
            ClipTextEncoder(bundle, options, tower="clip"),
        )
    else:
        image_encoder, text_encoder = ImageModelEncoder(bundle, options), None

    def progress(stage: str, done: int, total: int) -> None:
        print(f"\r{stage}: {done}/{total}", end="", file=sys.stderr, flush=True)

    report = evaluation.evaluate(
        dataset, image_encoder, text_encoder,
        gallery=gallery, queries=queries, limit=args.limit, train_head=not args.no_head, progress=progress,
    )  # fmt: skip
    print(file=sys.stderr)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.json == "-":
        print(text)
        return EXIT_OK
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(evaluation.to_table(report))
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
