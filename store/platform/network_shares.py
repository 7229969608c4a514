"""Whether a folder lives on a network share, where change events from other machines never arrive.

- Linux: the type of the longest mount point holding the path in `/proc/mounts` (proc(5)).
- macOS: statfs(2). `os.statvfs` is not enough (its f_flag has only ST_RDONLY and ST_NOSUID), so
  statfs is called through ctypes: network when MNT_LOCAL is clear or the type name is a network
  one (smbfs, nfs, afpfs, webdav, macFUSE...).
- Windows: UNC paths (`\\\\server\\share`, `\\\\?\\UNC\\server\\share`) are shares; a drive letter is
  one when GetDriveTypeW says DRIVE_REMOTE (mapped drives, `net use Z: \\\\server\\share`).
  `Path.resolve()` may already turn a mapped drive into its UNC path; both answer the same.
Anything that cannot be determined counts as local (native events, as before).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import struct
import sys
from collections.abc import Callable
from pathlib import Path

LINUX_NETWORK_TYPES = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "9p", "ceph", "glusterfs", "lustre",
        "gpfs", "beegfs", "davfs", "sshfs", "fuse.sshfs", "fuse.rclone", "fuse.davfs2", "fuse.s3fs",
        "fuse.glusterfs", "fuse.gvfsd-fuse", "fuse.smbnetfs", "fuse.curlftpfs",
    }
)  # fmt: skip
MACOS_NETWORK_TYPES = frozenset({"nfs", "smbfs", "afpfs", "webdav", "ftp", "cifs", "macfuse", "osxfuse"})

# <sys/mount.h>, 64-bit-inode struct statfs (the only layout on arm64; `statfs$INODE64` on x86_64):
# f_bsize, f_iosize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid[2], f_owner, f_type, f_flags,
# f_fssubtype, f_fstypename[16], f_mntonname[1024], f_mntfromname[1024], f_flags_ext, f_reserved[7].
MACOS_STATFS = struct.Struct("=IiQQQQQiiIIII16s1024s1024sI7I")
MNT_LOCAL = 0x00001000
DRIVE_REMOTE = 4  # GetDriveTypeW

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
_DRIVE = re.compile(r"[A-Za-z]:")


def is_network_filesystem(
    path: Path | str, mounts: str = "/proc/mounts", platform: str = sys.platform
) -> bool:
    """Whether change events are unreliable at `path` (a network share): poll there instead."""
    if platform == "win32":
        return is_windows_network_path(os.fspath(path), _drive_type)
    if platform == "darwin":
        raw = _macos_statfs(path)
        return raw is not None and is_macos_network(raw)
    return filesystem_type(path, mounts) in LINUX_NETWORK_TYPES


# Linux


def filesystem_type(path: Path | str, mounts: str = "/proc/mounts") -> str | None:
    """The type of the filesystem holding `path`, from the mount table file `mounts`; None if unknown."""
    try:
        text = Path(mounts).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None
    return mount_table_type(os.path.realpath(path), text)


def mount_table_type(target: str, table: str) -> str | None:
    """The type of the longest mount point holding the absolute path `target` in a /proc/mounts text."""
    best, best_type = "", None
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = unescape_mount_field(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, best_type = point, fields[2]
    return best_type


def unescape_mount_field(field: str) -> str:
    """A /proc/mounts field with its octal escapes (`\\040` space, `\\011` tab, `\\134` backslash) undone."""
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


# macOS


def is_macos_network(raw: bytes) -> bool:
    """Whether a struct statfs buffer (as statfs(2) fills it on macOS) describes a network filesystem."""
    fields = MACOS_STATFS.unpack_from(raw)
    flags, type_name = fields[11], fields[13].split(b"\0", 1)[0].decode("ascii", "replace")
    return not flags & MNT_LOCAL or type_name in MACOS_NETWORK_TYPES


def _macos_statfs(path: Path | str) -> bytes | None:  # pragma: no cover - macOS only
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    try:
        statfs = libc["statfs$INODE64"]  # x86_64: the 64-bit-inode layout has this name
    except AttributeError:
        statfs = libc.statfs  # arm64: only one layout
    buffer = ctypes.create_string_buffer(MACOS_STATFS.size + 256)  # room for a longer future struct
    if statfs(os.fsencode(path), buffer) != 0:
        return None
    return buffer.raw


# Windows


def windows_volume_root(path: str) -> tuple[str, str] | None:
    """("unc", `\\\\server\\share\\`) or ("drive", `C:\\`) for an absolute Windows path; None otherwise.
    Also reads the `\\\\?\\` and `\\\\.\\` forms (`\\\\?\\UNC\\server\\share`, `\\\\?\\C:\\`)."""
    p = path.replace("/", "\\")
    upper = p.upper()
    for prefix in ("\\\\?\\", "\\\\.\\"):
        if upper.startswith(prefix + "UNC\\"):
            return _unc_root(p[len(prefix) + 4 :])
        if upper.startswith(prefix):
            rest = p[len(prefix) :]
            return ("drive", rest[:2].upper() + "\\") if _DRIVE.match(rest) else None
    if p.startswith("\\\\"):
        return _unc_root(p[2:])
    if _DRIVE.match(p):
        return "drive", p[:2].upper() + "\\"
    return None


def _unc_root(rest: str) -> tuple[str, str] | None:
    server, _, tail = rest.partition("\\")
    share = tail.partition("\\")[0]
    return ("unc", f"\\\\{server}\\{share}\\") if server and share else None


def is_windows_network_path(path: str, drive_type: Callable[[str], int]) -> bool:
    """UNC paths are shares; a drive is one when `drive_type(root)` (GetDriveTypeW) is DRIVE_REMOTE."""
    root = windows_volume_root(path)
    if root is None:
        return False
    kind, where = root
    return kind == "unc" or drive_type(where) == DRIVE_REMOTE


def _drive_type(root: str) -> int:  # pragma: no cover - Windows only
    return ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root))
