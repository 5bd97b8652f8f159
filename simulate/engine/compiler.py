"""Compile a :class:`~simulate.spec.model.Model` into the flat arrays the Numba kernel runs.

The kernel is one generic interpreter, compiled once per process (and cached on disk), so a new
model costs no compilation. A model becomes a :class:`Program`, whose two NamedTuples are the
whole contract with the kernel:

* :class:`DrawProgram`, the draw slots: one per parameter and month (month-varying parameters get
  one per month), plus one Dirichlet slot for uncertain region shares. Slot ``s`` writes register
  ``slot_reg[s]`` from its own random stream ``slot_stream[s]``; streams are keyed by (parameter,
  month), so fixing a parameter leaves every other draw unchanged (common random numbers).
* :class:`EvalProgram`, three instruction lists run at three rates: once per sample, once per
  month, once per day. Each instruction is ``(opcode, destination, left, right)`` over registers.
  Constant sub-expressions are folded here, and quantities no output needs are dropped. Beside
  them, the register each output is read from in each month and how it aggregates over a month.

Hoisting by rate: every sub-expression runs at the rate of what it reads, not of the expression it
sits in: ``pue * exp(-decline * (decimal_year - 2024.5))`` computes ``-decline`` once per sample,
the rest once per day; ``days_in_month`` changes once per month. A sub-expression that occurs more
than once (``t - 2021`` in ``ramp(t - 2021) - ramp(t - 2021 - lifetime)``) is computed once. Both
give the same bits as computing everything in place.

Resolution (:mod:`simulate.spec.calendar`): an output at month resolution is evaluated once per
month, on the built-ins' month values, and its month is that value times the month's days in the
period (sum) or the value itself (mean); it has no daily cells. At year resolution it is evaluated
once per year, on the built-ins' year values: its instructions run at a fourth rate, once per
year, in the month program of the year's first month (registers keep their values through the
year's other months, whose programs skip them), and each month is the year's value times the
month's days (sum) or the value itself (mean). One whose days are a known profile of its month
(:mod:`.separable`) keeps its exact monthly value at every resolution.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..spec.calendar import days_in_month, decimal_year, month_values, year_values
from ..spec.correlation import cholesky_of, correlated_names
from ..spec.expressions import children, evaluate, names_in
from ..spec.model import BUILTIN_NAMES, DAILY_BUILTINS, Derived
from .encoding import DIRICHLET, OPCODES, TILE, family_code, family_params, gamma_quantile_table
from .folding import month_series
from .separable import profile_splits

SAMPLE, YEAR, MONTH, DAY = 0, 1, 2, 3   # the rates instructions run at
AT_MONTH = "@month"            # suffix of the month-resolution copy of a name (cannot clash with a model's)
AT_YEAR = "@year"              # suffix of the year-resolution copy


class DrawProgram(NamedTuple):
    """What the kernel draws: family code and parameters of each slot, and the copula."""

    slot_code: np.ndarray       # (n_slots,) int64 family code
    slot_par: np.ndarray        # (n_slots, 4) float64
    slot_reg: np.ndarray        # (n_slots,) int64 first register written
    slot_stream: np.ndarray     # (n_slots,) int64
    table: np.ndarray           # discrete values/CDFs, quantile tables, Dirichlet log-gamma tables
    slot_scores: np.ndarray     # (n_slots,) bool: the slot draws standard normal scores for the copula
    corr_regs: np.ndarray       # (k,) registers of rank-correlated parameters (Gaussian copula)
    corr_chol: np.ndarray       # (k, k) lower Cholesky factor of their normal-score correlation
    corr_slots: np.ndarray      # (k,) the slot of each correlated parameter (its family)
    n_regs: int
    draw_regs: np.ndarray       # the register behind each of Program.draw_names
    scratch_size: int           # doubles of scratch the draws of one tile need (a Dirichlet: 2 k + 1 rows)


class EvalProgram(NamedTuple):
    """What the kernel evaluates: instructions at three rates, and how outputs are read."""

    const_reg: np.ndarray
    const_val: np.ndarray
    sample_prog: np.ndarray     # (n, 5) int64, padded: opcode, target, up to three operands
    sample_len: int
    month_prog: np.ndarray      # (n_months, n, 5) int64, padded
    month_len: np.ndarray       # (n_months,)
    day_prog: np.ndarray        # (n_months, n, 5)
    day_len: np.ndarray
    builtin_reg: np.ndarray     # (n_day_builtins,) registers of the built-ins that change every day
    builtin_val: np.ndarray     # (n_day_builtins, n_days)
    month_builtin_reg: np.ndarray   # (n_month_builtins,) built-ins set once per month (month values)
    month_builtin_val: np.ndarray   # (n_month_builtins, n_months)
    month_of_day: np.ndarray    # (n_days,)
    days_per_month: np.ndarray  # (n_months,) days of each month inside the period
    out_reg: np.ndarray         # (n_months, n_outputs); for a profile output, the register of its base
    out_is_mean: np.ndarray     # (n_outputs,) bool
    out_profile: np.ndarray     # (n_outputs,) bool: known once per month: month = base x month_factor
    out_daily: np.ndarray       # (n_outputs,) bool: has daily cells (day resolution)
    day_factor: np.ndarray      # (n_outputs, n_days) a profile output's day = base x day_factor (else 1)
    month_factor: np.ndarray    # (n_outputs, n_months) its sum (or mean) over each month's days; at month
                                # resolution, the month's days in the period (sum) or 1 (mean)
    out_once: np.ndarray        # (n_outputs,) bool: a one-off total, reported for the whole period only
    year_of_month: np.ndarray   # (n_months,) index of each month's calendar year in the period
    days_per_year: np.ndarray   # (n_years,) days of each year inside the period
    reduce_year: np.ndarray     # (n_outputs, n_years) bool: accumulate the year (False: it is one month)
    reduce_total: np.ndarray    # (n_outputs,) bool: accumulate the period (False: it is one month or year)


@dataclass(frozen=True)
class Program:
    """A compiled model: the kernel's two arguments, and the names of what it draws."""

    draws: DrawProgram
    evaluation: EvalProgram
    n_streams: int
    draw_names: tuple           # name of each drawn register, e.g. "pue" or "visits[2023-01]"
    draw_keys: tuple = ()       # (flat parameter or share name, "YYYY-MM" or "") of each draw
    year_len: tuple = ()        # per month: its program's leading once-per-year instructions (year resolution)

    @property
    def n_days(self) -> int:
        return len(self.evaluation.month_of_day)

    @property
    def n_months(self) -> int:
        return len(self.evaluation.days_per_month)

    @property
    def n_years(self) -> int:
        return len(self.evaluation.days_per_year)

    @property
    def n_times(self) -> int:
        """Cells per output: days, months, years, and the whole period."""
        return self.n_days + self.n_months + self.n_years + 1

    @property
    def n_outputs(self) -> int:
        return self.evaluation.out_reg.shape[1]

    @property
    def month_of_day(self) -> np.ndarray:
        return self.evaluation.month_of_day

    @property
    def daily_outputs(self) -> np.ndarray:
        """``(n_outputs,)`` bool: the outputs that have daily cells (day resolution)."""
        return self.evaluation.out_daily

    def cell_sources(self) -> tuple[np.ndarray, np.ndarray]:
        """For every (output, time), the cell whose histogram holds its distribution, and the scale.

        Days of a profile output are read from their month: day = month x factor(day) / factor(month).
        A year that is one month of the period reads that month, and a period that is one year (or
        month) reads it. Returns ``(source, scale)``, both ``(n_outputs, n_times)``.
        """
        e, n_days, n_months = self.evaluation, self.n_days, self.n_months
        source = np.tile(np.arange(self.n_times), (self.n_outputs, 1))
        scale = np.ones(source.shape)
        for o in np.flatnonzero(e.out_profile & e.out_daily):
            source[o, :n_days] = n_days + e.month_of_day
            scale[o, :n_days] = e.day_factor[o] / e.month_factor[o, e.month_of_day]
        first_year, total = n_days + n_months, self.n_times - 1
        for o in range(self.n_outputs):
            for y in np.flatnonzero(~e.reduce_year[o]):
                source[o, first_year + y] = n_days + int(np.flatnonzero(e.year_of_month == y)[0])
            if not e.reduce_total[o]:
                source[o, total] = source[o, first_year]    # one year: the period is that year
        return source, scale

    def checked_cells(self) -> np.ndarray:
        """``(n_outputs, n_times)`` bool: the cells ``rtol`` and ``max_relative_error`` check: every
        day and month that holds its own histogram, and the whole period of one-off outputs."""
        source, _ = self.cell_sources()
        own = source == np.arange(self.n_times)
        own[~self.evaluation.out_daily, :self.n_days] = False
        own[:, self.n_days + self.n_months:] = False
        own[self.evaluation.out_once, -1] = True
        own[self.evaluation.out_once, :self.n_days + self.n_months] = False
        return own

    def only_days(self, keep) -> "Program":
        """A copy that evaluates only the days where ``keep`` is True (e.g. one month's days).

        A year's once-per-year instructions run in its first month; when that month is left out,
        they move to the year's first month kept."""
        keep = np.asarray(keep, dtype=bool)
        e = self.evaluation
        return self.with_evaluation(month_of_day=np.ascontiguousarray(e.month_of_day[keep]),
                                    builtin_val=np.ascontiguousarray(e.builtin_val[:, keep]),
                                    day_factor=np.ascontiguousarray(e.day_factor[:, keep]),
                                    **self._year_programs_for(np.unique(e.month_of_day[keep])))

    def _year_programs_for(self, months) -> dict:
        """``month_prog``/``month_len`` whose first kept month of each year runs that year's
        once-per-year instructions (empty when nothing moves)."""
        e, kept, moves = self.evaluation, {int(m) for m in months}, {}
        for m in sorted(kept):
            first = int(np.flatnonzero(e.year_of_month == e.year_of_month[m])[0])
            if first not in kept and first not in moves.values() and self.year_len and self.year_len[first]:
                moves[m] = first
        if not moves:
            return {}
        programs = [list(map(tuple, e.month_prog[m, :e.month_len[m]])) for m in range(len(e.month_len))]
        for m, first in moves.items():
            programs[m] = programs[first][:self.year_len[first]] + programs[m]
        month_prog, month_len = _pad(programs)
        return {"month_prog": month_prog, "month_len": month_len}

    def only_outputs(self, indices) -> "Program":
        """A copy computing only the outputs at ``indices``."""
        pick, e = list(indices), self.evaluation
        return self.with_evaluation(out_reg=np.ascontiguousarray(e.out_reg[:, pick]),
                                    out_is_mean=np.ascontiguousarray(e.out_is_mean[pick]),
                                    out_profile=np.ascontiguousarray(e.out_profile[pick]),
                                    out_daily=np.ascontiguousarray(e.out_daily[pick]),
                                    day_factor=np.ascontiguousarray(e.day_factor[pick]),
                                    month_factor=np.ascontiguousarray(e.month_factor[pick]),
                                    out_once=np.ascontiguousarray(e.out_once[pick]),
                                    reduce_year=np.ascontiguousarray(e.reduce_year[pick]),
                                    reduce_total=np.ascontiguousarray(e.reduce_total[pick]))

    def with_evaluation(self, **changes) -> "Program":
        """A copy whose :class:`EvalProgram` fields are replaced by ``changes``."""
        return Program(self.draws, self.evaluation._replace(**changes), self.n_streams, self.draw_names, self.draw_keys,
                       self.year_len)


