"""Dimensions of a model file: ``[dimensions]``, which dimensions each quantity has, and values given
per coordinate.

    [dimensions]
    cohort = [2021, 2022, 2023]              # numbers: usable as values in expressions
    accelerator = ["nvidia_sxm", "tpu"]      # or names

An expression's dimensions are the union of those of the names it uses (numpy-style broadcasting
by name, in the order ``[dimensions]`` declares them) minus those it reduces with ``sum(x, "d")``
or ``mean(x, "d")`` or picks one coordinate of with ``x[2024]``. A dimension's own name in an
expression is its coordinate (numeric dimensions only).
"""
from __future__ import annotations

from ..errors import Location
from .expressions import REDUCTIONS, to_text
from .fields import is_number
from .quantities import Dimension, coordinate_label

MAX_COORDINATES = 10_000
RESERVED = ("quantile", "date", "month", "year", "sample", "input", "stage", "parameter")  # the Dataset's own axes


def parse_dimensions(table, *, path=None) -> dict:
    """``[dimensions]``: name -> a non-empty list of distinct numbers or distinct strings."""
    from .fields import identifier

    dims = {}
    for name, coords in table.items():
        where = Location(path, f"dimensions.{name}")
        identifier(name, where)
        if name in RESERVED:
            where.fail("is the name of one of the results' own axes", value=name,
                       fix=f"rename the dimension (not one of {list(RESERVED)})")
        if not isinstance(coords, list) or not coords or len(coords) > MAX_COORDINATES:
            where.fail("must be a non-empty list of coordinates", value=coords,
                       fix='write e.g. cohort = [2021, 2022] or region = ["us", "eu"]')
        numbers = all(is_number(c) for c in coords)
        names = all(isinstance(c, str) and c.strip() for c in coords)
        if not (numbers or names):
            where.fail("coordinates must be all numbers or all names", value=coords,
                       fix="write numbers (years, sizes) or names in quotes, not a mix")
        labels = [coordinate_label(c) for c in coords]
        if len(set(labels)) != len(labels):
            where.fail("has a coordinate twice", value=coords, fix="list each coordinate once")
        if names and not all(_plain(label) for label in labels):
            where.fail("coordinate names may hold letters, digits, '_', '-' and '.'", value=coords,
                       fix='write e.g. "nvidia_sxm"')
        dims[name] = Dimension(name, tuple(coords))
    return dims


def _plain(label: str) -> bool:
    return all(ch.isalnum() or ch in "_-." for ch in label)


def ordered(dims, names) -> tuple:
    """``names`` in the order the model declares its dimensions."""
    order = list(dims)
    return tuple(sorted(set(names), key=order.index))


class Inference:
    """Infers each expression's dimensions and rewrites ``x[key]`` as explicit (dimension, coordinate)."""

    def __init__(self, dims: dict, known: dict, path=None):
        self.dims, self.known, self.path = dims, dict(known), path   # known: name -> its dimensions

    def derived(self, item, field: str):
        """``(dims, node)`` of a derived quantity; ``field`` locates errors."""
        where = Location(self.path, field)
        dims, node = self.node(item.node, item.text, where)
        self.known[item.name] = dims
        return dims, node

    def node(self, node, text, where):
        kind = node[0]
        if kind == "num":
            return (), node
        if kind == "name":
            name = node[1]
            if name in self.dims:
                if not self.dims[name].numeric:
                    where.fail(f"the dimension {name} has names, not numbers, as coordinates, so it has no value",
                               value=text, fix=f"use a quantity over {name}, or pick a coordinate with x[\"...\"]")
                return (name,), node
            return self.known.get(name, ()), node
        if kind in REDUCTIONS:
            inner, child = self.node(node[1], text, where)
            for d in node[2]:
                if d not in self.dims:
                    where.fail(f"{kind}() over an unknown dimension {d!r}", value=text,
                               fix=f"use one of the [dimensions]: {sorted(self.dims) or 'none declared'}")
                if d not in inner:
                    where.fail(f"{kind}() over {d}, which {to_text(node[1])} does not have "
                               f"(its dimensions: {list(inner) or 'none'})", value=text,
                               fix=f"drop {d!r} from {kind}(), or reduce an expression that varies over it")
            return tuple(d for d in inner if d not in node[2]), (kind, child, tuple(node[2]))
        if kind == "sel":
            inner, child = self.node(node[1], text, where)
            picked = []
            for key in node[2]:
                matches = [d for d in inner if d not in [p[0] for p in picked] and self.dims[d].index(key) is not None]
                if len(matches) != 1:
                    why = "is not a coordinate of" if not matches else "is a coordinate of several dimensions of"
                    where.fail(f"{key!r} {why} {to_text(node[1])} (its dimensions: {list(inner) or 'none'})",
                               value=text, fix="pick coordinates the quantity has, one per dimension")
                dim = self.dims[matches[0]]
                picked.append((dim.name, dim.coords[dim.index(key)]))
            return tuple(d for d in inner if d not in [p[0] for p in picked]), ("sel", child, tuple(picked))
        parts = [self.node(child, text, where) for child in node[1:]]
        return ordered(self.dims, [d for dims, _ in parts for d in dims]), (kind,) + tuple(n for _, n in parts)


def per_coordinate_values(value, dims: list, where: Location, what: str) -> list:
    """One value per coordinate of ``dims`` (row-major) from a scalar, nested lists or tables keyed by
    coordinate label; a ModelError at ``where`` names what is missing or extra."""
    if not dims:
        return [value]
    first, rest = dims[0], dims[1:]
    if isinstance(value, list):
        if len(value) != len(first.coords):
            where.fail(f"{what} gives {len(value)} values for the {len(first.coords)} coordinates of {first.name}",
                       value=value, fix=f"give one value per coordinate of {first.name}: {list(first.labels)}")
        items = value
    elif isinstance(value, dict) and value and all(first.index(k) is not None for k in value):
        missing = [label for label in first.labels if label not in {coordinate_label(first.coords[first.index(k)])
                                                                    for k in value}]
        if missing:
            where.fail(f"{what} has no value for some coordinates of {first.name}", value=missing,
                       fix=f"give every coordinate of {first.name}, or one value for all")
        items = [value[next(k for k in value if first.index(k) == i)] for i in range(len(first.coords))]
    elif isinstance(value, dict) and value and any(first.index(k) is not None for k in value):
        extra = [k for k in value if first.index(k) is None]
        where.fail(f"{what} names coordinates {first.name} does not have", value=extra,
                   fix=f"use {list(first.labels)}")
    else:
        items = [value] * len(first.coords)
    return [v for item in items for v in per_coordinate_values(item, rest, where, what)]
