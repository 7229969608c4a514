"""Scanner: content sniffing, what the walk skips, change planning."""

from __future__ import annotations

import os

from store_fakes import make_image

from store.catalog import FileState
from store.errors import BrokenSymlinkError, EmptyFileError, NotAnImageError, SymlinkLoopError
from store.scanner import Entry, Problem, plan_scan, sniff, walk


def test_sniff_recognises_formats_by_content(tmp_path):
    for fmt, name in [("JPEG", "a.jpg"), ("PNG", "a.png"), ("GIF", "a.gif"), ("BMP", "a.bmp"),
                      ("TIFF", "a.tif"), ("WEBP", "a.webp")]:  # fmt: skip
        path = make_image(tmp_path / name, 1)
        assert sniff(path.read_bytes()[:32]) == fmt
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00") == "HEIF"
    assert sniff(b"plain text") is None


def test_walk_skips_hidden_index_and_system_folders_and_loops(tmp_path):
    make_image(tmp_path / "a" / "one.jpg", 1)
    make_image(tmp_path / ".imago" / "thumbs" / "x.jpg", 2)
    make_image(tmp_path / ".git" / "y.jpg", 3)
    make_image(tmp_path / "@eaDir" / "z.jpg", 4)
    make_image(tmp_path / "$RECYCLE.BIN" / "w.jpg", 5)
    make_image(tmp_path / "a" / ".hidden.jpg", 6)
    os.symlink("..", tmp_path / "a" / "loop")  # would recurse forever without loop detection
    os.symlink(tmp_path / "a", tmp_path / "alias")  # same folder reached twice: walked once
    found = list(walk(tmp_path))
    assert [e.raw_path for e in found] in ([b"a/one.jpg"], [b"alias/one.jpg"])


def test_walk_reports_broken_and_looping_links(tmp_path):
    os.symlink(tmp_path / "missing.jpg", tmp_path / "broken.jpg")
    os.symlink("self.jpg", tmp_path / "self.jpg")
    os.symlink(tmp_path / "missing.txt", tmp_path / "broken.txt")  # not an image name: ignored
    problems = {p.raw_path: type(p.error) for p in walk(tmp_path) if isinstance(p, Problem)}
    assert problems == {b"broken.jpg": BrokenSymlinkError, b"self.jpg": SymlinkLoopError}


def test_walk_handles_non_utf8_names(tmp_path):
    raw = os.path.join(os.fsencode(tmp_path), b"\xff\xfe.png")
    make_image(tmp_path / os.fsdecode(b"\xff\xfe.png"), 1)
    assert os.path.exists(raw)
    assert [e.raw_path for e in walk(tmp_path)] == [b"\xff\xfe.png"]


def test_walk_with_roots(tmp_path):
    make_image(tmp_path / "a" / "1.jpg", 1)
    make_image(tmp_path / "b" / "2.jpg", 2)
    assert [e.raw_path for e in walk(tmp_path, [b"b"])] == [b"b/2.jpg"]
    assert [e.raw_path for e in walk(tmp_path, [b"a/1.jpg", b"gone.jpg"])] == [b"a/1.jpg"]


def _state(i, raw, size, mtime, status="indexed"):
    return FileState(i, raw, size, mtime, f"h{i}", status)


def test_plan_sorts_new_changed_unchanged_vanished_and_problems(tmp_path):
    make_image(tmp_path / "same.jpg", 1)
    make_image(tmp_path / "changed.jpg", 2)
    make_image(tmp_path / "new.jpg", 3)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "notes.txt").write_text("hello")
    st = os.stat(tmp_path / "same.jpg")
    known = {
        b"same.jpg": _state(1, b"same.jpg", st.st_size, st.st_mtime_ns),
        b"changed.jpg": _state(2, b"changed.jpg", 1, 1),
        b"deleted.jpg": _state(3, b"deleted.jpg", 1, 1),
        b"old-missing.jpg": _state(4, b"old-missing.jpg", 1, 1, status="missing"),
    }
    plan = plan_scan(tmp_path, known, walk(tmp_path))
    assert [e.raw_path for e in plan.unchanged] == [b"same.jpg"]
    assert [(e.raw_path, s.id) for e, s in plan.changed] == [(b"changed.jpg", 2)]
    assert [e.raw_path for e in plan.new] == [b"new.jpg"]
    assert [s.id for s in plan.vanished] == [3]
    assert {p.raw_path: type(p.error) for p in plan.problems} == {
        b"empty.jpg": EmptyFileError,
        b"text.jpg": NotAnImageError,
    }


def test_plan_with_roots_only_vanishes_inside_them(tmp_path):
    known = {b"a/x.jpg": _state(1, b"a/x.jpg", 1, 1), b"b/y.jpg": _state(2, b"b/y.jpg", 1, 1)}
    plan = plan_scan(tmp_path, known, [], roots=[b"a"])
    assert [s.id for s in plan.vanished] == [1]
    assert isinstance(Entry(b"x", 1, 1), Entry)
