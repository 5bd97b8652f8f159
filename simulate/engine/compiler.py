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
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats

from ..spec.calendar import days_in_month, decimal_year
from ..spec.correlation import cholesky_of, correlated_names
from ..spec.expressions import evaluate, names_in
from ..spec.model import BUILTIN_NAMES, Derived
from .encoding import DIRICHLET, OPCODES, family_code, family_params, quantile_table
from .separable import profile_splits

SAMPLE, MONTH, DAY = 0, 1, 2   # the rates instructions run at


class DrawProgram(NamedTuple):
    """What the kernel draws: family code and parameters of each slot, and the copula."""

    slot_code: np.ndarray       # (n_slots,) int64 family code
    slot_par: np.ndarray        # (n_slots, 4) float64
    slot_reg: np.ndarray        # (n_slots,) int64 first register written
    slot_stream: np.ndarray     # (n_slots,) int64
    table: np.ndarray           # discrete values/CDFs, quantile tables, Dirichlet log-gamma tables
    corr_regs: np.ndarray       # (k,) registers of rank-correlated parameters (Iman-Conover)
    corr_chol: np.ndarray       # (k, k) lower Cholesky factor of their normal-score correlation
    corr_stream: int
    n_regs: int
    draw_regs: np.ndarray       # the register behind each of Program.draw_names


class EvalProgram(NamedTuple):
    """What the kernel evaluates: instructions at three rates, and how outputs are read."""

    const_reg: np.ndarray
    const_val: np.ndarray
    sample_prog: np.ndarray     # (n, 4) int64, padded
    sample_len: int
    month_prog: np.ndarray      # (n_months, n, 4) int64, padded
    month_len: np.ndarray       # (n_months,)
    day_prog: np.ndarray        # (n_months, n, 4)
    day_len: np.ndarray
    builtin_reg: np.ndarray     # (n_builtins,)
    builtin_val: np.ndarray     # (n_builtins, n_days)
    month_of_day: np.ndarray    # (n_days,)
    days_per_month: np.ndarray  # (n_months,) days of each month inside the period
    out_reg: np.ndarray         # (n_months, n_outputs); for a profile output, the register of its base
    out_is_mean: np.ndarray     # (n_outputs,) bool
    out_profile: np.ndarray     # (n_outputs,) bool: value = base x a deterministic daily factor
    day_factor: np.ndarray      # (n_outputs, n_days) that factor (1 for other outputs)
    month_factor: np.ndarray    # (n_outputs, n_months) its sum (or mean) over each month's days


@dataclass(frozen=True)
class Program:
    """A compiled model: the kernel's two arguments, and the names of what it draws."""

    draws: DrawProgram
    evaluation: EvalProgram
    n_streams: int
    draw_names: tuple           # name of each drawn register, e.g. "pue" or "visits[2023-01]"

    @property
    def n_days(self) -> int:
        return len(self.evaluation.month_of_day)

    @property
    def n_months(self) -> int:
        return len(self.evaluation.days_per_month)

    @property
    def n_outputs(self) -> int:
        return self.evaluation.out_reg.shape[1]

    @property
    def month_of_day(self) -> np.ndarray:
        return self.evaluation.month_of_day

    def cell_sources(self) -> tuple[np.ndarray, np.ndarray]:
        """For every (output, time), the cell whose histogram holds its distribution, and the scale.

        Days of a profile output are read from their month: day = month x factor(day) / factor(month).
        Returns ``(source, scale)``, both ``(n_outputs, n_days + n_months)``.
        """
        e, n_days = self.evaluation, self.n_days
        source = np.tile(np.arange(n_days + self.n_months), (self.n_outputs, 1))
        scale = np.ones(source.shape)
        for o in np.flatnonzero(e.out_profile):
            source[o, :n_days] = n_days + e.month_of_day
            scale[o, :n_days] = e.day_factor[o] / e.month_factor[o, e.month_of_day]
        return source, scale

    def only_days(self, keep) -> "Program":
        """A copy that evaluates only the days where ``keep`` is True (e.g. one month's days)."""
        keep = np.asarray(keep, dtype=bool)
        e = self.evaluation
        return self.with_evaluation(month_of_day=np.ascontiguousarray(e.month_of_day[keep]),
                          builtin_val=np.ascontiguousarray(e.builtin_val[:, keep]),
                          day_factor=np.ascontiguousarray(e.day_factor[:, keep]))

    def only_outputs(self, indices) -> "Program":
        """A copy computing only the outputs at ``indices``."""
        pick, e = list(indices), self.evaluation
        return self.with_evaluation(out_reg=np.ascontiguousarray(e.out_reg[:, pick]),
                          out_is_mean=np.ascontiguousarray(e.out_is_mean[pick]),
                          out_profile=np.ascontiguousarray(e.out_profile[pick]),
                          day_factor=np.ascontiguousarray(e.day_factor[pick]),
                          month_factor=np.ascontiguousarray(e.month_factor[pick]))

    def with_evaluation(self, **changes) -> "Program":
        """A copy whose :class:`EvalProgram` fields are replaced by ``changes``."""
        return Program(self.draws, self.evaluation._replace(**changes), self.n_streams, self.draw_names)


