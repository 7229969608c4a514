"""Network-share detection: every platform's branch from its raw inputs (runs on any machine)."""

from __future__ import annotations

import pytest

from store.platform.network_shares import (
    DRIVE_REMOTE,
    MACOS_STATFS,
    MNT_LOCAL,
    filesystem_type,
    is_macos_network,
    is_network_filesystem,
    is_windows_network_path,
    mount_table_type,
    unescape_mount_field,
    windows_volume_root,
)

MOUNTS = (
    "/dev/sda1 / ext4 rw 0 0\n"
    "server:/export /mnt/archive nfs4 rw 0 0\n"
    "//nas/photos /mnt/my\\040photos cifs rw 0 0\n"
    "curator@host:/pics /mnt/ssh fuse.sshfs rw 0 0\n"
    "/dev/sdb1 /mnt/archive/local ext4 rw 0 0\n"
    "broken-line\n"
)


def test_linux_mount_table_longest_mount_point_wins():
    assert mount_table_type("/mnt/archive/2019", MOUNTS) == "nfs4"
    assert mount_table_type("/mnt/archive", MOUNTS) == "nfs4"
    assert mount_table_type("/mnt/archive/local/a", MOUNTS) == "ext4"
    assert mount_table_type("/mnt/archived", MOUNTS) == "ext4"  # a prefix of the name is not inside
    assert mount_table_type("/mnt/my photos/a", MOUNTS) == "cifs"
    assert mount_table_type("/x", "") is None


def test_linux_mount_fields_unescape_octal():
    assert unescape_mount_field(r"/mnt/a\040b\011c\134d") == "/mnt/a b\tc\\d"


@pytest.mark.parametrize(
    ("path", "network"),
    [("/mnt/archive/x", True), ("/mnt/my photos", True), ("/mnt/ssh/a", True), ("/home/c", False),
     ("/mnt/archive/local/a", False)],
)  # fmt: skip
def test_linux_branch(tmp_path, path, network):
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    assert is_network_filesystem(path, str(mounts), platform="linux") is network


def test_linux_branch_without_a_mount_table_is_local(tmp_path):
    assert filesystem_type("/x", str(tmp_path / "missing")) is None
    assert not is_network_filesystem("/x", str(tmp_path / "missing"), platform="linux")


def _statfs(type_name: bytes, flags: int) -> bytes:
    fields = [4096, 1 << 20, 1, 1, 1, 1, 1, 0, 0, 501, 17, flags, 0, type_name, b"/Volumes/x", b"//nas/x", 0]
    return MACOS_STATFS.pack(*fields, *[0] * 7) + b"\0" * 256


def test_macos_statfs_buffer():
    assert MACOS_STATFS.size == 2168  # sizeof(struct statfs), 64-bit-inode layout
    assert not is_macos_network(_statfs(b"apfs", MNT_LOCAL | 0x1))
    assert is_macos_network(_statfs(b"smbfs", 0))
    assert is_macos_network(_statfs(b"nfs", 0))
    assert is_macos_network(_statfs(b"macfuse", 0))  # sshfs through macFUSE: not local
    assert is_macos_network(_statfs(b"webdav", MNT_LOCAL))  # by name even if marked local


@pytest.mark.parametrize(
    ("path", "root"),
    [
        (r"\\nas\photos\2019\a.jpg", ("unc", "\\\\nas\\photos\\")),
        (r"\\nas\photos", ("unc", "\\\\nas\\photos\\")),
        ("//nas/photos/x", ("unc", "\\\\nas\\photos\\")),
        (r"\\?\UNC\nas\photos\x", ("unc", "\\\\nas\\photos\\")),
        (r"\\?\unc\nas\photos", ("unc", "\\\\nas\\photos\\")),
        (r"\\?\C:\Archive", ("drive", "C:\\")),
        (r"\\.\d:\Archive", ("drive", "D:\\")),
        (r"z:\Archive", ("drive", "Z:\\")),
        ("Z:/Archive", ("drive", "Z:\\")),
        (r"\\nas", None),  # a server without a share
        (r"\\?\Volume{0b3b5a3c-1}\x", None),
        (r"relative\path", None),
    ],
)
def test_windows_volume_roots(path, root):
    assert windows_volume_root(path) == root


def test_windows_unc_paths_and_mapped_drives_are_shares():
    asked = []

    def drive_type(root: str) -> int:
        asked.append(root)
        return DRIVE_REMOTE if root == "Z:\\" else 3  # DRIVE_FIXED

    assert is_windows_network_path(r"\\nas\photos\a", drive_type)
    assert is_windows_network_path(r"\\?\UNC\nas\photos\a", drive_type)
    assert is_windows_network_path(r"Z:\Museum", drive_type)
    assert not is_windows_network_path(r"C:\Museum", drive_type)
    assert not is_windows_network_path(r"relative", drive_type)
    assert asked == ["Z:\\", "C:\\"]  # UNC paths need no system call


def test_windows_branch_of_the_dispatch_with_a_unc_path():
    assert is_network_filesystem(r"\\nas\photos\2019", platform="win32")


def test_unknown_platforms_read_the_mount_table(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    assert is_network_filesystem("/mnt/archive", str(mounts), platform="freebsd14")
