"""Compile a :class:`~simulate.model.Model` into the flat arrays the Numba kernel runs.

The kernel is one generic interpreter, compiled once per process (and cached on disk), so a new
model costs no compilation. A model becomes:

* draw slots: one per parameter and month (month-varying parameters get one per month), plus one
  Dirichlet slot for uncertain region shares. Slot ``s`` writes register ``slot_reg[s]`` from its
  own random stream ``slot_stream[s]``; streams are keyed by (parameter, month), so fixing a
  parameter leaves every other draw unchanged (common random numbers).
* three instruction lists, run at three rates: once per sample, once per month, once per day.
  Each instruction is ``(opcode, destination, left, right)`` over registers. Constant
  sub-expressions are folded here, and quantities no output needs are dropped.
* the register each output is read from in each month, and how it aggregates over a month.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .calendar import days_in_month, decimal_year
from scipy import stats

from .distributions import DIRICHLET, quantile_table
from .expressions import evaluate, names_in, parse_expression
from .model import BUILTIN_NAMES, Derived
from .separable import profile_splits

OPCODES = {"add": 0, "sub": 1, "mul": 2, "div": 3, "pow": 4, "neg": 5, "min": 6, "max": 7,
           "exp": 8, "log": 9, "sqrt": 10}
SAMPLE, MONTH, DAY = 0, 1, 2


@dataclass
class Program:
    """Everything the kernel needs to evaluate one model, as numpy arrays."""

    n_regs: int
    n_streams: int
    slot_code: np.ndarray       # (n_slots,) int64 family code
    slot_par: np.ndarray        # (n_slots, 4) float64
    slot_reg: np.ndarray        # (n_slots,) int64 first register written
    slot_stream: np.ndarray     # (n_slots,) int64
    table: np.ndarray           # discrete values/CDFs and Dirichlet alphas
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
    corr_regs: np.ndarray       # (k,) registers of rank-correlated parameters (Iman-Conover)
    corr_chol: np.ndarray       # (k, k) lower Cholesky factor of their normal-score correlation
    corr_stream: int
    draw_names: list            # name of each drawn register, e.g. "pue" or "visits[2023-01]"
    draw_regs: np.ndarray       # the registers behind draw_names

    @property
    def n_days(self) -> int:
        return len(self.month_of_day)

    @property
    def n_months(self) -> int:
        return len(self.days_per_month)

    def cell_sources(self) -> tuple[np.ndarray, np.ndarray]:
        """For every (output, time), the cell whose histogram holds its distribution, and the scale.

        Days of a profile output are read from their month: day = month x factor(day) / factor(month).
        Returns ``(source, scale)``, both ``(n_outputs, n_days + n_months)``.
        """
        n_out, n_days = self.out_reg.shape[1], self.n_days
        source = np.tile(np.arange(n_days + self.n_months), (n_out, 1))
        scale = np.ones(source.shape)
        for o in np.flatnonzero(self.out_profile):
            source[o, :n_days] = n_days + self.month_of_day
            scale[o, :n_days] = self.day_factor[o] / self.month_factor[o, self.month_of_day]
        return source, scale

    def only_days(self, keep) -> "Program":
        """A copy that evaluates only the days where ``keep`` is True (e.g. one month's days)."""
        keep = np.asarray(keep, dtype=bool)
        return dataclasses.replace(
            self, month_of_day=np.ascontiguousarray(self.month_of_day[keep]),
            builtin_val=np.ascontiguousarray(self.builtin_val[:, keep]),
            day_factor=np.ascontiguousarray(self.day_factor[:, keep]))

    def only_outputs(self, indices) -> "Program":
        """A copy computing only the outputs at ``indices``."""
        pick = list(indices)
        return dataclasses.replace(
            self, out_reg=np.ascontiguousarray(self.out_reg[:, pick]),
            out_is_mean=np.ascontiguousarray(self.out_is_mean[pick]),
            out_profile=np.ascontiguousarray(self.out_profile[pick]),
            day_factor=np.ascontiguousarray(self.day_factor[pick]),
            month_factor=np.ascontiguousarray(self.month_factor[pick]))


def compile_model(model) -> Program:
    """Turn a validated model into a :class:`Program`."""
    return _Compiler(model).build()


class _Compiler:
    def __init__(self, model):
        self.model = model
        self.months = model.period.months
        self.n_regs = 0
        self.consts: dict[float, int] = {}
        self.const_list: list[tuple[float, int]] = []
        self.level: dict[str, int] = {}
        self.reg_by_month: dict[str, list[int]] = {}  # name -> register in each month

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

    def build(self) -> Program:
        model, n_months = self.model, len(self.months)
        params = model.all_parameters()
        slots, table, draw_names, draw_regs = [], [], [], []
        for p_index, param in enumerate(params):
            if param.varies_by_month:
                regs = []
                for m, month in enumerate(self.months):
                    reg = self.new_reg()
                    slots.append((param.for_month(month), reg, 1, p_index * n_months + m))
                    draw_names.append(f"{param.name}[{month}]")
                    draw_regs.append(reg)
                    regs.append(reg)
                self.reg_by_month[param.name] = regs
                self.level[param.name] = MONTH
            else:
                reg = self.new_reg()
                slots.append((param.dist, reg, 1, p_index * n_months))
                draw_names.append(param.name)
                draw_regs.append(reg)
                self.reg_by_month[param.name] = [reg] * n_months
                self.level[param.name] = SAMPLE
        dirichlet_stream = len(params) * n_months
        copula_stream = dirichlet_stream + 1
        n_streams = copula_stream + 1
        codes, pars = [], []
        for dist, reg, width, stream in slots:
            codes.append(dist.kernel_code())
            pars.append((dist.kernel_params(table) + [0.0] * 4)[:4])
        slot_reg = [s[1] for s in slots]
        slot_stream = [s[3] for s in slots]
        regions = model.regions
        if regions is not None:
            share_regs = [self.new_reg() for _ in regions.regions]
            for region, reg in zip(regions.regions, share_regs):
                self.reg_by_month[f"share_{region.name}"] = [reg] * n_months
                self.level[f"share_{region.name}"] = SAMPLE
            if regions.mode == "dirichlet":
                offset = len(table)
                for r in regions.regions:   # log-quantile tables of Gamma(alpha_r), normalised in the kernel
                    table.extend(np.log(quantile_table(stats.gamma(regions.concentration * r.share))).tolist())
                codes.append(DIRICHLET)
                pars.append([float(offset), float(len(share_regs)), 0.0, 0.0])
                slot_reg.append(share_regs[0])
                slot_stream.append(dirichlet_stream)
                draw_names += [f"share_{r.name}" for r in regions.regions]
                draw_regs += share_regs
            else:  # fixed shares are constants
                self.const_list += [(r.share, reg) for reg, r in zip(share_regs, regions.regions)]
        self.builtin_names = list(BUILTIN_NAMES)
        builtin_regs = [self.new_reg() for _ in self.builtin_names]
        for name, reg in zip(self.builtin_names, builtin_regs):
            self.reg_by_month[name] = [reg] * n_months
            self.level[name] = DAY

        derived = dict(model.derived)
        if regions is not None:
            text = " + ".join(f"share_{r.name} * grid_{r.name}_g_per_kwh" for r in regions.regions)
            derived = {"grid_g_per_kwh": Derived("grid_g_per_kwh", parse_expression(text, field="regions"),
                                                 text, "gCO2e/kWh", "share-weighted grid carbon intensity"),
                       **derived}
        period = model.period
        month_of_day = period.month_of_day
        days_per_month = np.bincount(month_of_day, minlength=n_months).astype(np.float64)
        out_names = list(model.outputs)
        splits, synthetic = profile_splits(out_names, derived, dict(zip(BUILTIN_NAMES, builtin_values(model))))
        derived.update(synthetic)
        day_factor, month_factor = np.ones((len(out_names), period.n_days)), np.ones((len(out_names), n_months))
        for o, name in enumerate(out_names):
            if name in splits:
                total = np.bincount(month_of_day, weights=splits[name].day_factor, minlength=n_months)
                if model.outputs[name].aggregate == "mean":
                    total = total / days_per_month
                if np.all(np.isfinite(total)) and np.all(total != 0):
                    day_factor[o], month_factor[o] = splits[name].day_factor, total
                else:
                    del splits[name]
        roots = [splits[o].base if o in splits else o for o in out_names]
        needed = self._needed(derived, roots)
        programs = {SAMPLE: [[]], MONTH: [[] for _ in self.months], DAY: [[] for _ in self.months]}
        self.temp_pool: list[int] = []
        for name in self._topological(derived, needed):
            self._compile_derived(derived[name], programs)

        from .correlation import cholesky_of
        from .modelfile import correlated_names

        corr_names = correlated_names(model.correlations)
        corr_chol = (cholesky_of(corr_names, model.correlations, path=model.path) if corr_names
                     else np.zeros((0, 0)))
        out_reg = np.array([[self.reg_by_month[r][m] for r in roots] for m in range(n_months)],
                           dtype=np.int64).reshape(n_months, len(out_names))
        consts = self.const_list
        const_reg = np.array([r for _, r in consts], dtype=np.int64)
        const_val = np.array([v for v, _ in consts], dtype=np.float64)
        return Program(
            n_regs=max(self.n_regs, 1), n_streams=n_streams,
            slot_code=np.array(codes, dtype=np.int64),
            slot_par=np.array(pars, dtype=np.float64).reshape(len(codes), 4),
            slot_reg=np.array(slot_reg, dtype=np.int64),
            slot_stream=np.array(slot_stream, dtype=np.int64),
            table=np.array(table if table else [0.0], dtype=np.float64),
            const_reg=const_reg, const_val=const_val,
            sample_prog=_pad([programs[SAMPLE][0]])[0][0], sample_len=len(programs[SAMPLE][0]),
            month_prog=_pad(programs[MONTH])[0], month_len=_pad(programs[MONTH])[1],
            day_prog=_pad(programs[DAY])[0], day_len=_pad(programs[DAY])[1],
            builtin_reg=np.array(builtin_regs, dtype=np.int64),
            builtin_val=builtin_values(model),
            month_of_day=month_of_day,
            days_per_month=days_per_month,
            out_reg=out_reg,
            out_is_mean=np.array([model.outputs[o].aggregate == "mean" for o in out_names], dtype=np.bool_),
            out_profile=np.array([o in splits for o in out_names], dtype=np.bool_),
            day_factor=day_factor, month_factor=month_factor,
            corr_regs=np.array([self.reg_by_month[n][0] for n in corr_names], dtype=np.int64),
            corr_chol=corr_chol, corr_stream=copula_stream,
            draw_names=draw_names, draw_regs=np.array(draw_regs, dtype=np.int64),
        )

    # -- helpers ---------------------------------------------------------------------------------
    def _needed(self, derived, roots) -> set[str]:
        needed, stack = set(), list(roots)
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            needed.add(name)
            if name in derived:
                stack.extend(names_in(derived[name].node))
        return needed

    @staticmethod
    def _topological(derived, needed) -> list[str]:
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

    def _level_of(self, node) -> int:
        names = names_in(node)
        return max((self.level[n] for n in names), default=-1)

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


def builtin_values(model) -> np.ndarray:
    """The per-day value of each built-in name, in BUILTIN_NAMES order: (n_builtins, n_days)."""
    period = model.period
    values = {"day_share": model.profile.day_share(period), "days_in_month": days_in_month(period),
              "days_since_start": np.arange(period.n_days, dtype=np.float64),
              "decimal_year": decimal_year(period)}
    return np.vstack([values[name] for name in BUILTIN_NAMES])


def _pad(programs):
    width = max((len(p) for p in programs), default=0)
    array = np.zeros((len(programs), max(width, 1), 4), dtype=np.int64)
    for i, prog in enumerate(programs):
        if prog:
            array[i, :len(prog)] = np.array(prog, dtype=np.int64)
    return array, np.array([len(p) for p in programs], dtype=np.int64)
