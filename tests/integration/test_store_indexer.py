"""The indexing pipeline end to end with fake models: incremental runs, moves, deletions, curator
edits, regions, captions, bad files, pause/cancel, readers during writes."""

from __future__ import annotations

import errno
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from store_fakes import (
    FakeCaptioner,
    FakeClassifier,
    FakeEncoder,
    make_archive,
    make_bad_corpus,
    make_image,
    quadrant_detector,
)

from store.ingestion.indexer import Indexer, IndexSummary, Progress
from store.storage.archive import locate_index
from store.storage.catalog import Catalog
from store.storage.vector_index import VectorIndex


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = locate_index(root)
        self.catalog = Catalog(self.location.catalog_path)
        self.encoder = FakeEncoder()

    def indexer(self, **kwargs) -> Indexer:
        kwargs.setdefault("batch_size", 4)
        kwargs.setdefault("decode_workers", 2)
        return Indexer(self.location, self.catalog, self.encoder, **kwargs)

    def run(self, **kwargs) -> IndexSummary:
        captions = kwargs.pop("captions", True)
        only = kwargs.pop("only", None)
        return self.indexer(**kwargs).index(only, captions=captions)

    def item_of(self, raw: bytes) -> int:
        file_id = self.catalog.file_id(raw)
        return self.catalog.ensure_file_item(file_id)


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "archive"
    make_archive(root, 12)
    s = Setup(root)
    yield s
    s.catalog.close()


def test_first_run_indexes_everything_and_second_embeds_nothing(setup):
    summary = setup.run(classifiers=[FakeClassifier("category"), FakeClassifier("name")])
    assert summary.as_json() == {
        "indexed": 12, "unchanged": 0, "moved": 0, "removed": 0, "failed": 0, "items": 12, "failures": [],
    }  # fmt: skip
    assert setup.encoder.embedded == 12
    assert max(setup.encoder.calls) <= 4  # batched
    item = setup.item_of(b"folder1/img0001.jpg")
    heads = {r["head"] for r in setup.catalog.labels(item)}
    assert heads == {"category", "name"}
    assert all(r["model_id"].startswith("fake-") for r in setup.catalog.labels(item))
    vindex = VectorIndex.open(setup.location.path, FakeEncoder.model_id, FakeEncoder.dim, setup.catalog)
    query = setup.encoder.encode([Image.open(setup.root / "folder1/img0001.jpg").convert("RGB")])[0]
    assert vindex.search(query, 1)[0][0] == item
    assert any(setup.location.thumbnails_dir.rglob("*.jpg"))

    before = setup.encoder.embedded
    again = setup.run(classifiers=[FakeClassifier("category")])
    assert setup.encoder.embedded == before  # nothing embedded
    assert again.as_json() | {"failures": []} == {
        "indexed": 0, "unchanged": 12, "moved": 0, "removed": 0, "failed": 0, "items": 12, "failures": [],
    }  # fmt: skip


def test_progress_reports(setup):
    reports = list(setup.indexer().run(captions=False))
    assert all(isinstance(p, Progress) for p in reports)
    assert reports[0].phase == "scan" and reports[-1].phase == "done" and reports[-1].done == 12
    index_reports = [p for p in reports if p.phase == "index"]
    assert index_reports[-1].done == index_reports[-1].total == 12
    assert [p.done for p in index_reports] == sorted(p.done for p in index_reports)
    assert index_reports[-1].rate > 0 and index_reports[-1].current.endswith((".jpg", ".png"))


def test_touched_file_is_not_re_embedded(setup):
    setup.run()
    before = setup.encoder.embedded
    path = setup.root / "folder0/img0000.png"
    os.utime(path, ns=(1, 1))
    summary = setup.run()
    assert setup.encoder.embedded == before and summary.unchanged == 12 and summary.indexed == 0


def test_same_size_rewrite_with_a_new_mtime_is_re_embedded(setup):
    path = make_image(setup.root / "folder0/edited.bmp", 1, fmt="BMP")  # BMP: size depends on w x h only
    setup.run()
    item = setup.item_of(b"folder0/edited.bmp")
    _, old_vector = setup.catalog.vectors(FakeEncoder.model_id, [item])
    before, stat = setup.encoder.embedded, os.stat(path)
    make_image(path, 2, fmt="BMP")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert os.stat(path).st_size == stat.st_size
    summary = setup.run()
    assert (summary.indexed, summary.unchanged) == (1, 12) and setup.encoder.embedded == before + 1
    _, new_vector = setup.catalog.vectors(FakeEncoder.model_id, [item])
    assert not np.allclose(old_vector, new_vector)


