"""Scanner: content sniffing, what the walk skips, change planning."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest
from store_fakes import make_image

from store.errors import (
    BrokenSymlinkError,
    EmptyFileError,
    NotAnImageError,
    SymlinkLoopError,
    UnreadableFileError,
)
from store.ingestion.scanner import (
    Entry,
    Problem,
    _file_entry,
    _is_hidden,
    classify_content,
    plan_scan,
    sniff,
    walk,
)
from store.storage.files import FileState


def test_sniff_recognises_formats_by_content(tmp_path):
    for fmt, name in [("JPEG", "a.jpg"), ("PNG", "a.png"), ("GIF", "a.gif"), ("BMP", "a.bmp"),
                      ("TIFF", "a.tif"), ("WEBP", "a.webp")]:  # fmt: skip
        path = make_image(tmp_path / name, 1)
        assert sniff(path.read_bytes()[:32]) == fmt
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00") == "HEIF"
    assert sniff(b"plain text") is None


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"\xff\xd8\x00\xe0", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"\x89PNG\r\n\x1a", None),
        (b"GIF87a\x01\x00", "GIF"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"GIF88a\x01\x00", None),
        (b"BM" + bytes(12), "BMP"),
        (b"BM" + bytes(11), None),  # too short for a BMP header: a text file starting "BM"
        (b"II*\x00\x08\x00", "TIFF"),
        (b"MM\x00*\x00\x00", "TIFF"),
        (b"II+\x00\x08\x00", "TIFF"),  # BigTIFF
        (b"MM\x00+\x00\x08", "TIFF"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        *[
            (b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00", "HEIF")
            for brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif")
        ],
        (b"\x00\x00\x00\x18ftypisom\x00\x00", None),  # an MP4 video
        (b"\x00\x00\x00\x18moovheic\x00\x00", None),
        (b"", None),
    ],
)
def test_sniff_by_magic_bytes(head, fmt):
    assert sniff(head) == fmt


def test_windows_hidden_and_system_files_are_skipped():
    def attrs(value):
        return SimpleNamespace(st_file_attributes=value)

    assert _is_hidden(b"photo.jpg", attrs(stat.FILE_ATTRIBUTE_HIDDEN))
    assert _is_hidden(b"Thumbs.jpg", attrs(stat.FILE_ATTRIBUTE_SYSTEM | stat.FILE_ATTRIBUTE_ARCHIVE))
    assert not _is_hidden(b"photo.jpg", attrs(stat.FILE_ATTRIBUTE_ARCHIVE | stat.FILE_ATTRIBUTE_READONLY))
    assert not _is_hidden(b"photo.jpg", None) and _is_hidden(b".photo.jpg", None)
    assert not _is_hidden(b"photo.jpg", os.stat(__file__))  # POSIX stat: no attributes


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


def test_rewrite_at_the_same_size_with_a_new_mtime_is_a_change(tmp_path):
    path = make_image(tmp_path / "edited.jpg", 1)
    before = os.stat(path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # new content, same length (the header still says JPEG)
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    after = os.stat(path)
    assert after.st_size == before.st_size and after.st_mtime_ns != before.st_mtime_ns
    known = {b"edited.jpg": _state(1, b"edited.jpg", before.st_size, before.st_mtime_ns)}
    plan = plan_scan(tmp_path, known, walk(tmp_path))
    assert [(e.raw_path, e.mtime_ns, s.id) for e, s in plan.changed] == [
        (b"edited.jpg", after.st_mtime_ns, 1)
    ]
    assert plan.unchanged == [] and plan.new == []
    # The same size and mtime as the catalog row: unchanged, the file is not even opened.
    same = {b"edited.jpg": _state(1, b"edited.jpg", after.st_size, after.st_mtime_ns)}
    assert [e.raw_path for e in plan_scan(tmp_path, same, walk(tmp_path)).unchanged] == [b"edited.jpg"]


def test_plan_with_roots_only_vanishes_inside_them(tmp_path):
    known = {
        b"a/x.jpg": _state(1, b"a/x.jpg", 1, 1),
        b"b/y.jpg": _state(2, b"b/y.jpg", 1, 1),
        b"ab/z.jpg": _state(3, b"ab/z.jpg", 1, 1),
    }
    plan = plan_scan(tmp_path, known, [], roots=[b"a"])
    assert [s.id for s in plan.vanished] == [1]  # "ab/" is not inside "a"
    assert [s.id for s in plan_scan(tmp_path, known, [], roots=[b"b/y.jpg"]).vanished] == [2]
    assert [s.id for s in plan_scan(tmp_path, known, [], roots=[b""]).vanished] == [1, 2, 3]
    # A file the walk found is not vanished, whatever its row says.
    found = [Entry(b"a/x.jpg", 1, 1)]
    assert [s.id for s in plan_scan(tmp_path, known, found, roots=[b"a"]).vanished] == []


# -- what the walk and the content check report (the failures list shows these messages) --------


def test_link_problems_name_the_file_even_when_it_is_not_utf8(tmp_path):
    os.symlink(b"gone-\xff.jpg", os.path.join(os.fsencode(tmp_path), b"broken-\xff.jpg"))
    os.symlink("loop.jpg", tmp_path / "loop.jpg")
    problems = {p.raw_path: str(p.error) for p in walk(tmp_path)}
    assert problems == {
        b"broken-\xff.jpg": "broken symbolic link: broken-\\xff.jpg -> gone-\udcff.jpg",
        b"loop.jpg": "symbolic link loop: loop.jpg",
    }


def test_a_file_that_cannot_be_stat_ed_is_reported_by_name(tmp_path, monkeypatch):
    make_image(tmp_path / "a" / "denied.jpg", 1)
    (tmp_path / "a" / "notes.txt").write_text("x")
    real_stat = os.stat

    def stat_(path, *args, **kwargs):
        if os.fsdecode(path).endswith(("denied.jpg", "notes.txt")):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat_)
    found = list(walk(tmp_path, [b"a/denied.jpg", b"a/notes.txt"]))  # named roots are stat-ed directly
    assert [(p.raw_path, type(p.error), str(p.error)) for p in found] == [
        (b"a/denied.jpg", UnreadableFileError, "cannot read a/denied.jpg: Permission denied")
    ]


def test_one_bad_folder_does_not_stop_the_walk(tmp_path, monkeypatch):
    for folder in ("a", "b", "c", "d"):
        make_image(tmp_path / folder / "x.jpg", 1)
    real_scandir, real_stat = os.scandir, os.stat

    def scandir(path):
        if os.fsdecode(path).endswith("/c"):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path)

    def stat_(path, *args, **kwargs):
        if os.fsdecode(path).endswith("/b"):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat_)
    found = [e.raw_path for e in walk(tmp_path) if isinstance(e, Entry)]
    assert found == [b"a/x.jpg", b"d/x.jpg"]  # b cannot be entered, c cannot be listed


def test_walk_goes_on_after_a_folder_loop(tmp_path):
    make_image(tmp_path / "a" / "one.jpg", 1)
    os.symlink("..", tmp_path / "a" / "b-loop")  # sorted before "c": met before the last folder
    make_image(tmp_path / "c" / "two.jpg", 2)
    assert [e.raw_path for e in walk(tmp_path)] == [b"a/one.jpg", b"c/two.jpg"]


def test_windows_hidden_files_are_skipped_by_the_walk(tmp_path):
    path = make_image(tmp_path / "desktop.jpg", 1)
    st = os.stat(path)
    hidden = SimpleNamespace(
        st_mode=st.st_mode, st_size=st.st_size, st_mtime_ns=st.st_mtime_ns,
        st_file_attributes=stat.FILE_ATTRIBUTE_HIDDEN,
    )  # fmt: skip
    entry = SimpleNamespace(stat=lambda: hidden)
    assert list(_file_entry(b"desktop.jpg", os.fsencode(path), entry)) == []
    plain = SimpleNamespace(stat=lambda: st)
    assert list(_file_entry(b"desktop.jpg", os.fsencode(path), plain)) == [
        Entry(b"desktop.jpg", st.st_size, st.st_mtime_ns)
    ]


def _entry(root, name: bytes) -> Entry:
    st = os.stat(os.path.join(os.fsencode(root), name))
    return Entry(name, st.st_size, st.st_mtime_ns)


def test_content_check_messages(tmp_path):
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, b"empty-\xff.jpg"), "wb"):
        pass
    with open(os.path.join(root, b"text-\xff.png"), "wb") as fh:
        fh.write(b"hello, not a picture")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "text.txt").write_text("hello")
    make_image(tmp_path / "real.jpg", 1)
    empty = classify_content(tmp_path, _entry(tmp_path, b"empty-\xff.jpg"))
    assert isinstance(empty, EmptyFileError) and str(empty) == "empty file (0 bytes): empty-\\xff.jpg"
    text = classify_content(tmp_path, _entry(tmp_path, b"text-\xff.png"))
    assert isinstance(text, NotAnImageError)
    assert str(text) == "not a recognised image (content does not match any image format): text-\\xff.png"
    # Files not named like images are ignored, whatever their content.
    assert classify_content(tmp_path, _entry(tmp_path, b"empty.txt")) is None
    assert classify_content(tmp_path, _entry(tmp_path, b"text.txt")) is None
    assert classify_content(tmp_path, _entry(tmp_path, b"real.jpg")) is True


def test_content_check_of_unreadable_and_vanished_files(tmp_path, monkeypatch):
    make_image(tmp_path / "locked-\xe9.jpg", 1)
    (tmp_path / "locked.txt").write_text("x")
    entries = {name: _entry(tmp_path, name) for name in ("locked-\xe9.jpg".encode(), b"locked.txt")}
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if b"locked" in os.fsencode(path):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    denied = classify_content(tmp_path, entries["locked-\xe9.jpg".encode()])
    assert isinstance(denied, UnreadableFileError) and str(denied) == "permission denied: locked-\xe9.jpg"
    assert classify_content(tmp_path, entries[b"locked.txt"]) is None
    monkeypatch.undo()
    gone = Entry(b"gone.jpg", 10, 1)  # found by the walk, deleted before its content was checked
    vanished = classify_content(tmp_path, gone)
    assert isinstance(vanished, UnreadableFileError)
    assert str(vanished) == "cannot read gone.jpg: No such file or directory"
    assert classify_content(tmp_path, Entry(b"gone.txt", 10, 1)) is None


def test_a_former_image_that_is_no_image_any_more_has_vanished(tmp_path):
    (tmp_path / "scan-0001").write_text("now a text file")  # no extension: sniffed, not an image now
    st = os.stat(tmp_path / "scan-0001")
    known = {b"scan-0001": _state(7, b"scan-0001", 1, 1)}  # was an image when last indexed
    plan = plan_scan(tmp_path, known, [Entry(b"scan-0001", st.st_size, st.st_mtime_ns)])
    assert [s.id for s in plan.vanished] == [7]
    assert plan.problems == [] and plan.changed == [] and plan.new == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX-only")
def test_a_pipe_named_like_an_image_is_reported_with_its_name_escaped(tmp_path):
    os.mkfifo(os.path.join(os.fsencode(tmp_path), b"pipe-\xff.jpg"))
    problems = [(p.raw_path, type(p.error), str(p.error)) for p in walk(tmp_path)]
    assert problems == [
        (b"pipe-\xff.jpg", NotAnImageError, "not a regular file (a named pipe): pipe-\\xff.jpg")
    ]


def test_system_folders_are_matched_as_each_platform_names_them():
    import stat
    from types import SimpleNamespace

    from store.ingestion.scanner import is_system_dir

    hidden = SimpleNamespace(st_file_attributes=stat.FILE_ATTRIBUTE_HIDDEN)
    plain = SimpleNamespace(st_file_attributes=stat.FILE_ATTRIBUTE_DIRECTORY)
    assert is_system_dir(b"$RECYCLE.BIN", platform="posix")
    assert is_system_dir(b".git", platform="posix")
    assert not is_system_dir(b"$Recycle.Bin", platform="posix")  # case-sensitive: an ordinary name there
    assert is_system_dir(b"$Recycle.Bin", platform="nt")
    assert is_system_dir(b"system volume information", platform="nt")
    assert is_system_dir(b"Thumbs folder", hidden, platform="nt")
    assert not is_system_dir(b"Thumbs folder", hidden, platform="posix")
    assert not is_system_dir(b"Photos 1912", plain, platform="nt")
