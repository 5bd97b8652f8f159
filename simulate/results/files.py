"""Write files the safe way: under a temporary name in the same folder, then one rename into place.

A reader never sees a half-written file, a failed or interrupted write leaves the old one intact,
and the new file gets the permissions a plain ``open()`` would give it under the user's umask
(0644 under umask 022), not the 0600 that :func:`tempfile.mkstemp` gives.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` as the user's umask would leave a newly created file (0o644 under umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, else deleted.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder is created if needed.

    Yields
    ------
    Path
        Where to write the content (the file may be written by any library, by name).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, umask_mode())   # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