def test_move_and_rename_keep_everything(setup):
    setup.run(captioner=FakeCaptioner(), classifiers=[FakeClassifier()])
    item = setup.item_of(b"folder1/img0004.png")
    setup.catalog.set_description(item, "Curator's note")
    setup.catalog.set_curator_labels(item, "category", ["portrait"])
    before = setup.encoder.embedded
    (setup.root / "renamed").mkdir()
    shutil.move(setup.root / "folder1/img0004.png", setup.root / "renamed/portrait.png")
    summary = setup.run(captioner=FakeCaptioner())
    assert (summary.moved, summary.removed, summary.indexed) == (1, 0, 0)
    assert setup.encoder.embedded == before
    assert setup.item_of(b"renamed/portrait.png") == item
    assert setup.catalog.description(item) == "Curator's note"
    assert [i for i, _ in setup.catalog.search_text("portrait")] == [item]
    assert setup.catalog.file_id(b"folder1/img0004.png") is None


def test_deleted_file_disappears_and_comes_back_with_its_edits(setup):
    setup.run()
    item = setup.item_of(b"folder2/img0005.jpg")
    setup.catalog.set_description(item, "keep me")
    kept = setup.root.parent / "img0005.jpg"
    shutil.move(setup.root / "folder2/img0005.jpg", kept)
    summary = setup.run()
    assert (summary.removed, summary.items) == (1, 11)
    assert setup.catalog.search_text("keep") == []
    vindex = VectorIndex.open(setup.location.path, FakeEncoder.model_id, FakeEncoder.dim, setup.catalog)
    assert item not in vindex.keys().tolist()

    before = setup.encoder.embedded
    shutil.move(kept, setup.root / "back.jpg")  # an accidental move, undone under another name
    summary = setup.run()
    assert (summary.moved, summary.items) == (1, 12)
    assert setup.encoder.embedded == before
    assert setup.catalog.description(item) == "keep me"
    vindex = VectorIndex.open(setup.location.path, FakeEncoder.model_id, FakeEncoder.dim, setup.catalog)
    assert item in vindex.keys().tolist()


def test_changed_content_is_re_embedded_but_curator_edits_stay(setup):
    setup.run(captioner=FakeCaptioner(), classifiers=[FakeClassifier()])
    item = setup.item_of(b"folder0/img0003.jpg")
    setup.catalog.set_description(item, "written by hand")
    old_caption = setup.catalog.captions(item)[0]["text"]
    make_image(setup.root / "folder0/img0003.jpg", 999, size=(50, 70))
    before = setup.encoder.embedded
    summary = setup.run(captioner=FakeCaptioner(), classifiers=[FakeClassifier()])
    assert summary.indexed == 1 and setup.encoder.embedded == before + 1
    assert setup.item_of(b"folder0/img0003.jpg") == item
    assert setup.catalog.description(item) == "written by hand"
    new_caption = setup.catalog.captions(item)[0]["text"]
    assert new_caption != old_caption and new_caption.endswith("size 50x70")


def test_regions_are_items_and_curator_regions_survive(setup):
    summary = setup.run(region_detector=quadrant_detector)
    assert summary.items == 36  # each file + 2 regions
    file_id = setup.catalog.file_id(b"folder1/img0001.jpg")
    regions = [i for i in setup.catalog.items(file_id) if i.kind == "region"]
    assert [r.bbox for r in regions] == [(0, 0, 48, 64), (48, 0, 48, 64)]  # full-size pixels
    setup.catalog.hide_region(regions[0].id)
    drawn = setup.catalog.add_curator_region(file_id, (10, 10, 20, 20))
    make_image(setup.root / "folder1/img0001.jpg", 555)  # new content: regions re-detected
    summary = setup.run(region_detector=quadrant_detector)
    items = setup.catalog.items(file_id)
    model_regions = [i for i in items if i.kind == "region" and i.source == "model"]
    assert [r.bbox for r in model_regions] == [(48, 0, 48, 64)]  # the deleted one stays deleted
    assert drawn in [i.id for i in items]
    assert summary.items == 36 - 1 + 1
    keys = setup.catalog.visible_keys(FakeEncoder.model_id).tolist()
    assert drawn in keys and regions[0].id not in keys
    assert any(setup.location.thumbnails_dir.rglob("*-48-0-48-64.jpg"))


def test_curator_drawn_region_is_embedded_on_next_run(setup):
    setup.run()
    file_id = setup.catalog.file_id(b"folder0/img0000.png")
    drawn = setup.catalog.add_curator_region(file_id, (0, 0, 30, 30))
    before = setup.encoder.embedded
    summary = setup.run()
    assert setup.encoder.embedded == before + 1 and summary.items == 13
    assert drawn in setup.catalog.visible_keys(FakeEncoder.model_id).tolist()


