"""Keep xarray from importing dask.array (0.7 s) and pint (0.4 s) to build or index a Dataset of numpy arrays.

xarray asks for dask.array's ``Array`` and pint's ``Quantity`` types every time it makes a Variable
or an index (``isinstance(data, array_type("dask"))`` in ``as_compatible_data``,
``array_type("pint")`` in ``to_numpy``), and its first answer imports the library whenever it is
installed (``xarray.namedarray.pycompat.DuckArrayModule``). xarray has no option for this
(2026.9). While the library is not imported none of its arrays can exist, so the exact answer is
"no type": :class:`LazyDuckModule` gives it, and xarray's own answer from the moment anything
imports the library. Installed once; if xarray's internals change, nothing is installed and xarray
imports the libraries as before.
"""
from __future__ import annotations

import sys

LAZY = {"dask": "dask.array", "pint": "pint"}   # xarray's name -> the module whose array type it asks for


class LazyDuckModule:
    """xarray's ``DuckArrayModule(name)``, made only once the module that defines its array type is imported."""

    def __init__(self, name: str, real_module):
        self._name, self._real_module, self._real = name, real_module, None

    def _resolved(self):
        if self._real is None:
            self._real = self._real_module(self._name)
        return self._real

    @property
    def type(self) -> tuple:
        if self._real is None and LAZY[self._name] not in sys.modules:
            return ()            # none of its arrays can exist yet
        return self._resolved().type

    def __getattr__(self, attribute):   # module, version, available: xarray's own answer
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self._resolved(), attribute)


def install() -> bool:
    """Put a :class:`LazyDuckModule` for dask and pint in xarray's cache of duck-array modules (where
    xarray has not looked them up yet); True when both are lazy."""
    try:
        from xarray.namedarray import pycompat

        cache, real = pycompat._cached_duck_array_modules, pycompat.DuckArrayModule
    except (ImportError, AttributeError):
        return False
    for name in LAZY:
        cache.setdefault(name, LazyDuckModule(name, real))
    return all(isinstance(cache[name], LazyDuckModule) for name in LAZY)