def compile_model(model) -> Program:
    """Turn a validated model into a :class:`Program` (its dimensions unrolled: ``model.flat``)."""
    return _Compiler(model.flat).build()


def builtin_values(model) -> np.ndarray:
    """The per-day value of each built-in name, in BUILTIN_NAMES order: (n_builtins, n_days)."""
    period = model.period
    values = {"day_share": model.profile.day_share(period), "days_in_month": days_in_month(period),
              "days_since_start": np.arange(period.n_days, dtype=np.float64),
              "decimal_year": decimal_year(period)}
    return np.vstack([values[name] for name in BUILTIN_NAMES])


def month_builtin_values(model) -> dict[str, np.ndarray]:
    """Each built-in name's value per month at month resolution (see ``spec.calendar.month_values``)."""
    return month_values(model.period, model.profile.day_share(model.period))


def year_builtin_values(model) -> dict[str, np.ndarray]:
    """Each built-in name's value per month at year resolution: its year's (``spec.calendar.year_values``)."""
    return year_values(model.period, model.profile.day_share(model.period))


class _Compiler:
    def __init__(self, model):
        self.model = model
        self.months = model.period.months
        years = [m[:4] for m in self.months]
        self.year_first = [years.index(y) for y in years]   # each month's year's first month
        self.yearly = any(model.resolution_of(o) == "year" for o in model.outputs)
        self.n_regs = 0
        self.consts: dict[float, int] = {}
        self.const_list: list[tuple[float, int]] = []
        self.level: dict[str, int] = {}               # name -> the rate it changes at
        self.reg_by_month: dict[str, list[int]] = {}  # name -> register in each month
        self.codes, self.pars, self.slot_reg, self.slot_stream = [], [], [], []
        self.table: list[float] = []
        self.draw_names: list[str] = []
        self.draw_keys: list[tuple] = []
        self.draw_regs: list[int] = []
        self.temp_pool: list[int] = []
        self.temp_pool_free: list[int] = []
        self.shared: dict = {}                        # sub-expression -> its own register (hoisted or repeated)
        self.emitted: set = set()                     # (sub-expression, month) already computed
        self.repeated: set = set()                    # sub-expressions that occur more than once
        self.month_known: dict[str, list] = {}        # sample-free month-rate name -> its value per month
        self.month_fills: dict = {}                   # folded sub-expression -> (register, value per month)
        self.names_of: dict = {}                      # sub-expression -> the names it reads
        self.day_values = dict(zip(BUILTIN_NAMES, builtin_values(model)))   # built-in name -> value per day

    def build(self) -> Program:
        model = self.model
        params = list(model.parameters.values())
        self._parameter_slots(params)
        # streams: (parameter, month) pairs, then one per set of shares (the copula reads the
        # correlated parameters' own streams)
        shares_stream = len(params) * len(self.months)
        n_streams = shares_stream + max(len(model.shares), 1)
        self._shares(shares_stream)
        day_builtins, month_builtins = self._builtins()
        derived = dict(model.derived)
        out_names = list(model.outputs)
        daily = np.array([model.resolution_of(o) == "day" for o in out_names], dtype=np.bool_)
        splits, day_factor, month_factor = self._profile_outputs(out_names, derived)
        roots = []
        for o, name in enumerate(out_names):
            if name in splits:
                roots.append(splits[name].base)
            elif daily[o]:
                roots.append(name)
            else:   # month or year: the output's copy on the built-ins' month (year) values, weighted by days
                year = model.resolution_of(name) == "year"
                roots.append(_at_resolution(name, derived, AT_YEAR if year else AT_MONTH,
                                            BUILTIN_NAMES if year else DAILY_BUILTINS))
                month_factor[o] = 1.0 if model.outputs[name].aggregate == "mean" else self._days_per_month()
        programs = self._instructions(derived, roots)
        corr_names = correlated_names(model.correlations)
        corr_chol = (cholesky_of(corr_names, model.correlations, path=model.path) if corr_names
                     else np.zeros((0, 0)))
        corr_regs = np.array([self.reg_by_month[n][0] for n in corr_names], dtype=np.int64)
        corr_slots = np.array([self.slot_reg.index(r) for r in corr_regs], dtype=np.int64)
        slot_scores = np.zeros(len(self.codes), dtype=np.bool_)
        slot_scores[corr_slots] = True
        n_months = len(self.months)
        month_of_day = model.period.month_of_day
        draws = DrawProgram(
            slot_code=np.array(self.codes, dtype=np.int64),
            slot_par=np.array(self.pars, dtype=np.float64).reshape(len(self.codes), 4),
            slot_reg=np.array(self.slot_reg, dtype=np.int64),
            slot_stream=np.array(self.slot_stream, dtype=np.int64),
            table=np.array(self.table if self.table else [0.0], dtype=np.float64),
            slot_scores=slot_scores, corr_regs=corr_regs, corr_chol=corr_chol, corr_slots=corr_slots,
            n_regs=max(self.n_regs, 1), draw_regs=np.array(self.draw_regs, dtype=np.int64),
            scratch_size=TILE * max([1] + [2 * int(par[1]) + 1 for code, par in zip(self.codes, self.pars)
                                           if code == DIRICHLET]))
        month_prog, month_len = _pad([y + m for y, m in zip(programs[YEAR], programs[MONTH])])
        day_prog, day_len = _pad(programs[DAY])
        day_values = self.day_values
        evaluation = EvalProgram(
            const_reg=np.array([r for _, r in self.const_list], dtype=np.int64),
            const_val=np.array([v for v, _ in self.const_list], dtype=np.float64),
            sample_prog=_pad([programs[SAMPLE][0]])[0][0], sample_len=len(programs[SAMPLE][0]),
            month_prog=month_prog, month_len=month_len, day_prog=day_prog, day_len=day_len,
            builtin_reg=np.array([reg for _, reg in day_builtins], dtype=np.int64),
            builtin_val=np.array([day_values[name] for name, _ in day_builtins],
                                 dtype=np.float64).reshape(len(day_builtins), model.period.n_days),
            month_builtin_reg=np.array([reg for _, reg in month_builtins]
                                       + [reg for reg, _ in self.month_fills.values()], dtype=np.int64),
            month_builtin_val=np.array([self.month_known[name] for name, _ in month_builtins]
                                       + [values for _, values in self.month_fills.values()],
                                       dtype=np.float64).reshape(len(month_builtins) + len(self.month_fills), n_months),
            month_of_day=month_of_day,
            days_per_month=self._days_per_month(),
            out_reg=np.array([[self.reg_by_month[r][m] for r in roots] for m in range(n_months)],
                             dtype=np.int64).reshape(n_months, len(out_names)),
            out_is_mean=np.array([model.outputs[o].aggregate == "mean" for o in out_names], dtype=np.bool_),
            out_profile=np.array([o in splits or not daily[i] for i, o in enumerate(out_names)], dtype=np.bool_),
            out_daily=daily, day_factor=day_factor, month_factor=month_factor,
            **_period_cells(model, out_names))
        return Program(draws, evaluation, n_streams=n_streams, draw_names=tuple(self.draw_names),
                       draw_keys=tuple(self.draw_keys), year_len=tuple(len(p) for p in programs[YEAR]))

    def _days_per_month(self) -> np.ndarray:
        return np.bincount(self.model.period.month_of_day, minlength=len(self.months)).astype(np.float64)

    # -- named steps of build() ------------------------------------------------------------------
    def _parameter_slots(self, params):
        """One draw slot per parameter (per month when it varies by month), each on its own stream."""
        n_months = len(self.months)
        for p_index, param in enumerate(params):
            if param.varies_by_month:
                regs = []
                for m, month in enumerate(self.months):
                    reg = self.new_reg()
                    self._slot(param.for_month(month), reg, p_index * n_months + m, f"{param.name}[{month}]",
                               (param.name, month))
                    regs.append(reg)
                self.reg_by_month[param.name] = regs
                self.level[param.name] = MONTH
            else:
                reg = self.new_reg()
                self._slot(param.dist, reg, p_index * n_months, param.name, (param.name, ""))
                self.reg_by_month[param.name] = [reg] * n_months
                self.level[param.name] = SAMPLE

    def _slot(self, dist, reg, stream, name, key):
        self.codes.append(family_code(dist))
        self.pars.append((family_params(dist, self.table) + [0.0] * 4)[:4])
        self.slot_reg.append(reg)
        self.slot_stream.append(stream)
        self.draw_names.append(name)
        self.draw_keys.append(key)
        self.draw_regs.append(reg)

    def _shares(self, first_stream):
        """Registers of every coordinate of each set of shares: one Dirichlet slot each (its own
        stream), or constants for fixed shares."""
        for j, shares in enumerate(self.model.shares.values()):
            regs = [self.new_reg() for _ in shares.names]
            for name, reg in zip(shares.names, regs):
                self.reg_by_month[name] = [reg] * len(self.months)
                self.level[name] = SAMPLE
            if shares.mode == "dirichlet":
                offset = len(self.table)
                for share in shares.shares:   # log-quantile tables of Gamma(alpha_k), normalised in the kernel
                    with np.errstate(divide="ignore"):   # a share a scenario pins at 0: log 0 = -inf, drawn as 0
                        self.table.extend(np.log(gamma_quantile_table(shares.concentration * share)).tolist())
                self.codes.append(DIRICHLET)
                self.pars.append([float(offset), float(len(regs)), 0.0, 0.0])
                self.slot_reg.append(regs[0])
                self.slot_stream.append(first_stream + j)
                self.draw_names += list(shares.names)
                self.draw_keys += [(name, "") for name in shares.names]
                self.draw_regs += regs
            else:
                self.const_list += list(zip(shares.shares, regs))

    def _builtins(self):
        """Registers of the built-in names: those that change every day are set by the kernel on each
        day; ``days_in_month`` and the month-resolution values (``decimal_year@month``, ...) once per
        month, as are the year-resolution values (``decimal_year@year``, set in every month to its
        year's value, read at the once-per-year rate) when some output is evaluated once per year.
        Returns ``([(name, reg)] per day, [(name, reg)] per month)``."""
        per_day, per_month = [], []
        for name in BUILTIN_NAMES:
            daily = name in DAILY_BUILTINS
            for key, rate, table in ((name, DAY if daily else MONTH, per_day if daily else per_month),
                                     (name + AT_MONTH, MONTH, per_month), (name + AT_YEAR, YEAR, per_month)):
                if key.endswith(AT_MONTH) and not daily:
                    continue    # days_in_month is the same at both resolutions
                if key.endswith(AT_YEAR) and not self.yearly:
                    continue
                reg = self.new_reg()
                self.reg_by_month[key] = [reg] * len(self.months)
                self.level[key] = rate
                table.append((key, reg))
        month_values_ = self._month_rate_values()
        for key, _ in per_month:
            self.month_known[key] = [float(v) for v in month_values_[key]]
        return per_day, per_month

    def _month_rate_values(self) -> dict[str, np.ndarray]:
        """The value in each month of every built-in register set once per month, by register name:
        ``days_in_month``, the month-resolution copies (``decimal_year@month``) and, when some
        output is evaluated once per year, the year-resolution ones (``decimal_year@year``)."""
        values = {name + AT_MONTH: v for name, v in month_builtin_values(self.model).items()}
        values.update({name: values.pop(name + AT_MONTH) for name in BUILTIN_NAMES
                       if name not in DAILY_BUILTINS})   # days_in_month: the same at both
        if self.yearly:
            values.update({name + AT_YEAR: v for name, v in year_builtin_values(self.model).items()})
        return values

    def _profile_outputs(self, out_names, derived):
        """Outputs that are a base fixed within each month times a known daily factor (separable.py).

        Adds the synthetic bases to ``derived``; returns the splits and the factors per day and month.
        """
        model, n_months = self.model, len(self.months)
        month_of_day = model.period.month_of_day
        days_per_month = self._days_per_month()
        splits, synthetic = profile_splits(out_names, derived, self.day_values)
        derived.update(synthetic)
        day_factor = np.ones((len(out_names), model.period.n_days))
        month_factor = np.ones((len(out_names), n_months))
        for o, name in enumerate(out_names):
            if name in splits:
                total = np.bincount(month_of_day, weights=splits[name].day_factor, minlength=n_months)
                if model.outputs[name].aggregate == "mean":
                    total = total / days_per_month
                if np.all(np.isfinite(total)) and np.all(total != 0):
                    day_factor[o], month_factor[o] = splits[name].day_factor, total
                else:
                    del splits[name]
        return splits, day_factor, month_factor

    def _instructions(self, derived, roots) -> dict:
        """Instruction lists per rate for every derived quantity the outputs need, in dependency order."""
        needed = _needed(derived, roots)
        order = _topological(derived, needed)
        self.repeated = _repeated_subexpressions(derived[name].node for name in order)
        programs = {SAMPLE: [[]], YEAR: [[] for _ in self.months], MONTH: [[] for _ in self.months],
                    DAY: [[] for _ in self.months]}
        for name in order:
            self._compile_derived(derived[name], programs)
        return programs

    # -- registers and instructions --------------------------------------------------------------
    def new_reg(self) -> int:
        self.n_regs += 1
        return self.n_regs - 1

    def const(self, value: float) -> int:
        key = float(value)
        if key in self.consts:
            return self.consts[key]
        reg = self.new_reg()  # NaN never equals itself, so each NaN gets a register of its own
        self.consts[key] = reg
        self.const_list.append((key, reg))
        return reg

    def _names_in(self, node) -> set:
        """``names_in(node)``, remembered: the compiler asks it of every sub-expression, many times."""
        names = self.names_of.get(node)
        if names is None:
            names = self.names_of[node] = names_in(node)
        return names

    def _level_of(self, node) -> int:
        return max((self.level[n] for n in self._names_in(node)), default=-1)

    def _compile_derived(self, item, programs):
        level = self._level_of(item.node)
        node = item.node
        if level < 0:  # a constant: fold it
            reg = self.const(float(evaluate(node, {})))
            self.reg_by_month[item.name] = [reg] * len(self.months)
            self.level[item.name] = SAMPLE
            return
        if node[0] == "name":  # an alias shares the register of what it names
            self.reg_by_month[item.name] = self.reg_by_month[node[1]]
            self.level[item.name] = self.level[node[1]]
            if node[1] in self.month_known:
                self.month_known[item.name] = self.month_known[node[1]]
            return
        folded = self._folded(node, level)
        if folded is not None:
            self.reg_by_month[item.name] = [folded] * len(self.months)
            self.level[item.name] = MONTH
            self.month_known[item.name] = self.month_fills[node][1]
            return
        target = self.new_reg()
        for m in self._months_at(level):
            self.temp_pool_free = list(self.temp_pool)
            self._emit(node, m, level, programs, target)
        self.reg_by_month[item.name] = [target] * len(self.months)
        self.level[item.name] = level

    def _months_at(self, level):
        """The months whose programs compute a quantity of rate ``level``: the first (once per sample),
        each year's first (once per year), or every month."""
        if level == SAMPLE:
            return [0]
        if level == YEAR:
            return sorted(set(self.year_first))
        return range(len(self.months))

    def _rate_month(self, level, month) -> int:
        """The month whose program computes a ``level`` quantity read in ``month``."""
        return 0 if level == SAMPLE else self.year_first[month] if level == YEAR else month

    def _emit(self, node, month, level, programs, target=None) -> int:
        """Append instructions computing ``node`` in ``month`` at ``level`` (the rate of the expression
        being compiled); return the register holding it. A sub-expression of a lower rate goes to
        its own rate's program, and one that occurs more than once is computed once, each into a
        register of its own."""
        kind = node[0]
        if kind == "num":
            return self.const(node[1])
        if kind == "name":
            return self.reg_by_month[node[1]][month]
        node_level = self._level_of(node)
        if node_level < 0:
            return self.const(float(evaluate(node, {})))
        folded = self._folded(node, node_level) if target is None else None
        if folded is not None:
            return folded
        if target is None and (node_level < level or node in self.repeated):
            return self._shared(node, month, node_level, programs, hoisted=node_level < level)
        out = programs[level][self._rate_month(level, month)]

        def emit(child):
            return self._emit(child, month, level, programs)

        if kind == "min" and self._fusable(node[1], "max", level):   # min(max(x, lo), hi): one clip
            return self._op("clip", [emit(node[1][1]), emit(node[1][2]), emit(node[2])], out, target)
        if kind == "addn":   # a flat sum, added left to right without nesting; a product term is fused
            total = emit(node[1])
            for i, child in enumerate(node[2:]):
                into = target if i == len(node) - 3 else None
                if self._fusable(child, "mul", level):
                    total = self._op("muladd", [emit(child[1]), emit(child[2]), total], out, into)
                else:
                    total = self._op("add", [total, emit(child)], out, into)
            return total
        if kind == "add":
            for product, other in ((node[2], node[1]), (node[1], node[2])):
                if self._fusable(product, "mul", level):   # x * y + other, rounded as other + x * y
                    return self._op("muladd", [emit(product[1]), emit(product[2]), emit(other)], out, target)
        return self._op(kind, [emit(child) for child in node[1:]], out, target)

    def _fusable(self, node, kind, level) -> bool:
        """Whether ``node`` is a ``kind`` operation computed in place at ``level``: not hoisted to a
        lower rate, not shared, not folded; then its parent can take its operands in one instruction."""
        return (node[0] == kind and node not in self.repeated and self._level_of(node) == level
                and self._folded(node, level) is None)

    def _folded(self, node, level):
        """The register of a sample-free month-rate sub-expression, loaded with its value each month
        (see folding.py), or None when ``node`` depends on a draw or does not fold."""
        if level != MONTH:
            return None
        if node not in self.month_fills:
            used = self._names_in(node)
            if not all(name in self.month_known for name in used):
                return None
            series = month_series(node, self.month_known, used, len(self.months))
            if series is None:
                return None
            self.month_fills[node] = (self.new_reg(), series)
        return self.month_fills[node][0]

    def _shared(self, node, month, level, programs, hoisted) -> int:
        """The register of a hoisted or repeated sub-expression, computed in its rate's program the
        first time it is met in ``month`` (once for a per-sample one). A hoisted one runs in an
        earlier program than the code reading it, so every temporary is free for it; a repeated one
        runs in place and leaves the temporaries in use alone."""
        key = (node, self._rate_month(level, month))
        if node not in self.shared:
            self.shared[node] = self.new_reg()
        reg = self.shared[node]
        if key not in self.emitted:
            self.emitted.add(key)
            free = self.temp_pool_free
            if hoisted:
                self.temp_pool_free = list(self.temp_pool)
            self._emit(node, key[1], level, programs, reg)
            if hoisted:
                self.temp_pool_free = free
        return reg

    def _op(self, kind, args, out, target=None) -> int:
        """Append one instruction on the registers ``args``; temporaries they held are reused."""
        for reg in args:
            if reg in self.temp_pool and reg not in self.temp_pool_free:
                self.temp_pool_free.append(reg)
        if target is None:
            if self.temp_pool_free:
                target = self.temp_pool_free.pop()
            else:
                target = self.new_reg()
                self.temp_pool.append(target)
        first = args[0]
        second = args[1] if len(args) > 1 else first
        third = args[2] if len(args) > 2 else first
        out.append((OPCODES[kind], target, first, second, third))
        return target