def test_captions_run_after_embeddings(setup):
    order = []
    encoder_encode = setup.encoder.encode

    class Recorder(FakeCaptioner):
        def caption(self, images):
            order.append("caption")
            return super().caption(images)

    def encode(images):
        order.append("embed")
        return encoder_encode(images)

    setup.encoder.encode = encode
    summary = setup.run(captioner=Recorder(), caption_batch_size=5)
    assert order.index("caption") > len(order) - 1 - order[::-1].index("embed")
    item = setup.item_of(b"folder2/img0002.png")
    assert setup.catalog.captions(item)[0]["model_id"] == "fake-caption-v1"
    assert summary.items == 12
    assert [i for i, _ in setup.catalog.search_text("mean colour")]


def test_only_paths_index_just_those(setup):
    setup.run()
    make_image(setup.root / "folder0/extra.png", 77)
    os.remove(setup.root / "folder2/img0002.png")
    summary = setup.run(only=["folder0/extra.png", "folder2/img0002.png"])
    assert (summary.indexed, summary.removed, summary.unchanged) == (1, 1, 0)


def test_cancel_and_pause(setup):
    indexer = setup.indexer(batch_size=2, lookahead=2)
    for progress in indexer.run(captions=False):
        if progress.phase == "index" and progress.done == 4:
            indexer.cancel()
    assert indexer.summary.cancelled
    assert 0 < setup.catalog.searchable_count(FakeEncoder.model_id) < 12
    # a paused indexer resumes where told; a new run finishes the job
    indexer = setup.indexer()
    gen = indexer.run(captions=False)
    next(gen)
    indexer.pause()
    threading.Timer(0.05, indexer.resume).start()
    for _ in gen:
        pass
    assert indexer.summary.items == 12 and not indexer.summary.cancelled


def test_pause_stops_indexing_until_resume(setup):
    """Paused after the first file, the run makes no progress (no report, no embedding) until resumed."""
    indexer = setup.indexer(batch_size=1, lookahead=1, decode_workers=1)
    resumed = threading.Event()
    seen_at_resume: list[tuple[int, int]] = []
    reports: list[tuple[int, bool]] = []  # (files done, whether resume() had been called)

    def resume() -> None:
        seen_at_resume.append((max(done for done, _ in reports), setup.encoder.embedded))
        resumed.set()
        indexer.resume()

    timer = threading.Timer(1.0, resume)
    for progress in indexer.run(captions=False):
        if progress.phase != "index":
            continue
        reports.append((progress.done, resumed.is_set()))
        if progress.done == 1 and not timer.is_alive() and not resumed.is_set():
            indexer.pause()  # the generator blocks at its checkpoint before the next file
            timer.start()
    timer.join()
    assert seen_at_resume == [(1, 1)]  # nothing advanced during the second the run was paused
    assert all(was_resumed for done, was_resumed in reports if done > 1)
    assert indexer.summary.items == 12 and not indexer.summary.cancelled


def test_cancel_reaches_a_paused_run(setup):
    indexer = setup.indexer(batch_size=1, lookahead=1, decode_workers=1)
    done = []
    for progress in indexer.run(captions=False):
        done.append(progress.done)
        if progress.phase == "index" and progress.done == 2:
            indexer.pause()
            threading.Timer(0.05, indexer.cancel).start()
    assert indexer.summary.cancelled and done[-2] == 2  # the final "done" report follows the pause
    assert setup.catalog.searchable_count(FakeEncoder.model_id) == 2


def test_bad_files_are_recorded_and_the_rest_indexed(tmp_path):
    root = tmp_path / "bad"
    expected = make_bad_corpus(root)
    s = Setup(root)
    summary = s.run()
    failures = {f["path"]: f["error"] for f in summary.failures}
    wanted = {k.decode("utf-8", "backslashreplace"): v for k, v in expected.items() if v}
    assert {p: e.split(":")[0] for p, e in failures.items()} == wanted
    good = {k for k, v in expected.items() if v is None}
    assert summary.indexed == len(good) and summary.items == len(good)
    assert summary.failed == len(wanted)
    row = s.catalog.conn.execute("SELECT frames, format FROM files WHERE path = 'anim.gif'").fetchone()
    assert row == (3, "GIF")
    assert s.catalog.file_id(b"caf\xe9-\xff.png") is not None
    again = s.run()  # unchanged bad files are not retried, and still reported
    assert again.indexed == 0 and again.failed == len(wanted) and again.unchanged == len(good)
    s.catalog.close()


