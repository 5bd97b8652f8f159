"""Where results may be written, and writing them so that nothing is ever half-written.

Every file is written under a temporary name beside its target, then renamed into place. The
temporary name holds the writer's process id (``.NAME.PID.XXXX.tmp``), so the next write beside
it can tell the leftovers of a killed run (their process is gone) from a write still under way.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from ..errors import ModelError

_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp")


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` as the user's umask would leave a newly created file (0o644 under umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def check_target(path, field: str, *, folder: bool = False) -> Path:
    """Refuse, before any work, a place that cannot take the file (or ``folder``) ``path``.

    It must be absent or of the same kind (a regular file, never a folder, device or FIFO; a
    folder for ``folder``), and the nearest existing folder above it must be a folder we may write in.

    Raises
    ------
    ModelError
        Naming ``field`` (e.g. ``--out``), the path and what to do instead.
    """
    path = Path(path)
    kind = "folder" if folder else "file"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        mode = None       # a parent is a file: said below
    except OSError as exc:
        raise ModelError(f"cannot be inspected ({exc.strerror})", field=field, value=str(path),
                         fix=f"give another {kind} path") from None
    if mode is not None:
        if folder and not stat.S_ISDIR(mode):
            raise ModelError("exists and is not a folder", field=field, value=str(path),
                             fix="give a folder path (it is created, or replaced as a whole)")
        if not folder and stat.S_ISDIR(mode):
            raise ModelError("is a folder", field=field, value=str(path), fix="give a file path, e.g. out/results.nc")
        if not folder and not stat.S_ISREG(mode):
            raise ModelError("exists and is not a regular file (a device, FIFO or socket)", field=field,
                             value=str(path), fix="give the path of a regular file")
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ModelError(f"lies under {parent}, which is a file, not a folder", field=field, value=str(path),
                         fix=f"give a {kind} path in a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ModelError(f"cannot be written: the folder {parent} is read-only or not ours", field=field,
                         value=str(path), fix=f"give a {kind} path in a folder you can write to")
    return path


def temporary_sibling(path: Path, *, folder: bool = False) -> Path:
    """A new temporary file (or folder) beside ``path``, named for this process; stale ones of
    killed processes beside it are removed first (:func:`remove_stale`)."""
    remove_stale(path)
    prefix, where = f".{path.name}.{os.getpid()}.", path.parent
    if folder:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=where))
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=where)
    os.close(handle)
    return Path(name)


def remove_stale(path: Path):
    """Remove the temporary files and folders beside ``path`` left by processes that are gone."""
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match and match["name"] == path.name and not _alive(int(match["pid"])):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True       # someone else's process, or not ours to ask about: leave its files alone
    return True


def write_atomically(path, write, field: str = "--out") -> Path:
    """Call ``write(temporary_path)``, then rename the result to ``path`` (its folder created).

    Parameters
    ----------
    path : str or Path
        The file to write.
    write : callable
        Writes the whole file at the path it is given.
    field : str
        Named in errors (e.g. ``--out``).

    Returns
    -------
    Path
        ``path``, with the permissions a new file gets under the user's umask.
    """
    path = check_target(path, field)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_sibling(path)
    except OSError as exc:
        raise ModelError(f"cannot be written ({exc.strerror})", field=field, value=str(path),
                         fix="give a file path in a folder you can write to") from None
    try:
        write(tmp)
        os.chmod(tmp, umask_mode())   # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:   # netCDF4 reports a full disk as RuntimeError("NetCDF: HDF error")
        tmp.unlink(missing_ok=True)
        if isinstance(exc, RuntimeError) and not str(exc).startswith("NetCDF"):
            raise
        raise ModelError(f"cannot be written ({getattr(exc, 'strerror', None) or exc})", field=field,
                         value=str(path), fix="give a file path on a writable disk with room for it") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path, text: str, field: str = "--out") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`write_atomically`); return ``path``."""
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), field)


def write_bytes(path, data: bytes, field: str = "--out") -> Path:
    """Write ``data`` to ``path`` atomically (:func:`write_atomically`); return ``path``."""
    return write_atomically(path, lambda tmp: tmp.write_bytes(data), field)