def _at_resolution(name: str, derived: dict, suffix: str, changing) -> str:
    """The name of ``name``'s month- (``suffix`` AT_MONTH) or year-resolution (AT_YEAR) copy: every
    derived quantity on the way that reads a built-in in ``changing`` (those that change within the
    time step) gets a copy reading its value at that resolution (``decimal_year@month``);
    ``derived`` gains the copies. Names that do not change within the step are their own copy."""
    memo: dict[str, str] = {}
    label = "month resolution" if suffix == AT_MONTH else "year resolution"

    def copy(n: str) -> str:
        if n in memo:
            return memo[n]
        if n in changing:
            memo[n] = n + suffix
        elif n in derived:
            item = derived[n]
            node = rename(item.node)
            memo[n] = n if node == item.node else n + suffix
            if memo[n] != n:
                derived[memo[n]] = Derived(memo[n], node, item.text, item.unit, f"{item.long_name}, {label}")
        else:
            memo[n] = n
        return memo[n]

    def rename(node):
        if node[0] == "name":
            return ("name", copy(node[1]))
        if node[0] == "num":
            return node
        return (node[0],) + tuple(rename(child) for child in node[1:])

    return copy(name)


def _repeated_subexpressions(nodes) -> set:
    """Compound sub-expressions that occur more than once among ``nodes`` (and inside each other)."""
    seen, repeated = set(), set()

    def walk(node):
        if node[0] in ("num", "name"):
            return
        if node in seen:
            repeated.add(node)
            return
        seen.add(node)
        for child in children(node):
            walk(child)

    for node in nodes:
        walk(node)
    return repeated


