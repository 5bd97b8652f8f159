"""What a sensitivity analysis looks at: one output in one month, or on every day, and the
function of the input matrix that evaluates it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..engine.runner import evaluate_draws
from ..errors import ModelError
from ..results.dataset import program_dates
from ..results.progress import advance, expect


@dataclass(frozen=True)
class Target:
    output: str
    index: int          # the output's position in model.outputs
    month: int | None   # month index, or None for daily values
    daily: bool

    def label(self, model) -> str:
        aggregate = model.flat.outputs[self.output].aggregate
        return f"{self.output}, {'daily values' if self.daily else 'monthly ' + aggregate + ' of ' + model.period.months[self.month]}"


def target_for(model, output, month, daily) -> Target:
    """The output (or one coordinate of one, ``co2_kg[virginia]``) and the month or days analysed."""
    if output not in model.flat.outputs:
        raise ModelError("is not an output of this model", path=model.path, field="output", value=output,
                         fix=f"use one of {list(model.flat.outputs)}")
    months = model.period.months
    if daily:
        if month is not None:
            raise ModelError("daily indices cover every date; a month cannot be chosen as well",
                             path=model.path, field="month", value=month, fix="drop month, or drop daily")
        return Target(output, list(model.flat.outputs).index(output), None, True)
    if month is None:
        month = months[0]
    if month not in months:
        raise ModelError("is not a month of the model period", path=model.path, field="month", value=month,
                         fix=f"use a month from {months[0]} to {months[-1]} written as YYYY-MM")
    return Target(output, list(model.flat.outputs).index(output), months.index(month), False)


def evaluator(program, target: Target, days: slice | None = None):
    """A function of the input matrix ``X[sample, draw]`` returning the target's values.

    Monthly: ``(n,)``; daily: ``(n, n_days)``, or only the ``days`` asked for. Runs the Numba
    kernel's ``evaluate_draws`` on a copy of the program that computes only the target output,
    on only the days it needs.
    """
    one = program.only_outputs([target.index])
    if not target.daily:  # a month's value needs only that month's days
        one = one.only_days(program.month_of_day == target.month)
    elif days is not None:
        keep = np.zeros(program.n_days, dtype=bool)
        keep[days] = True
        one = one.only_days(keep)

    def func(X):
        monthly = np.empty((len(X), 1, one.n_months))
        daily = np.empty((len(X) if target.daily else 0, 1, one.n_days if target.daily else 1))
        expect(len(X))
        evaluate_draws(one, X, daily, monthly)
        advance(len(X))
        return daily[:, 0, :] if target.daily else monthly[:, 0, target.month]
    return func


def only_output(model, target):
    """The model reporting only the target output: fewer histograms, the same draws (streams are
    keyed by parameter, not by output)."""
    flat = model.flat
    return dataclasses.replace(flat, outputs={target.output: flat.outputs[target.output]})


def coords_for(model, groups, target):
    coords = {"parameter": ("parameter", [g.name for g in groups]),
              "members": ("parameter", [", ".join(g.members) for g in groups],
                          {"long_name": "the draws each group gathers"})}
    if target.daily:
        coords["date"] = ("date", program_dates(model), {"long_name": "day"})
    return coords


def dims_for(target):
    return ("parameter", "date") if target.daily else ("parameter",)
