"""Find outputs whose day-to-day variation is a deterministic profile, so one histogram serves a month.

Parameters are drawn once per sample (or once per month); only the built-in names (``day_share``,
``days_in_month``, ...) change from day to day, and they are the same in every sample. So an
output built from products and quotients, such as ``visits * day_share * queries_per_visit``,
is ``A * G(day)``: a random ``A`` that is fixed within a month times a known ``G``. Its monthly
value is ``A * F(month)`` with ``F`` the sum (or mean) of ``G`` over the month's days, and each
day is the month scaled by ``G(day) / F(month)``. Every daily quantile, mean and interval is
then exactly the monthly one scaled, and the kernel reduces one histogram per month instead of
one per day (31 times fewer for a one-month model).

Sums and differences keep the form only when both sides share the same profile; anything else
(``exp(day_share)``, ``a + b * day_share``) is reduced day by day as before.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec.expressions import evaluate, names_in, to_text
from ..spec.model import BUILTIN_NAMES, Derived

BASE_SUFFIX = ":per-profile"   # synthetic derived names: cannot clash with a model's names


@dataclass(frozen=True)
class ProfileSplit:
    """Output = ``base`` (a name fixed within each month) x ``day_factor[day]`` (deterministic)."""

    base: str
    day_factor: np.ndarray      # (n_days,)


def profile_splits(outputs, derived: dict, day_values: dict) -> tuple[dict, dict]:
    """Return ``({output: ProfileSplit}, synthetic derived)`` for every output of the separable form.

    ``day_values`` maps each built-in name to its per-day values. An output qualifies only when
    its profile is finite and non-zero on every day, so scaling is exact and invertible.
    """
    splitter = _Splitter(derived, day_values)
    n_days = len(next(iter(day_values.values())))
    splits = {}
    for name in outputs:
        found = splitter.name(name)
        if found is None:
            continue
        base, factor = found
        factor = np.ones(n_days) if factor is None else np.broadcast_to(np.asarray(factor, dtype=np.float64), (n_days,))
        if not (np.all(np.isfinite(factor)) and np.all(factor != 0)):
            continue
        if base is None or base[0] != "name":
            base = splitter.synthetic(name, base if base is not None else ("num", 1.0))
        splits[name] = ProfileSplit(base[1], np.array(factor))
    return splits, splitter.extra


class _Splitter:
    def __init__(self, derived, day_values):
        self.derived, self.day_values = derived, day_values
        self.memo: dict = {}
        self.extra: dict[str, Derived] = {}
        self.day_memo: dict[str, bool] = {}

    def varies_by_day(self, name: str) -> bool:
        if name not in self.day_memo:
            if name in BUILTIN_NAMES:
                self.day_memo[name] = True
            elif name in self.derived:
                self.day_memo[name] = any(self.varies_by_day(n) for n in names_in(self.derived[name].node))
            else:
                self.day_memo[name] = False
        return self.day_memo[name]

    def synthetic(self, name: str, node) -> tuple:
        key = name + BASE_SUFFIX
        item = self.derived.get(name)
        self.extra[key] = Derived(key, node, to_text(node), item.unit if item else None,
                                  f"{item.long_name if item else name}, before its daily profile")
        return ("name", key)

    def name(self, name: str):
        """``(A node or None, G per-day array or None)`` for a name, or None if not separable."""
        if name not in self.memo:
            if name in BUILTIN_NAMES:
                found = (None, np.asarray(self.day_values[name], dtype=np.float64))
            elif name in self.derived and self.varies_by_day(name):
                found = self.node(self.derived[name].node)
                if found is not None and found[0] is not None and found[0][0] != "name":
                    found = (self.synthetic(name, found[0]), found[1])
            else:
                found = (("name", name), None)
            self.memo[name] = found
        return self.memo[name]

    def node(self, node):
        kind = node[0]
        if kind == "num":
            return (node, None)
        if kind == "name":
            return self.name(node[1])
        names = names_in(node)
        if not any(self.varies_by_day(n) for n in names):
            return (node, None)
        if names <= set(BUILTIN_NAMES):  # a function of the calendar only, e.g. exp(day_share)
            return (None, np.asarray(evaluate(node, self.day_values), dtype=np.float64))
        parts = [self.node(child) for child in node[1:]]
        if any(p is None for p in parts):
            return None
        if kind == "neg":
            base, factor = parts[0]
            return (("neg", base if base is not None else ("num", 1.0)), factor)
        if kind in ("mul", "div"):
            (a1, g1), (a2, g2) = parts
            return _combine(kind, a1, a2), _combine_factor(kind, g1, g2)
        if kind == "addn":    # a flat sum: every term must share one profile
            factors = [g for _, g in parts]
            if any(g is None for g in factors) or not all(np.array_equal(factors[0], g) for g in factors[1:]):
                return None
            return ("addn",) + tuple(a if a is not None else ("num", 1.0) for a, _ in parts), factors[0]
        if kind in ("add", "sub"):
            (a1, g1), (a2, g2) = parts
            if g1 is None or g2 is None or not np.array_equal(g1, g2):
                return None
            return (kind, a1 if a1 is not None else ("num", 1.0), a2 if a2 is not None else ("num", 1.0)), g1
        return None


def _combine(kind, left, right):
    if right is None:
        return left
    if left is None:
        return right if kind == "mul" else ("div", ("num", 1.0), right)
    return (kind, left, right)


def _combine_factor(kind, left, right):
    if right is None:
        return left
    if left is None:
        return right if kind == "mul" else 1.0 / right
    return left * right if kind == "mul" else left / right
