"""Small memos in the user's cache folder, so that a warm start skips work whose answer is known.

Each memo is one file named by the SHA-256 of everything its answer depends on (the inputs, the
code that computes it and the versions of the libraries it calls), as Numba keys its cache: a
change to any of them is a new key, so a memo is never stale, only unused. The folder is
``platformdirs.user_cache_dir("simulate")`` (``~/.cache/simulate`` on Linux), or
``$SIMULATE_CACHE_DIR``; an empty ``SIMULATE_CACHE_DIR`` turns memos off. A cache that cannot be
read or written is ignored: the work is then done every time, never skipped wrongly.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

MAX_ENTRIES = 512     # per kind of memo; the oldest are removed beyond it


def cache_dir(kind: str) -> Path | None:
    """The folder of one kind of memo (not created), or None when memos are off.

    Parameters
    ----------
    kind : str
        A folder name such as ``"unit-check"``.

    Returns
    -------
    pathlib.Path or None
    """
    root = os.environ.get("SIMULATE_CACHE_DIR")
    if root is None:
        import platformdirs

        root = platformdirs.user_cache_dir("simulate", appauthor=False)
    return Path(root) / kind if root else None


def digest(*parts) -> str:
    """The SHA-256 of ``parts`` (str or bytes), each length-prefixed so that no two lists collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def source_digest(*folders_or_files: str) -> str:
    """The SHA-256 of the Python sources under these paths of the package (``"spec"``, ``"units.py"``)."""
    package = Path(__file__).parent
    files = []
    for name in folders_or_files:
        path = package / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return digest(*[p.relative_to(package).as_posix().encode() + b"\0" + p.read_bytes() for p in files])


@functools.lru_cache(maxsize=None)
def version_of(distribution: str) -> str:
    """An installed distribution's version, read from its metadata (the package is not imported)."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def read(kind: str, key: str) -> bytes | None:
    """The memo of ``kind`` under ``key``, or None when there is none (or it cannot be read)."""
    folder = cache_dir(kind)
    if folder is None:
        return None
    try:
        return (folder / key).read_bytes()
    except OSError:
        return None


def write(kind: str, key: str, data: bytes = b"") -> None:
    """Store a memo (best effort): written under a temporary name and renamed into place, so a
    reader sees the whole memo or none; beyond MAX_ENTRIES the oldest memos of ``kind`` go."""
    folder = cache_dir(kind)
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / key)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(folder)
    except OSError:
        pass


def remembered_array(kind: str, key: str, dtype: str, size: int, compute):
    """``compute()`` as a flat array of ``size`` items of ``dtype``, remembered under ``key``: read
    back when a whole memo is there, else computed and stored.

    Parameters
    ----------
    kind, key : str
        As for :func:`read` and :func:`write`.
    dtype : str
        A fixed-endian numpy dtype such as ``"<f8"``.
    size : int
        The number of items; a memo of another length is recomputed.
    compute : callable
        Returns the array (any shape with ``size`` items).

    Returns
    -------
    numpy.ndarray
    """
    import numpy as np

    memo = read(kind, key)
    if memo is not None and len(memo) == size * np.dtype(dtype).itemsize:
        return np.frombuffer(memo, dtype=dtype).copy()
    values = np.asarray(compute(), dtype=dtype).ravel()
    write(kind, key, values.tobytes())
    return values


def _prune(folder: Path) -> None:
    entries = [p for p in folder.iterdir() if not p.name.startswith(".tmp-")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for old in entries[: len(entries) - MAX_ENTRIES // 2]:
        old.unlink(missing_ok=True)