def _deny_unreadable_files_to_root(monkeypatch) -> None:
    """Root reads mode-000 files, and CI runs as root: make os.open refuse them as the kernel refuses
    any other user (EACCES), so the code above the syscall meets the real error."""
    real_open = os.open

    def open_as_user(path, flags, *args, **kwargs):
        if not flags & (os.O_WRONLY | os.O_RDWR) and os.stat(path).st_mode & 0o444 == 0:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_as_user)


def test_unreadable_file_is_recorded(tmp_path, monkeypatch):
    root = tmp_path / "archive"
    make_archive(root, 2)
    make_image(root / "locked.jpg", 9).chmod(0)
    if os.geteuid() == 0:
        _deny_unreadable_files_to_root(monkeypatch)
    s = Setup(root)
    summary = s.run()
    assert [(f["path"], f["error"].split(":")[0]) for f in summary.failures] == [("locked.jpg", "unreadable")]
    assert summary.items == 2
    s.catalog.close()


def test_readers_are_never_locked_out_while_indexing(tmp_path):
    root = tmp_path / "archive"
    make_archive(root, 40)
    s = Setup(root)
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = [0]

    def reader():
        try:
            with Catalog(s.location.catalog_path, busy_timeout_ms=5000) as cat:
                while not stop.is_set():
                    cat.search_text("folder1")
                    cat.visible_keys(FakeEncoder.model_id)
                    cat.counts()
                    reads[0] += 1
        except BaseException as exc:
            errors.append(exc)

    def curator():
        try:
            with Catalog(s.location.catalog_path) as cat:
                while not stop.is_set():
                    row = cat.conn.execute("SELECT id FROM items ORDER BY id LIMIT 1").fetchone()
                    if row:
                        cat.set_description(row[0], "edited while indexing")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)] + [threading.Thread(target=curator)]
    for t in threads:
        t.start()
    try:
        summary = s.run(batch_size=2, captioner=FakeCaptioner(), caption_batch_size=2)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == [], errors
    assert reads[0] > 0 and summary.items == 40
    s.catalog.close()


def test_vectors_in_catalog_match_the_encoder(setup):
    setup.run()
    _keys, matrix = setup.catalog.vectors(FakeEncoder.model_id)
    assert matrix.shape == (12, FakeEncoder.dim)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, rtol=1e-5)


def test_measure_throughput_reports_both_rates(tmp_path):
    from benchmarks.throughput import measure_throughput

    make_archive(tmp_path / "a", 6)
    result = measure_throughput(tmp_path / "a", FakeEncoder(), batch_size=4, model_only_images=6)
    assert (
        result["images"] == 6
        and result["end_to_end_images_per_s"] > 0
        and result["model_only_images_per_s"] > 0
    )
    assert not (tmp_path / "a" / ".imago").exists()  # measured in a throw-away index


def test_file_back_at_its_old_path_is_restored_not_re_embedded(setup):
    setup.run()
    item = setup.item_of(b"folder0/img0006.png")
    setup.catalog.set_description(item, "restored")
    aside = setup.root.parent / "aside.png"
    shutil.move(setup.root / "folder0/img0006.png", aside)
    assert setup.run().removed == 1
    shutil.move(aside, setup.root / "folder0/img0006.png")
    before = setup.encoder.embedded
    summary = setup.run()
    assert summary.items == 12 and setup.encoder.embedded == before
    assert setup.item_of(b"folder0/img0006.png") == item and setup.catalog.description(item) == "restored"


def test_new_content_at_a_missing_path_replaces_the_old_model_data(setup):
    setup.run(captioner=FakeCaptioner())
    item = setup.item_of(b"folder0/img0009.jpg")
    old = setup.catalog.captions(item)[0]["text"]
    os.remove(setup.root / "folder0/img0009.jpg")
    setup.run(captioner=FakeCaptioner())
    make_image(setup.root / "folder0/img0009.jpg", 4242, size=(30, 20))
    summary = setup.run(captioner=FakeCaptioner())
    assert summary.indexed == 1 and summary.items == 12
    captions = setup.catalog.captions(setup.item_of(b"folder0/img0009.jpg"))
    assert len(captions) == 1 and captions[0]["text"] != old and captions[0]["text"].endswith("30x20")


def test_file_moved_over_another_takes_its_place(setup):
    setup.run()
    moved_item = setup.item_of(b"folder1/img0007.jpg")
    setup.catalog.set_description(moved_item, "travels with the picture")
    os.replace(setup.root / "folder1/img0007.jpg", setup.root / "folder1/img0001.jpg")
    summary = setup.run()
    assert summary.moved == 1 and summary.items == 11
    assert setup.item_of(b"folder1/img0001.jpg") == moved_item
    assert setup.catalog.description(moved_item) == "travels with the picture"
    assert setup.catalog.file_id(b"folder1/img0007.jpg") is None


