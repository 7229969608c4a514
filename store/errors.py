"""Typed errors of the store: why a file could not be indexed, and catalog/index failures.

Each file-level error has a short stable `kind` that the catalog records next to the message, so the
CLI summary, the GUI and tests can tell a truncated JPEG from a decompression bomb.
"""

from __future__ import annotations

from models.errors import ImageDecodeError, ImagoError


class FileIndexError(ImageDecodeError):
    """Base of the per-file errors recorded in the catalog (`files.error_kind`, `files.error`)."""

    kind = "error"


class EmptyFileError(FileIndexError):
    kind = "empty_file"


class NotAnImageError(FileIndexError):
    kind = "not_an_image"


class UnsupportedImageError(FileIndexError):
    kind = "unsupported"


class TruncatedImageError(FileIndexError):
    kind = "truncated"


class CorruptImageError(FileIndexError):
    kind = "corrupt"


class ImageTooLargeError(FileIndexError):
    kind = "too_large"


class DecompressionBombError(FileIndexError):
    kind = "decompression_bomb"


class UnreadableFileError(FileIndexError):
    kind = "unreadable"


class BrokenSymlinkError(FileIndexError):
    kind = "broken_symlink"


class SymlinkLoopError(FileIndexError):
    kind = "symlink_loop"


class CatalogError(ImagoError):
    """The catalog database cannot be opened, is of a newer schema, or is corrupt."""


class NotACatalogError(CatalogError):
    """A file exists where the catalog should be but is not a valid Imago catalog (empty, not SQLite,
    another program's database, tables missing). It is never replaced by a new, empty catalog."""


class ReadOnlyIndexError(CatalogError):
    """The archive's index is on a read-only medium or folder: it can be searched and browsed, but
    indexing cannot update it and curator edits cannot be saved in it."""


class BackupError(CatalogError):
    """A catalog backup cannot be made, listed or restored."""


class IndexLockError(ImagoError):
    """The indexer lock file of an archive cannot be created or locked."""


class IndexerBusyError(IndexLockError):
    """Another indexer (another process, or another run in this one) holds the archive's index."""


class VectorIndexError(ImagoError):
    """A vector index file is unusable (wrong model, dimension or corrupt); callers rebuild it."""


class ArchiveError(ImagoError):
    """The archive folder does not exist or is not a folder."""
