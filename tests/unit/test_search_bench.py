"""The text query benchmark suite runs end to end on a small catalog (no timing asserted)."""

from benchmarks import text_query_suite


def test_text_query_suite_reports_latencies(monkeypatch):
    # No full-size model here: building one (torch export) is the bench's job, not a unit test's.
    monkeypatch.setattr(text_query_suite, "_full_size_text_encoder", lambda: None)
    records = text_query_suite.measure(400, queries=5)
    stand_in = [r for r in records if "stand-in" in r.metric]
    assert [r.metric.split(",")[0] for r in stand_in] == ["text query p50", "text query p95"]
    assert all(r.value is not None and r.value > 0 and r.unit == "ms" for r in stand_in)
    assert any("real text tower" in r.metric and r.note for r in records)
