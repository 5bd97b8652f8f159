"""Unroll a model's dimensions: every dimensioned quantity becomes one scalar quantity per coordinate.

A parameter ``shipped`` over ``cohort = [2021, ..., 2028]`` is already held as eight scalar
parameters ``shipped[2021]``, ... (:class:`~simulate.spec.model.Parameter.cells`). Here every
derived quantity over dimensions is written out per coordinate: in ``active = shipped *
ramp(decimal_year - cohort)`` the name ``shipped`` becomes ``shipped[2021]`` and ``cohort`` the
number 2021 in ``active[2021]``; ``sum(active, "cohort")`` becomes the flat sum ``active[2021] +
... + active[2028]``, added left to right as a hand-written file would. Outputs that keep a
dimension become one output per coordinate (``co2_kg[virginia]``) plus, when declared, their total.

The result is a model without dimensions, which the compiler runs as it is: dimensions cost
nothing per sample beyond the scalar quantities they stand for.
"""
from __future__ import annotations

import dataclasses
import itertools

from .quantities import Derived, Output, cell_name


def flatten(model):
    """The model with every dimension unrolled (the same model when it has none)."""
    if not model.dimensions:    # nothing to unroll (shares are over a dimension, so none either)
        return model
    parameters = {}
    for p in model.parameters.values():
        for cell in (p.cells or (p,)):
            parameters[cell.name] = cell
    scope = _Scope(model)
    derived = {}
    for item in model.derived.values():
        for coords, name in scope.cells(item.name, item.dims):
            derived[name] = Derived(name, scope.expand(item.node, dict(zip(item.dims, coords))), item.text, item.unit,
                                    item.long_name, item.source)
    outputs = {}
    for out in model.outputs.values():
        dims = out.by
        cells = list(scope.cells(out.name, dims))
        if dims and out.total:
            total = ("addn",) + tuple(("name", name) for _, name in cells) if len(cells) > 1 else ("name", cells[0][1])
            if out.total == "mean":
                total = ("div", total, ("num", float(len(cells))))
            derived[out.name] = Derived(out.name, total, f"{out.total} of {out.name} over {', '.join(dims)}",
                                        out.unit, out.long_name)
            outputs[out.name] = dataclasses.replace(out, by=(), total="")
        elif not dims:
            outputs[out.name] = out
        for coords, name in (cells if dims else []):
            labels = tuple(d.labels[d.index(c)] for d, c in zip((model.dimensions[n] for n in dims), coords))
            outputs[name] = Output(name, out.aggregate, out.unit, f"{out.long_name}, {', '.join(labels)}",
                                   of=out.name, coords=labels, resolution=out.resolution, **_basis_fields(out))
    return dataclasses.replace(model, parameters=parameters, derived=derived, outputs=outputs, dimensions={},
                               regions=None)


def _basis_fields(out) -> dict:
    """The boundary and carbon basis an output's coordinates share with it."""
    return {k: getattr(out, k) for k in ("boundary", "accounting", "grid_basis", "grid_vintage")}


class _Scope:
    """What each name means inside an expression: its dimensions and the flat name of each coordinate."""

    def __init__(self, model):
        self.dimensions = model.dimensions
        self.dims = {p.name: p.dims for p in model.parameters.values()}
        self.dims.update({d.name: d.dims for d in model.derived.values()})
        self.cell_names = {p.name: {tuple(_coords_of(c.name, p.name, p.dims, model)): c.name for c in p.cells}
                           for p in model.parameters.values() if p.cells}
        for s in model.shares.values():
            self.dims[s.name] = s.dims
            dim = model.dimensions[s.dims[0]]
            self.cell_names[s.name] = {(c,): n for c, n in zip(dim.coords, s.names)}

    def cells(self, name, dims):
        """``(coordinates, flat name)`` of every coordinate of ``name`` over ``dims``, row-major."""
        if not dims:
            yield (), name
            return
        for coords in itertools.product(*(self.dimensions[d].coords for d in dims)):
            yield coords, self.flat_name(name, dims, coords)

    def flat_name(self, name, dims, coords):
        if name in self.cell_names:
            return self.cell_names[name][tuple(coords)]
        return cell_name(name, [self.dimensions[d].labels[self.dimensions[d].index(c)] for d, c in zip(dims, coords)])

    def expand(self, node, at: dict):
        """``node`` with every dimension fixed at its coordinate in ``at`` (dimension -> coordinate)."""
        kind = node[0]
        if kind == "num":
            return node
        if kind == "name":
            name = node[1]
            if name in self.dimensions:              # a numeric coordinate used as a value
                return ("num", float(at[name]))
            dims = self.dims.get(name, ())
            return ("name", self.flat_name(name, dims, [at[d] for d in dims]) if dims else name)
        if kind in ("sum", "mean"):
            dims = node[2]
            terms = [self.expand(node[1], {**at, **dict(zip(dims, coords))})
                     for coords in itertools.product(*(self.dimensions[d].coords for d in dims))]
            total = ("addn",) + tuple(terms) if len(terms) > 1 else terms[0]
            return total if kind == "sum" else ("div", total, ("num", float(len(terms))))
        if kind == "sel":      # ("sel", child, ((dimension, coordinate), ...)), made explicit at load
            return self.expand(node[1], {**at, **dict(node[2])})
        return (kind,) + tuple(self.expand(child, at) for child in node[1:])


def _coords_of(flat, name, dims, model):
    """The coordinates of a parameter cell, from its position: cells are row-major over ``dims``."""
    product = list(itertools.product(*(model.dimensions[d].coords for d in dims)))
    names = [c.name for c in model.parameters[name].cells]
    return product[names.index(flat)]
