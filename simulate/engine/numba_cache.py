"""A writable folder for Numba's compiled-kernel cache, wherever the package is installed.

Numba caches next to the source (``__pycache__``) or in the user's cache folder. When neither is
writable (a read-only install run by a user without a home, e.g. a service account), every
``cache=True`` function fails at import with "no locator available". Then the cache goes to a
per-user folder in the temporary directory instead.
"""
from __future__ import annotations

import os
import tempfile

import numba
from numba.core import caching


def ensure_cache_dir(source_file: str) -> None:
    """Point ``numba.config.CACHE_DIR`` at a writable folder if Numba would find none for ``source_file``."""
    if numba.config.CACHE_DIR:
        return
    for locator in caching.CacheImpl._locator_classes:
        try:
            if locator.from_function(ensure_cache_dir, source_file) is not None:
                return
        except Exception:   # a locator that cannot judge this file (e.g. not in a zip or IPython)
            continue
    numba.config.CACHE_DIR = os.path.join(tempfile.gettempdir(), f"simulate-numba-cache-{os.getuid()}")
