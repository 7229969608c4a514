"""Caption suite: GIT-base (full size, random weights) through ONNX with KV cache vs transformers
`generate()` on the same weights, seconds per caption at 20 new tokens, and resident memory."""

from __future__ import annotations

from benchmarks.harness import SuiteUnavailable
from benchmarks.records import Record

SUITE = "caption"


def run(quick: bool) -> list[Record]:
    try:
        import torch  # noqa: F401  (the baseline and the export need it)

        from benchmarks.git_reference import run_git_benchmark
    except ImportError as exc:
        raise SuiteUnavailable(f"needs the [export] extra (torch, transformers): {exc}") from exc
    beams = (1,) if quick else (1, 3)
    figures = run_git_benchmark(images=1 if quick else 5, new_tokens=20, beams=beams)
    records = []
    for width in beams:
        result = figures[f"beams{width}"]
        mode = "greedy" if width == 1 else f"beam {width}"
        note = (
            "baseline: transformers generate(); same token ids"
            if result["token_ids_agree"]
            else ("baseline: transformers generate(); TOKEN IDS DIFFER")
        )
        records.append(Record.measured(
            SUITE, f"GIT-base {mode}, 20 new tokens", result["onnx_s_per_caption"], "s/caption",
            baseline=result["transformers_s_per_caption"], higher_is_better=False,
            target=1.0 if width == 1 else None, note=note,
        ))  # fmt: skip
        if width == 1:
            records.append(Record.measured(
                SUITE, "GIT-base greedy speed-up over transformers", result["speedup"], "x", target=2.0,
            ))  # fmt: skip
    records.append(Record.measured(SUITE, "RSS with the GIT-base captioner loaded",
                                   figures["onnx_rss_loaded_mib"], "MiB"))  # fmt: skip
    return records