def compile_model(model) -> Program:
    """Turn a validated model into a :class:`Program`."""
    return _Compiler(model).build()


def builtin_values(model) -> np.ndarray:
    """The per-day value of each built-in name, in BUILTIN_NAMES order: (n_builtins, n_days)."""
    period = model.period
    values = {"day_share": model.profile.day_share(period), "days_in_month": days_in_month(period),
              "days_since_start": np.arange(period.n_days, dtype=np.float64),
              "decimal_year": decimal_year(period)}
    return np.vstack([values[name] for name in BUILTIN_NAMES])


class _Compiler:
    def __init__(self, model):
        self.model = model
        self.months = model.period.months
        self.n_regs = 0
        self.consts: dict[float, int] = {}
        self.const_list: list[tuple[float, int]] = []
        self.level: dict[str, int] = {}               # name -> the rate it changes at
        self.reg_by_month: dict[str, list[int]] = {}  # name -> register in each month
        self.codes, self.pars, self.slot_reg, self.slot_stream = [], [], [], []
        self.table: list[float] = []
        self.draw_names: list[str] = []
        self.draw_regs: list[int] = []
        self.temp_pool: list[int] = []

    def build(self) -> Program:
        model = self.model
        params = model.all_parameters()
        self._parameter_slots(params)
        dirichlet_stream = len(params) * len(self.months)
        copula_stream = dirichlet_stream + 1
        self._region_shares(dirichlet_stream)
        builtin_regs = self._builtins()
        derived = self._derived_with_regions()
        out_names = list(model.outputs)
        splits, day_factor, month_factor = self._profile_outputs(out_names, derived)
        roots = [splits[o].base if o in splits else o for o in out_names]
        programs = self._instructions(derived, roots)
        corr_names = correlated_names(model.correlations)
        corr_chol = (cholesky_of(corr_names, model.correlations, path=model.path) if corr_names
                     else np.zeros((0, 0)))
        n_months = len(self.months)
        month_of_day = model.period.month_of_day
        draws = DrawProgram(
            slot_code=np.array(self.codes, dtype=np.int64),
            slot_par=np.array(self.pars, dtype=np.float64).reshape(len(self.codes), 4),
            slot_reg=np.array(self.slot_reg, dtype=np.int64),
            slot_stream=np.array(self.slot_stream, dtype=np.int64),
            table=np.array(self.table if self.table else [0.0], dtype=np.float64),
            corr_regs=np.array([self.reg_by_month[n][0] for n in corr_names], dtype=np.int64),
            corr_chol=corr_chol, corr_stream=copula_stream,
            n_regs=max(self.n_regs, 1), draw_regs=np.array(self.draw_regs, dtype=np.int64))
        month_prog, month_len = _pad(programs[MONTH])
        day_prog, day_len = _pad(programs[DAY])
        evaluation = EvalProgram(
            const_reg=np.array([r for _, r in self.const_list], dtype=np.int64),
            const_val=np.array([v for v, _ in self.const_list], dtype=np.float64),
            sample_prog=_pad([programs[SAMPLE][0]])[0][0], sample_len=len(programs[SAMPLE][0]),
            month_prog=month_prog, month_len=month_len, day_prog=day_prog, day_len=day_len,
            builtin_reg=np.array(builtin_regs, dtype=np.int64), builtin_val=builtin_values(model),
            month_of_day=month_of_day,
            days_per_month=np.bincount(month_of_day, minlength=n_months).astype(np.float64),
            out_reg=np.array([[self.reg_by_month[r][m] for r in roots] for m in range(n_months)],
                             dtype=np.int64).reshape(n_months, len(out_names)),
            out_is_mean=np.array([model.outputs[o].aggregate == "mean" for o in out_names], dtype=np.bool_),
            out_profile=np.array([o in splits for o in out_names], dtype=np.bool_),
            day_factor=day_factor, month_factor=month_factor)
        return Program(draws, evaluation, n_streams=copula_stream + 1, draw_names=tuple(self.draw_names))

    # -- named steps of build() ------------------------------------------------------------------
    def _parameter_slots(self, params):
        """One draw slot per parameter (per month when it varies by month), each on its own stream."""
        n_months = len(self.months)
        for p_index, param in enumerate(params):
            if param.varies_by_month:
                regs = []
                for m, month in enumerate(self.months):
                    reg = self.new_reg()
                    self._slot(param.for_month(month), reg, p_index * n_months + m, f"{param.name}[{month}]")
                    regs.append(reg)
                self.reg_by_month[param.name] = regs
                self.level[param.name] = MONTH
            else:
                reg = self.new_reg()
                self._slot(param.dist, reg, p_index * n_months, param.name)
                self.reg_by_month[param.name] = [reg] * n_months
                self.level[param.name] = SAMPLE

    def _slot(self, dist, reg, stream, name):
        self.codes.append(family_code(dist))
        self.pars.append((family_params(dist, self.table) + [0.0] * 4)[:4])
        self.slot_reg.append(reg)
        self.slot_stream.append(stream)
        self.draw_names.append(name)
        self.draw_regs.append(reg)

    def _region_shares(self, dirichlet_stream):
        """``share_REGION`` registers: one Dirichlet slot, or constants for fixed shares."""
        regions = self.model.regions
        if regions is None:
            return
        share_regs = [self.new_reg() for _ in regions.regions]
        for region, reg in zip(regions.regions, share_regs):
            self.reg_by_month[f"share_{region.name}"] = [reg] * len(self.months)
            self.level[f"share_{region.name}"] = SAMPLE
        if regions.mode == "dirichlet":
            offset = len(self.table)
            for r in regions.regions:   # log-quantile tables of Gamma(alpha_r), normalised in the kernel
                self.table.extend(np.log(quantile_table(stats.gamma(regions.concentration * r.share))).tolist())
            self.codes.append(DIRICHLET)
            self.pars.append([float(offset), float(len(share_regs)), 0.0, 0.0])
            self.slot_reg.append(share_regs[0])
            self.slot_stream.append(dirichlet_stream)
            self.draw_names += [f"share_{r.name}" for r in regions.regions]
            self.draw_regs += share_regs
        else:
            self.const_list += [(r.share, reg) for reg, r in zip(share_regs, regions.regions)]

    def _builtins(self) -> list[int]:
        regs = [self.new_reg() for _ in BUILTIN_NAMES]
        for name, reg in zip(BUILTIN_NAMES, regs):
            self.reg_by_month[name] = [reg] * len(self.months)
            self.level[name] = DAY
        return regs

    def _derived_with_regions(self) -> dict:
        """The model's derived quantities, with the share-weighted ``grid_g_per_kwh`` first.

        The sum is built as a tree, not parsed from text: up to 16 regions it is the left-to-right
        chain ``a + b + c ...`` parsing would give; beyond, halves are summed recursively, so a
        thousand regions nest about 22 levels deep instead of a thousand.
        """
        regions = self.model.regions
        derived = dict(self.model.derived)
        if regions is not None:
            terms = [("mul", ("name", f"share_{r.name}"), ("name", f"grid_{r.name}_g_per_kwh"))
                     for r in regions.regions]

            def total(terms):
                if len(terms) <= 16:
                    node = terms[0]
                    for term in terms[1:]:
                        node = ("add", node, term)
                    return node
                half = len(terms) // 2
                return ("add", total(terms[:half]), total(terms[half:]))

            text = " + ".join(f"share_{r.name} * grid_{r.name}_g_per_kwh" for r in regions.regions)
            derived = {"grid_g_per_kwh": Derived("grid_g_per_kwh", total(terms), text, "gCO2e/kWh",
                                                 "share-weighted grid carbon intensity"),
                       **derived}
        return derived

    def _profile_outputs(self, out_names, derived):
        """Outputs that are a base fixed within each month times a known daily factor (separable.py).

        Adds the synthetic bases to ``derived``; returns the splits and the factors per day and month.
        """
        model, n_months = self.model, len(self.months)
        month_of_day = model.period.month_of_day
        days_per_month = np.bincount(month_of_day, minlength=n_months).astype(np.float64)
        splits, synthetic = profile_splits(out_names, derived, dict(zip(BUILTIN_NAMES, builtin_values(model))))
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
        programs = {SAMPLE: [[]], MONTH: [[] for _ in self.months], DAY: [[] for _ in self.months]}
        for name in _topological(derived, needed):
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

    def _level_of(self, node) -> int:
        return max((self.level[n] for n in names_in(node)), default=-1)

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
            return
        target = self.new_reg()
        months = [0] if level == SAMPLE else range(len(self.months))
        for m in months:
            self.temp_pool_free = list(self.temp_pool)
            out = programs[level][0] if level == SAMPLE else programs[level][m]
            self._emit(node, m, out, target)
        self.reg_by_month[item.name] = [target] * len(self.months)
        self.level[item.name] = level

    def _emit(self, node, month, out, target=None) -> int:
        """Append instructions computing ``node`` in ``month``; return the register holding it."""
        kind = node[0]
        if kind == "num":
            return self.const(node[1])
        if kind == "name":
            return self.reg_by_month[node[1]][month]
        if self._level_of(node) < 0:
            return self.const(float(evaluate(node, {})))
        args = [self._emit(child, month, out) for child in node[1:]]
        for reg in args:
            if reg in self.temp_pool and reg not in self.temp_pool_free:
                self.temp_pool_free.append(reg)
        if target is None:
            if self.temp_pool_free:
                target = self.temp_pool_free.pop()
            else:
                target = self.new_reg()
                self.temp_pool.append(target)
        left = args[0]
        right = args[1] if len(args) > 1 else args[0]
        out.append((OPCODES[kind], target, left, right))
        return target


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
    array = np.zeros((len(programs), max(width, 1), 4), dtype=np.int64)
    for i, prog in enumerate(programs):
        if prog:
            array[i, :len(prog)] = np.array(prog, dtype=np.int64)
    return array, np.array([len(p) for p in programs], dtype=np.int64)