CALTECH = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "caltech101" / "101_ObjectCategories"
)


@pytest.mark.skipif(not CALTECH.is_dir(), reason="Caltech-101 sample data not present (../shared/data)")
def test_real_photographs_index_cleanly(tmp_path):
    root = tmp_path / "photos"
    for folder in ("accordion", "BACKGROUND_Google", "Faces_easy"):
        for src in sorted((CALTECH / folder).glob("*.jpg"))[:8]:
            (root / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(src, root / folder / src.name)
    s = Setup(root)
    summary = s.run(classifiers=[FakeClassifier()])
    assert summary.failed == 0 and summary.indexed == summary.items == 24
    sizes = s.catalog.conn.execute("SELECT min(width), max(width) FROM files").fetchone()
    assert sizes[0] > 0 and sizes[1] >= sizes[0]
    s.catalog.close()


def test_large_files_are_streamed_with_the_same_result(setup, tmp_path, monkeypatch):
    import store.ingestion.decode_work as decode_work

    setup.run()
    expected = setup.catalog.vectors(FakeEncoder.model_id)
    other = tmp_path / "copy"
    shutil.copytree(setup.root, other, ignore=shutil.ignore_patterns(".imago"))
    monkeypatch.setattr(decode_work, "STREAM_ABOVE_BYTES", 0)  # every file counts as "large"
    streamed = Setup(other)
    assert streamed.run().items == 12
    got = streamed.catalog.vectors(FakeEncoder.model_id)
    np.testing.assert_array_equal(got[1], expected[1])
    hashes = lambda cat: sorted(r[0] for r in cat.conn.execute("SELECT hash FROM files"))  # noqa: E731
    assert hashes(streamed.catalog) == hashes(setup.catalog)
    streamed.catalog.close()


class GreyEncoder(FakeEncoder):
    """A second image model for ensembles: the 8x8 grey thumbnail (mean-centred, L2-normalised)."""

    model_id = "fake-grey-v1"
    dim = 64
    input_size = 96

    def encode(self, images):
        self.calls.append(len(images))
        rows = []
        for img in images:
            grey = np.asarray(img.convert("L").resize((8, 8), Image.Resampling.BOX), np.float32).reshape(-1)
            grey = grey - grey.mean() + 1e-3 * np.arange(self.dim)
            rows.append(grey / np.linalg.norm(grey))
        return np.stack(rows).astype(np.float32)


def test_ensemble_model_vectors_are_stored_beside_the_first(setup):
    from store.storage.vector_index import index_file_name

    second = GreyEncoder()
    summary = setup.run(ensemble_encoder=second, region_detector=quadrant_detector)
    assert summary.failed == 0
    items = 12 * 3  # each file and its two regions
    models = sorted(setup.catalog.embedding_models())
    assert models == [("fake-grey-v1", 64, items), ("fake-stats-v1", 48, items)]
    assert second.calls == setup.encoder.calls  # one more model run per batch, on the same images
    assert (setup.location.path / index_file_name(second.model_id)).is_file()
    item = setup.item_of(b"folder2/img0005.jpg")
    image = Image.open(setup.root / "folder2/img0005.jpg").convert("RGB")
    _, stored = setup.catalog.vectors(second.model_id, [item])
    np.testing.assert_allclose(stored[0], second.encode([image])[0], atol=1e-6)
    vindex = VectorIndex.open(setup.location.path, second.model_id, second.dim, setup.catalog)
    assert vindex.search(stored[0], 1)[0][0] == item

    again = GreyEncoder()
    setup.run(ensemble_encoder=again, region_detector=quadrant_detector)
    assert again.embedded == 0  # nothing new


def test_ensemble_added_to_an_indexed_archive_embeds_what_it_lacks(setup):
    setup.run()
    first_calls = setup.encoder.embedded
    second = GreyEncoder()
    summary = setup.run(ensemble_encoder=second)
    assert second.embedded == 12 and summary.items == 12
    assert setup.encoder.embedded == first_calls + 12  # the first model's vectors are rewritten alike
    counts = {model_id: n for model_id, _, n in setup.catalog.embedding_models()}
    assert counts == {"fake-stats-v1": 12, "fake-grey-v1": 12}
    without = setup.run()  # the setting turned off again: nothing is embedded or dropped
    assert without.items == 12 and setup.encoder.embedded == first_calls + 12
