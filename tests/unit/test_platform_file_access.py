"""open_regular's Windows shape of errors, simulated: a folder cannot be opened there at all."""

from __future__ import annotations

import os

import pytest

from store.errors import NotAnImageError, UnreadableFileError
from store.ingestion import file_access


def test_a_folder_refused_with_access_denied_is_still_a_folder(tmp_path, monkeypatch):
    def windows_open(path, flags, *args):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(file_access.os, "open", windows_open)
    with pytest.raises(NotAnImageError, match="folder"):
        file_access.open_regular(tmp_path)
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    with pytest.raises(UnreadableFileError, match="permission denied"):
        file_access.open_regular(image)


def test_a_folder_opened_posix_style_is_refused(tmp_path):
    if os.name == "nt":
        pytest.skip("POSIX only")
    with pytest.raises(NotAnImageError, match="folder"):
        file_access.open_regular(tmp_path)
