"""Sub-expressions that do not depend on the sample, evaluated once per month in Python.

A month-rate expression built only from built-ins and numbers (``decimal_year - util_year + 0.5``,
a year's weight, a grid trend's exponent) has one value per month, the same for every sample. The
compiler evaluates it here and the kernel loads it into a register each month, as it loads the
built-ins, instead of running its instructions on every tile of samples.

The arithmetic is the kernel's, bit for bit: IEEE double operations and the C library's ``exp``,
``log``, ``sqrt`` and ``pow`` (which Numba calls too). Where the kernel would make an infinity or a
NaN (a division by zero, ``log`` of 0), nothing is folded and the kernel computes it as before.
"""
from __future__ import annotations

import math
import operator

from ..spec.expressions import evaluate

_SCALAR = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
           "pow": math.pow, "neg": operator.neg, "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
           "min": lambda x, y: y if y < x else x, "max": lambda x, y: y if y > x else x}


def scalar_value(node, values: dict):
    """``node`` on the scalars ``values`` (name -> float), or None where it is not finite or not foldable."""
    try:
        total = evaluate(node, values, _SCALAR)
    except (ArithmeticError, ValueError, KeyError):   # x / 0, log(0), pow's domain, a kind not listed
        return None
    return total if isinstance(total, float) and math.isfinite(total) else None


def month_series(node, known: dict, used, n_months: int):
    """``node``'s value in each month from ``known`` (name -> list of floats per month; ``used``: the
    names in ``node``), or None."""
    series = []
    for m in range(n_months):
        value = scalar_value(node, {name: known[name][m] for name in used})
        if value is None:
            return None
        series.append(value)
    return series
