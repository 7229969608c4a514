"""The desktop-integration files and the Linux install/uninstall scripts (no PyInstaller build needed)."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging_support import ROOT
from PIL import Image

PACKAGING = ROOT / "packaging"
LINUX = PACKAGING / "linux"
IMAGE_MIME_TYPES = {"image/jpeg", "image/png", "image/tiff", "image/webp", "image/gif", "image/bmp"}

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux desktop integration")


def _desktop_entry(path: Path, group: str = "Desktop Entry") -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser[group])


def test_menu_entry_starts_the_gui():
    entry = _desktop_entry(LINUX / "imago.desktop")
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "imago"
    assert entry["Icon"] == "imago"
    assert "MimeType" not in entry  # it would make the plain launcher open images as archives


def test_find_similar_is_offered_for_images_in_every_file_manager():
    open_with = _desktop_entry(LINUX / "imago-find-similar.desktop")
    assert open_with["Name"] == "Find similar in Imago"
    assert open_with["Exec"] == "imago --find-similar %f"
    assert open_with["NoDisplay"] == "true"
    assert set(open_with["MimeType"].strip(";").split(";")) >= IMAGE_MIME_TYPES

    nemo = _desktop_entry(LINUX / "imago-find-similar.nemo_action", "Nemo Action")
    assert nemo["Exec"] == "imago --find-similar %F" and nemo["Selection"] == "s"
    assert set(nemo["Mimetypes"].strip(";").split(";")) >= IMAGE_MIME_TYPES

    dolphin_file = LINUX / "imago-find-similar-dolphin.desktop"
    dolphin = _desktop_entry(dolphin_file)
    assert dolphin["X-KDE-ServiceTypes"] == "KonqPopupMenu/Plugin"
    assert set(dolphin["MimeType"].strip(";").split(";")) >= IMAGE_MIME_TYPES
    assert _desktop_entry(dolphin_file, "Desktop Action findSimilar")["Exec"] == "imago --find-similar %f"


def _reg_values(path: Path) -> dict[tuple[str, str], str]:
    """(key, value name) -> decoded string for the string and REG_EXPAND_SZ values of a .reg file."""
    text = path.read_bytes().decode("ascii").replace("\\\r\n", "")
    values, key = {}, None
    for line in text.split("\r\n"):
        line = line.strip()
        if line.startswith("["):
            key = line.strip("[]")
        elif match := re.fullmatch(r'(@|"[^"]+")=hex\(2\):([0-9a-f,\s]+)', line):
            raw = bytes(int(b, 16) for b in match.group(2).replace(" ", "").split(","))
            values[key, match.group(1).strip('"')] = raw.decode("utf-16-le").rstrip("\0")
        elif match := re.fullmatch(r'(@|"[^"]+")="(.*)"', line):
            values[key, match.group(1).strip('"')] = match.group(2)
    return values


def test_windows_registry_script_runs_the_windowed_exe_with_find_similar():
    reg = PACKAGING / "windows" / "imago-context-menu.reg"
    assert reg.read_bytes().startswith(b"Windows Registry Editor Version 5.00\r\n")
    key = r"HKEY_CURRENT_USER\Software\Classes\SystemFileAssociations\image\shell\ImagoFindSimilar"
    exe = r"%LOCALAPPDATA%\Programs\Imago\imago-gui.exe"
    assert _reg_values(reg) == {
        (key, "MUIVerb"): "Find similar in Imago",
        (key, "Icon"): exe + ",0",
        (key + r"\command", "@"): f'"{exe}" --find-similar "%1"',
    }
    remove = (PACKAGING / "windows" / "imago-context-menu-remove.reg").read_text()
    assert f"[-{key}]" in remove


def test_icons_exist_in_every_format():
    svg = (ROOT / "resources" / "icons" / "imago.svg").read_text()
    assert svg.lstrip().startswith("<svg") and 'viewBox="0 0 256 256"' in svg
    with Image.open(ROOT / "resources" / "icons" / "imago.png") as png:
        assert png.size == (256, 256) and png.mode == "RGBA"
    with Image.open(ROOT / "resources" / "icons" / "imago.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= ico.info["sizes"]


def _fake_bundle(root: Path) -> Path:
    """Stands in for dist/imago: an executable `imago` and the bundled icons."""
    bundle = root / "dist" / "imago"
    icons = bundle / "_internal" / "resources" / "icons"
    icons.mkdir(parents=True)
    for name in ("imago.svg", "imago.png"):
        shutil.copy2(ROOT / "resources" / "icons" / name, icons / name)
    exe = bundle / "imago"
    exe.write_text('#!/bin/sh\necho "fake imago $*"\n')
    exe.chmod(0o755)
    return bundle


@linux_only
def test_install_and_uninstall_for_the_user(tmp_path):
    home = tmp_path / "home with space"
    data = home / ".local" / "share"
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(data), "PATH": "/usr/bin:/bin"}
    bundle = _fake_bundle(tmp_path)
    installed_exe = data / "imago-app" / "app" / "imago"

    for _ in range(2):  # the second run updates in place
        result = subprocess.run(
            [str(PACKAGING / "install-linux"), str(bundle)], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    assert os.access(installed_exe, os.X_OK)
    link = home / ".local" / "bin" / "imago"
    assert link.resolve() == installed_exe
    assert subprocess.run([str(link), "--version"], capture_output=True, text=True).stdout == (
        "fake imago --version\n"
    )

    quoted = f'"{installed_exe}"'
    assert _desktop_entry(data / "applications" / "imago.desktop")["Exec"] == quoted
    open_with = _desktop_entry(data / "applications" / "imago-find-similar.desktop")
    assert open_with["Exec"] == f"{quoted} --find-similar %f"
    assert open_with["TryExec"] == str(installed_exe)
    nemo = data / "nemo" / "actions" / "imago-find-similar.nemo_action"
    assert _desktop_entry(nemo, "Nemo Action")["Exec"] == f"{quoted} --find-similar %F"
    for dolphin in ("kio/servicemenus", "kservices5/ServiceMenus"):
        menu = data / dolphin / "imago-find-similar.desktop"
        assert os.access(menu, os.X_OK)
        assert _desktop_entry(menu, "Desktop Action findSimilar")["Exec"] == f"{quoted} --find-similar %f"
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "imago.svg").is_file()
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / "imago.png").is_file()

    script = data / "nautilus" / "scripts" / "Find similar in Imago"
    picked = subprocess.run(
        [str(script)],
        env={**env, "NAUTILUS_SCRIPT_SELECTED_FILE_PATHS": "/archive/a b.jpg\n/archive/c.jpg\n"},
        capture_output=True,
        text=True,
    )
    assert picked.stdout == "fake imago --find-similar /archive/a b.jpg\n"

    keep = data / "applications" / "other-app.desktop"
    keep.write_text("[Desktop Entry]\n")
    result = subprocess.run([str(PACKAGING / "uninstall-linux")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not (data / "imago-app").exists()
    assert not link.exists() and not link.is_symlink()
    caches = ("icon-theme.cache", "mimeinfo.cache")  # the desktop's shared caches, refreshed not removed
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and p.name not in caches)
    assert left == [str(keep.relative_to(home))]
    assert bundle.joinpath("imago").is_file()  # the source bundle is untouched
