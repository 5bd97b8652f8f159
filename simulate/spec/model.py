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
from dataclasses import dataclass, field

from ..errors import Location, ModelError
from .calendar import Period, Profile
from .distributions import Distribution
from .fields import INTENSITY_BOUNDS, fixed_value

# Per-day quantities every model can use in expressions.
BUILTIN_NAMES = {
    "day_share": "fraction of its month's total that falls on the day (daily profile; sums to 1 over a month)",
    "days_in_month": "number of days in the day's calendar month",
    "days_since_start": "days since the first day of the period (0 on the first day)",
    "decimal_year": "the day's date as a decimal year, e.g. 2024.5 in early July 2024",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    unit: str
    source: str
    rationale: str
    long_name: str
    dist: Distribution | None          # the distribution for every month not in by_month
    by_month: dict = field(default_factory=dict)  # "YYYY-MM" -> Distribution

    def for_month(self, month: str) -> Distribution:
        return self.by_month.get(month, self.dist)

    @property
    def varies_by_month(self) -> bool:
        return bool(self.by_month)

    def describe(self) -> str:
        if not self.by_month:
            return self.dist.describe()
        parts = [f"{m}: {d.describe()}" for m, d in self.by_month.items()]
        if self.dist is not None:
            parts.append(f"other months: {self.dist.describe()}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Region:
    name: str
    share: float        # the fixed share, or the Dirichlet mean share
    intensity: Parameter


@dataclass(frozen=True)
class Regions:
    regions: tuple
    mode: str           # "fixed" or "dirichlet"
    concentration: float
    source: str

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.regions]


@dataclass(frozen=True)
class Derived:
    name: str
    node: tuple
    text: str
    unit: str | None
    long_name: str
    source: str = ""


@dataclass(frozen=True)
class Output:
    name: str
    aggregate: str      # "sum" or "mean" over the days of a month
    unit: str
    long_name: str


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    values: dict        # parameter -> number, or {"YYYY-MM": number}
    source: str = ""
    status: str = ""    # how sure the published values are: S, S2, I or U (research tags), or ""


@dataclass(frozen=True, eq=False)
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
    fixed: dict = field(default_factory=dict)   # what with_fixed/with_scenario pinned, for provenance
    scenario: str | None = None

    # -- the Python API --------------------------------------------------------------------------
    def run(self, samples: int = 100_000, seed: int = 0, *, keep: int = 0, progress: bool | None = None,
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
            A progress bar on stderr (default: when stderr is a terminal).
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
                  keep: int = 10_000):
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

        Returns
        -------
        xarray.Dataset
            Every output's quantiles along ``stage`` = prior, posterior; the effective sample size
            in ``attrs["ess"]``. See :func:`simulate.analysis.calibration.calibrate`.
        """
        from ..analysis.calibration import calibrate  # facade

        return calibrate(self, samples=samples, seed=seed, observations=observations, reconcile=reconcile,
                         keep=keep)

    def sensitivity(self, output: str = "energy_kwh", method: str = "sobol", **options):
        """Rank the inputs by their effect on ``output``.

        Parameters
        ----------
        output : str
            An output name.
        method : {"sobol", "tornado", "rank"}
            Grouped Sobol indices with bootstrap intervals, medians at each input's p5 and p95, or
            Spearman rank correlations.
        **options
            ``samples``, ``seed``, ``month`` ("YYYY-MM"), ``daily``, ``parameters``; see
            :func:`simulate.analysis.sensitivity.sensitivity`.

        Returns
        -------
        xarray.Dataset
            Indexed by ``parameter`` (most influential first), with a ``members`` coordinate.
        """
        from ..analysis.sensitivity import sensitivity  # facade

        return sensitivity(self, output, method, **options)

    def sweep(self, parameter: str, values, *, samples: int = 100_000, seed: int = 0, keep: int = 0):
        """The results Dataset along a new dimension ``parameter``, fixed at each of ``values``.

        Parameters
        ----------
        parameter : str
            A parameter name (its unit is the new coordinate's).
        values : sequence of float
            The values to fix it at, each once.
        samples, seed, keep : int
            As in :meth:`run`; every value uses the same seed (common random numbers).

        Returns
        -------
        xarray.Dataset
            :meth:`run`'s variables with a leading ``parameter`` dimension.
        """
        from ..analysis.sweep import sweep  # facade

        return sweep(self, parameter, values, samples=samples, seed=seed, keep=keep)

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
            Parameter name -> a number in the parameter's unit, or ``{"YYYY-MM": number}``.

        Returns
        -------
        Model
            A copy; every other parameter keeps its random stream (common random numbers).
        """
        if not isinstance(values, dict):
            raise ModelError("must be a dict of parameter name -> value", path=self.path, field="fixed",
                             value=values, fix='pass e.g. {"pue": 1.2}')
        parameters = dict(self.parameters)
        regions = self.regions
        intensities = {r.intensity.name for r in regions.regions} if regions is not None else set()
        for name, value in values.items():
            if name not in parameters and name not in intensities:
                raise ModelError("is not a parameter of this model", path=self.path, field="fixed",
                                 value=name, fix=f"use one of {sorted(self.parameters)}")
            value = fixed_value(name, value, self.period.months, Location(self.path, f"fixed.{name}"),
                                INTENSITY_BOUNDS if name in intensities else None)
            if name in parameters:
                parameters[name] = _fix(parameters[name], value, self)
            else:
                regions = dataclasses.replace(regions, regions=tuple(
                    dataclasses.replace(r, intensity=_fix(r.intensity, value, self))
                    if r.intensity.name == name else r for r in regions.regions))
        return dataclasses.replace(self, parameters=parameters, regions=regions,
                                   fixed={**self.fixed, **values})

    # -- what the model declares -----------------------------------------------------------------
    def all_parameters(self) -> list[Parameter]:
        """Every sampled quantity: the [parameters] and each region's grid intensity."""
        params = list(self.parameters.values())
        if self.regions is not None:
            params += [r.intensity for r in self.regions.regions]
        return params

    def unit_of(self, name: str) -> str | None:
        if name in self.outputs:
            return self.outputs[name].unit
        for p in self.all_parameters():
            if p.name == name:
                return p.unit
        if name in self.derived:
            return self.derived[name].unit
        return None


def _fix(parameter: Parameter, value, model: Model) -> Parameter:
    def fixed(number):
        return Distribution("fixed", {"value": float(number)})

    if isinstance(value, dict):
        by_month = dict(parameter.by_month) or {m: parameter.dist for m in model.period.months}
        for month, number in value.items():
            by_month[month] = fixed(number)
        return dataclasses.replace(parameter, by_month=by_month)
    if parameter.by_month:
        return dataclasses.replace(parameter, by_month={m: fixed(value) for m in parameter.by_month},
                                   dist=fixed(value) if parameter.dist is not None else None)
    return dataclasses.replace(parameter, dist=fixed(value))