def _period_cells(model, out_names) -> dict:
    """The EvalProgram fields for yearly and whole-period cells (see ``_kernel._evaluate_tile``)."""
    months = model.period.months
    years = sorted({int(m[:4]) for m in months})
    year_of_month = np.array([years.index(int(m[:4])) for m in months], dtype=np.int64)
    month_of_day = model.period.month_of_day
    days_per_year = np.bincount(year_of_month[month_of_day], minlength=len(years)).astype(np.float64)
    once = np.array([model.outputs[o].aggregate == "once" for o in out_names], dtype=np.bool_)
    months_per_year = np.bincount(year_of_month, minlength=len(years))
    reduce_year = np.repeat((months_per_year > 1)[None, :], len(out_names), axis=0) & ~once[:, None]
    reduce_total = np.full(len(out_names), len(months) > 1 and len(years) > 1) | once
    return {"out_once": once, "year_of_month": year_of_month, "days_per_year": days_per_year,
            "reduce_year": reduce_year, "reduce_total": reduce_total}


def _needed(derived, roots) -> set[str]:
    """Every name the ``roots`` depend on, through derived quantities."""
    needed, stack = set(), list(roots)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in derived:
            stack.extend(names_in(derived[name].node))
    return needed


def _topological(derived, needed) -> list[str]:
    """The needed derived quantities, each after everything it uses."""
    order, done = [], set()

    def visit(name):
        if name in done or name not in derived:
            return
        done.add(name)
        for used in sorted(names_in(derived[name].node)):
            visit(used)
        order.append(name)

    for name in derived:
        if name in needed:
            visit(name)
    return order


def _pad(programs):
    width = max((len(p) for p in programs), default=0)
    array = np.zeros((len(programs), max(width, 1), 5), dtype=np.int64)
    for i, prog in enumerate(programs):
        if prog:
            array[i, :len(prog)] = np.array(prog, dtype=np.int64)
    return array, np.array([len(p) for p in programs], dtype=np.int64)
