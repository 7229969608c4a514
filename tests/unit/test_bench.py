import json

import numpy as np
import pytest

import main
from benchmarks import harness, search_suite
from benchmarks.records import Record


def test_ratio_is_oriented_so_higher_is_better():
    throughput = Record.measured(
        "embed", "images/s", 30.0, "images/s", baseline=10.0, target=2.0, target_on="ratio"
    )
    assert (throughput.ratio, throughput.met, throughput.target) == (3.0, True, "ratio >= 2")
    latency = Record.measured(
        "query", "p95", 120.0, "ms", baseline=60.0, higher_is_better=False, target=100.0
    )
    assert latency.ratio == 0.5
    assert (latency.target, latency.met) == ("<= 100", False)
    plain = Record.measured("search", "build rate", 1234.5678, "vectors/s")
    assert (plain.value, plain.ratio, plain.target, plain.met) == (1235.0, None, None, None)
    # a target on the value, higher is better: met exactly at the target, not below it
    at = Record.measured("search", "recall", 0.95, "", baseline=1.0, target=0.95)
    below = Record.measured("search", "recall", 0.94, "", baseline=1.0, target=0.95)
    assert (at.target, at.met, below.met) == (">= 0.95", True, False)


def test_clustered_vectors_are_normalised_and_clustered():
    vectors = search_suite.clustered_vectors(4000, seed=5, clusters=20)
    assert vectors.shape == (4000, search_suite.DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Nearest neighbours are much closer than random pairs: the data has structure.
    sims = vectors[:200] @ vectors.T
    np.fill_diagonal(sims[:, :200], -1)
    assert np.median(sims.max(axis=1)) > np.median(sims) + 0.3


def test_exact_top_k_matches_a_full_sort():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    assert (
        search_suite.exact_top_k(vectors, query, 10).tolist() == np.argsort(-(vectors @ query))[:10].tolist()
    )


def test_search_measure_on_a_small_collection(monkeypatch):
    monkeypatch.setattr(search_suite, "QUERIES", 20)
    records = {r.metric: r for r in search_suite.measure(5000)}
    recall = records["recall@10 vs exact, 5k"]
    assert recall.value >= 0.9 and recall.target == ">= 0.95" and recall.unit == ""
    assert recall.met is (recall.value >= 0.95) and recall.ratio == recall.value  # baseline 1.0
    assert records["search p50, 5k"].baseline_value > 0


FAKE_SUITE = """
from benchmarks.records import Record
from benchmarks.harness import SuiteUnavailable

def ok(quick):
    blob = bytearray(64 * 2**20)  # raise the peak RSS measurably
    return [Record.measured("fake", "items/s", 50.0 if quick else 10.0, "items/s", baseline=25.0, target=1.5,
                            target_on="ratio")]

def unavailable(quick):
    raise SuiteUnavailable("needs a real CLIP bundle; none is installed")

def broken(quick):
    raise ValueError("bad data")
"""


@pytest.fixture
def fake_suites(tmp_path, monkeypatch):
    (tmp_path / "fake_bench_suite.py").write_text(FAKE_SUITE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        harness,
        "SUITES",
        {name: f"fake_bench_suite:{name}" for name in ("ok", "unavailable", "broken")},
    )


def test_suites_run_in_their_own_process_with_memory_and_reasons(fake_suites):
    records = harness.run(["ok", "unavailable", "broken"], quick=True)
    assert records[0]["suite"] == "machine" and records[0]["cores"] >= 1
    by_metric = {(r["suite"], r["metric"]): r for r in records[1:]}
    assert by_metric[("fake", "items/s")]["ratio"] == 2.0 and by_metric[("fake", "items/s")]["met"] is True
    assert by_metric[("unavailable", "skipped")]["note"] == "needs a real CLIP bundle; none is installed"
    assert by_metric[("broken", "failed")]["note"] == "ValueError: bad data"
    assert by_metric[("memory", "peak RSS, ok suite")]["value"] > 64
    table = harness.to_markdown(records)
    assert "| fake | items/s | 50 items/s | 25 items/s | 2.00x | ratio >= 1.5 | yes |" in table
    assert "cores" in table


def test_bench_cli_writes_json_and_markdown(fake_suites, tmp_path, capsys):
    out_json, out_md = tmp_path / "b.json", tmp_path / "b.md"
    assert main.main(["bench", "ok", "--quick", "--json", str(out_json), "--markdown", str(out_md)]) == 0
    records = json.loads(out_json.read_text())
    assert {"suite", "metric", "value", "unit", "baseline_value", "ratio", "target", "met"} <= set(records[1])
    assert "| fake | items/s |" in out_md.read_text()
    assert main.main(["bench", "broken"]) == 1
    assert main.main(["bench", "nonexistent"]) == 1
    assert "unknown benchmark suite" in capsys.readouterr().err


def test_quality_suite_reports_parity_and_says_why_retrieval_is_skipped():
    from benchmarks import quality_suite

    records = {r.metric: r for r in quality_suite.run(quick=True)}
    parity = [r for name, r in records.items() if "vs" in name]
    assert len(parity) == 3 and all(r.met for r in parity)
    assert records["Caltech-101 MAP@10"].value is None
    assert "needs a real CLIP bundle" in records["Caltech-101 MAP@10"].note
