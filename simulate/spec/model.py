"""The validated model: parameters, derived quantities, outputs, period, profile, regions, scenarios.

A :class:`Model` is plain data. :meth:`Model.run` compiles it into a kernel program and samples it
(compiling takes milliseconds, so nothing is cached); :meth:`Model.with_scenario` and
:meth:`Model.with_fixed` return copies with some parameters fixed, keeping every random stream
where it was so that runs with and without the fixed values use common random numbers.

The four analysis methods (``run``, ``calibrate``, ``sensitivity``, ``sweep``) are a facade, as
``xarray.Dataset.to_netcdf`` is: each imports its stage lazily, the only imports in the package
that point upwards.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import Location, ModelError
from .calendar import Period, Profile
from .distributions import Distribution
from .fields import fixed_value
from .flatten import flatten
from .quantities import (  # noqa: F401
    BUILTIN_NAMES,
    DAILY_BUILTINS,
    Derived,
    Dimension,
    Output,
    Parameter,
    Region,
    Regions,
    Scenario,
    Shares,
    cell_name,
    coordinate_label,
)

DEFAULT_SAMPLES = 100_000   # Monte Carlo samples of a run when none are asked for: the API and the CLI alike


@dataclass(frozen=True, eq=False, repr=False)
class Model:
    name: str
    title: str
    description: str
    path: str | None
    sha256: str
    period: Period
    profile: Profile
    parameters: dict
    regions: Regions | None
    derived: dict
    outputs: dict
    scenarios: dict
    correlations: tuple = ()                    # correlation.Correlation entries
    observations: tuple = ()                    # observations.Observation entries
    reconcile: object = None                    # observations.Reconcile or None
    references: tuple = ()                      # references.Reference entries (published figures to draw)
    headline: str = ""                          # the output a reader should quote ([model] headline)
    headline_why: str = ""                      # why that one, when the model has several paths or a posterior
    headline_figure: str = ""                   # the main published figure: a scenario name or a reference label
    fixed: dict = field(default_factory=dict)   # what with_fixed/with_scenario pinned, for provenance
    scenario: str | None = None
    dimensions: dict = field(default_factory=dict)  # name -> Dimension
    shares: dict = field(default_factory=dict)      # name -> Shares (Dirichlet or fixed simplexes)
    datasets: tuple = ()                            # grid/water datasets read at load (grid_data.DATASETS names)

    @functools.cached_property
    def flat(self) -> "Model":
        """This model with every dimension unrolled: scalar parameters, shares, derived quantities and
        outputs only, as the compiler runs it (:mod:`simulate.spec.flatten`)."""

        return flatten(self)

    # -- the Python API --------------------------------------------------------------------------
    def run(self, samples: int = DEFAULT_SAMPLES, seed: int = 0, *, keep: int = 0, progress: bool | None = None,
            rtol: float | None = None, max_samples: int | None = None, client=None):
        """Sample the model and return the results as an ``xarray.Dataset``.

        Draws are made in fixed-size blocks, block ``k`` from ``SeedSequence(seed, spawn_key=(k,))``,
        so the numbers depend only on (model, samples, seed): not on threads, batching or cluster.

        Parameters
        ----------
        samples : int
            Monte Carlo samples (with ``rtol``: the starting count, rounded up to whole blocks).
        seed : int
            Seed of every random stream.
        keep : int
            Also return the first ``keep`` per-sample draws: ``inputs(sample, input)`` and
            ``NAME_monthly_samples(sample, month)``.
        progress : bool, optional
            A progress bar, redrawn at least once a second (default: when stderr is a terminal, or in
            a Jupyter notebook; never after ``simulate.results.progress.set_default(False)``).
        rtol : float, optional
            Double the sample count until the 95% confidence interval of every 5%, 50% and 95%
            quantile of every output, daily and monthly, has half-width below ``rtol`` times the
            estimate, or ``max_samples`` (default 10^8) is reached; the Dataset's ``converged``
            attribute (1/0) and a warning say which.
        max_samples : int, optional
            Where a run with ``rtol`` stops.
        client : dask.distributed.Client, optional
            Run the blocks as tasks on its workers, with bit-identical results.

        Returns
        -------
        xarray.Dataset
            ``NAME_daily(quantile, date)`` and ``NAME_monthly(quantile, month)`` for every output,
            in the output's unit, with means, standard deviations, non-finite counts and 95%
            confidence intervals beside them, and the seed, samples, versions and model hash in attrs.
        """
        from ..results.run import run_model  # facade: the one upward import of run

        return run_model(self, samples=samples, seed=seed, keep=keep, progress=progress, rtol=rtol,
                         max_samples=max_samples, client=client)

    def calibrate(self, samples: int = 200_000, seed: int = 0, *, observations=None, reconcile=None,
                  keep: int = 10_000, progress: bool | None = None):
        """Prior and posterior distributions on the same draws (a ``stage`` dimension).

        Parameters
        ----------
        samples, seed : int
            Prior draws (at most 2 x 10^6: every draw is kept) and their seed.
        observations : list of dict or Observation, optional
            Instead of the file's ``[[observations]]`` (tables in the same format).
        reconcile : dict or Reconcile, optional
            Instead of the file's ``[reconcile]``.
        keep : int
            Draws returned with their importance weights (``weight(sample)``).
        progress : bool, optional
            One bar over the whole calibration (default: on a terminal or in a notebook).

        Returns
        -------
        xarray.Dataset
            Every output's quantiles along ``stage`` = prior, posterior; the effective sample size
            in ``attrs["ess"]``. See :func:`simulate.analysis.calibration.calibrate`.
        """
        from ..analysis.calibration import calibrate  # facade

        return calibrate(self, samples=samples, seed=seed, observations=observations, reconcile=reconcile,
                         keep=keep, progress=progress)

    def sensitivity(self, output: str = "energy_kwh", method: str = "sobol", **options):
        """Rank the inputs by their effect on ``output``.

        Parameters
        ----------
        output : str
            An output name.
        method : {"sobol", "tornado", "rank", "shapley", "disclosure"}
            Grouped Sobol indices with bootstrap intervals, medians at each input's p5 and p95,
            Spearman rank correlations, Shapley effects (valid under correlations), or the band
            left once each input (and pair of the best) is known exactly.
        **options
            ``samples``, ``seed``, ``month`` ("YYYY-MM"), ``daily``, ``parameters``, ``progress``; see
            :func:`simulate.analysis.sensitivity.sensitivity`.

        Returns
        -------
        xarray.Dataset
            Indexed by ``parameter`` (most influential first), with a ``members`` coordinate.
        """
        from ..analysis.sensitivity import sensitivity  # facade

        return sensitivity(self, output, method, **options)

    def sweep(self, parameter: str, values, *, samples: int = 100_000, seed: int = 0, keep: int = 0,
              progress: bool | None = None):
        """The results Dataset along a new dimension ``parameter``, fixed at each of ``values``.

        Parameters
        ----------
        parameter : str
            A parameter name (its unit is the new coordinate's).
        values : sequence of float
            The values to fix it at, each once.
        samples, seed, keep : int
            As in :meth:`run`; every value uses the same seed (common random numbers).
        progress : bool, optional
            One bar over every run (default: on a terminal or in a notebook).

        Returns
        -------
        xarray.Dataset
            :meth:`run`'s variables with a leading ``parameter`` dimension.
        """
        from ..analysis.sweep import sweep  # facade

        return sweep(self, parameter, values, samples=samples, seed=seed, keep=keep, progress=progress)

    def with_scenario(self, name: str) -> "Model":
        """This model with the named scenario's parameters fixed at its values.

        Parameters
        ----------
        name : str
            A ``[scenarios.NAME]`` of the model file.

        Returns
        -------
        Model
            A copy; every other parameter keeps its random stream (common random numbers).
        """
        if name not in self.scenarios:
            raise ModelError("no such scenario", path=self.path, field="scenario", value=name,
                             fix=f"use one of {sorted(self.scenarios) or 'the scenarios declared under [scenarios]'}")
        fixed = self.with_fixed(self.scenarios[name].values)
        return dataclasses.replace(fixed, scenario=name)

    def with_fixed(self, values: dict) -> "Model":
        """This model with the named parameters fixed.

        Parameters
        ----------
        values : dict
            Parameter name -> a number in the parameter's unit, or ``{"YYYY-MM": number}``; or the name
            of a derived quantity without dimensions -> a number, which replaces its expression (a
            published figure that gives, say, energy per query directly). The parameters it was
            computed from are still drawn, on their own streams.

        Returns
        -------
        Model
            A copy; every other parameter keeps its random stream (common random numbers).
        """
        if not isinstance(values, dict):
            raise ModelError("must be a dict of parameter name -> value", path=self.path, field="fixed",
                             value=values, fix='pass e.g. {"pue": 1.2}')
        parameters, shares, derived = dict(self.parameters), dict(self.shares), dict(self.derived)
        cells = {c.name: p.name for p in parameters.values() for c in p.cells}
        for name, value in values.items():
            if name in parameters:
                parameters[name] = _fix(parameters[name], value, self)
            elif name in cells:
                parent = parameters[cells[name]]
                parameters[parent.name] = dataclasses.replace(parent, cells=tuple(
                    _fix(c, value, self, parent.name) if c.name == name else c for c in parent.cells))
            elif name in shares:
                shares[name] = _fix_shares(shares[name], value, self)
            elif name in derived and not derived[name].dims:
                derived[name] = _pin(derived[name], value, self)
            else:
                raise ModelError("is not a parameter of this model", path=self.path, field="fixed",
                                 value=name, fix=f"use one of {sorted(self.parameters) + sorted(self.shares)}, or a "
                                                 "derived quantity without dimensions")
        return dataclasses.replace(self, parameters=parameters, shares=shares, derived=derived,
                                   fixed={**self.fixed, **values})

    # -- how it shows itself ------------------------------------------------------------------------
    def __repr__(self) -> str:
        """One line: name, period and counts (the full content is in :meth:`_repr_html_` and ``simulate info``)."""
        scenario = f", scenario {self.scenario}" if self.scenario else ""
        fixed = f", {len(self.fixed)} fixed" if self.fixed and not self.scenario else ""
        return (f"<Model {self.name!r}: {self.period.start} to {self.period.end} ({self.period.n_days} days), "
                f"{len(self.parameters)} parameters, {len(self.outputs)} outputs, {len(self.scenarios)} scenarios"
                f"{scenario}{fixed}>")

    def _repr_html_(self) -> str:
        """A notebook's view: title, period, outputs, parameters with their sources, scenarios."""
        from .overview import model_html

        return model_html(self)

    # -- what the model declares -----------------------------------------------------------------
    def all_parameters(self) -> list[Parameter]:
        """Every sampled scalar quantity, as the kernel draws it: the [parameters] (one per coordinate
        of a dimensioned one) and each region's grid intensity. Shares are in ``flat.shares``."""
        return list(self.flat.parameters.values())

    def resolution_of(self, output: str) -> str:
        """The time step ``output`` (an output of the model or of ``flat``) is evaluated at: its own
        ``resolution``, else the period's ("day" or "month")."""
        out = self.outputs.get(output) or self.flat.outputs[output]
        return out.resolution or self.period.resolution

    def has_daily(self, output: str) -> bool:
        """Whether ``output`` has daily distributions (``NAME_daily``): only at day resolution."""
        return self.resolution_of(output) == "day"

    @property
    def headline_output(self) -> str:
        """The output to quote: ``[model] headline``, else the first output."""
        return self.headline or next(iter(self.outputs))

    def unit_of(self, name: str) -> str | None:
        """The unit of an output, parameter (or one coordinate of it), share or derived quantity."""
        if name in self.outputs:
            return self.outputs[name].unit
        for p in list(self.parameters.values()) + self.all_parameters():
            if p.name == name:
                return p.unit
        if name in self.shares or any(name in s.names for s in self.shares.values()):
            return "1"
        if name in self.derived:
            return self.derived[name].unit
        return None


def _fix(parameter: Parameter, value, model: Model, bounded_as: str = "") -> Parameter:
    """``parameter`` fixed at ``value``: a number, ``{"YYYY-MM": number}``, or for a dimensioned
    parameter one value per coordinate (nested lists row-major, or tables keyed by coordinate)."""
    def fixed(number):
        return Distribution("fixed", {"value": float(number)})

    if parameter.cells:
        per_cell = per_coordinate(value, [model.dimensions[d] for d in parameter.dims])
        return dataclasses.replace(parameter, cells=tuple(_fix(c, v, model, parameter.name)
                                                          for c, v in zip(parameter.cells, per_cell)))
    value = fixed_value(bounded_as or parameter.name, value, model.period.months,
                        Location(model.path, f"fixed.{parameter.name}"))
    if isinstance(value, dict):
        by_month = dict(parameter.by_month) or {m: parameter.dist for m in model.period.months}
        for month, number in value.items():
            by_month[month] = fixed(number)
        return dataclasses.replace(parameter, by_month=by_month)
    if parameter.by_month:
        return dataclasses.replace(parameter, by_month={m: fixed(value) for m in parameter.by_month},
                                   dist=fixed(value) if parameter.dist is not None else None)
    return dataclasses.replace(parameter, dist=fixed(value))


def _pin(item: Derived, value, model: Model) -> Derived:
    """A derived quantity replaced by a number (its expression no longer evaluated)."""
    if isinstance(value, dict) or isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ModelError("a derived quantity is pinned to one number", path=model.path, field=f"fixed.{item.name}",
                         value=value, fix="give one number in its unit")
    return dataclasses.replace(item, node=("num", float(value)), text=repr(float(value)))


def _fix_shares(shares: Shares, value, model: Model) -> Shares:
    """Shares fixed at ``value`` (one per coordinate, summing to one)."""
    where = Location(model.path, f"fixed.{shares.name}")
    values = [fixed_value(shares.name, v, [], where, (0.0, 1.0, "a share is a fraction"))
              for v in per_coordinate(value, [model.dimensions[shares.dims[0]]])]
    if not math.isclose(sum(values), 1.0, rel_tol=0, abs_tol=1e-9):
        where.fail("shares must sum to 1", value=sum(values), fix="give one share per coordinate, summing to 1")
    return dataclasses.replace(shares, shares=tuple(values), concentration=0.0)


def per_coordinate(value, dims) -> list:
    """``value`` spread over every coordinate of ``dims``, row-major: a scalar (or a month table)
    goes to every coordinate; nested lists and tables keyed by coordinate label give one each."""
    if not dims:
        return [value]
    first, rest = dims[0], dims[1:]
    cells = int(np.prod([len(d.coords) for d in dims]))
    if (rest and isinstance(value, (list, tuple, np.ndarray)) and len(value) == cells
            and not any(isinstance(v, (list, tuple, dict, np.ndarray)) for v in value)):
        return list(value)      # already one value per cell, row-major (as the reader stores a scenario's)
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
    elif isinstance(value, dict) and all(first.index(k) is not None for k in value):
        items = [value.get(label, value.get(c)) for c, label in zip(first.coords, first.labels)]
    else:
        items = [value] * len(first.coords)
    return [v for item in items for v in per_coordinate(item, rest)]
