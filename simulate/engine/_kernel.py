"""The Numba kernel: draw parameters, run the compiled program, reduce to histograms and sums.

Pure functions of arrays: no I/O, no validation, no xarray. Speed flags are chosen here, once.

Random numbers: each (block, stream) pair has its own xoshiro256** generator whose 256-bit state
comes from ``numpy.random.SeedSequence`` (see runner.py). Numba's built-in generator keeps one
state per thread, which would tie results to the thread schedule, and numpy's Generators cannot
be indexed per block inside compiled code; xoshiro256** (Blackman & Vigna, "Scrambled linear
pseudorandom number generators", ACM TOMS 2021) is a few lines and passes BigCrush.

Reductions are exact and ordered: histogram counts are integers (any merge order gives the same
totals) and the per-block sums are accumulated sample by sample inside one block, then merged
in block order by the runner. So results do not depend on thread count or scheduling.

One entry point, :func:`run_chunk`, serial and ``nogil``: the runner calls it from one Python
thread per core, each on its own share of the blocks. One compiled function (no ``parallel=True``
and no second entry point for given inputs) keeps the first compilation on a fresh machine short;
it is cached on disk for every later process.

Histogram bins come from a value's IEEE-754 bits: the top 8 mantissa bits and the exponent give
256 bins per octave (bin width below 0.39% of the value) with no logarithm on the hot path.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .encoding import (
    ADD,
    CLIP,
    DIRICHLET,
    DISCRETE,
    DIV,
    EXP,
    FIXED,
    KEY_SHIFT,
    LOG,
    LOGNORMAL,
    MAX,
    MIN,
    MUL,
    MULADD,
    NEG,
    NORMAL,
    POW,
    QTABLE_KNOTS,
    QTABLE_Z,
    SQRT,
    SUB,
    TABULATED,
    TILE,
    TRIANGULAR,
    UNIFORM,
)
from .numba_cache import ensure_cache_dir

ensure_cache_dir(__file__)
# One place for speed flags. error_model="numpy": x/0 gives inf or nan (counted, never raised).
JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)
ABS_MASK = np.int64(0x7FFFFFFFFFFFFFFF)


# -- random numbers ----------------------------------------------------------------------------
U_MAX = 1.0 - 2.0 ** -53  # the largest double below 1
U_MIN = 2.0 ** -1074      # the smallest positive double
SQRT_HALF = math.sqrt(0.5)


@njit(**JIT)
def _fill_uniform(s, out, n):
    """Fill ``out[:n]`` with doubles in the open interval (0, 1): ``n`` xoshiro256** steps on the
    state ``s`` (uint64[4], advanced in place). The state is held in locals for the loop."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    for i in range(n):
        r = s1 * np.uint64(5)
        result = ((r << np.uint64(7)) | (r >> np.uint64(57))) * np.uint64(9)   # rotl(s1 * 5, 7) * 9
        t = s1 << np.uint64(17)
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << np.uint64(45)) | (s3 >> np.uint64(19))                   # rotl(s3, 45)
        # the top 53 bits fit a signed integer, whose conversion to double is one instruction;
        # (2**53 - 1) + 0.5 rounds to 2**53, so the largest output would be 1.0 without the min
        u = (np.float64(np.int64(result >> np.uint64(11))) + 0.5) * (1.0 / 9007199254740992.0)
        out[i] = min(u, U_MAX)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3


P_LOW = 0.02425  # Acklam's boundary between the central region and the tails


@njit(**JIT)
def _ndtri_central(p):
    """Acklam's rational function for the central region ``P_LOW <= p <= 1 - P_LOW``."""
    q = p - 0.5
    r = q * q
    return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
              + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q / \
           (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
              + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0)


@njit(**JIT)
def _ndtri(p):
    """Standard normal inverse CDF (Acklam's rational approximation, relative error < 1.2e-9)."""
    if p < P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        return (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                  - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00) / \
               ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                 + 3.754408661907416e+00) * q + 1.0)
    if p > 1.0 - P_LOW:
        return -_ndtri(1.0 - p)
    return _ndtri_central(p)


@njit(**JIT)
def _fill_ndtri(u, z, n):
    """``z[:n] = _ndtri(u[:n])``, bit for bit: the central function over the whole row (no branch,
    no call: LLVM vectorises it), then the tails (4.85% of uniforms) redone one by one. Vector
    lanes round like scalar code as long as fastmath stays off (no fused multiply-adds)."""
    for i in range(n):
        z[i] = _ndtri_central(u[i])
    for i in range(n):
        p = u[i]
        if p < P_LOW or p > 1.0 - P_LOW:
            z[i] = _ndtri(p)


@njit(**JIT)
def _tabulated(table, offset, z):
    """The quantile function tabulated at ``QTABLE_KNOTS`` normal scores, read at score ``z``."""
    pos = (z + QTABLE_Z) * ((QTABLE_KNOTS - 1) / (2.0 * QTABLE_Z))
    if pos <= 0.0:
        return table[offset]
    if pos >= QTABLE_KNOTS - 1:
        return table[offset + QTABLE_KNOTS - 1]
    k = int(pos)
    lo = table[offset + k]
    return lo + (pos - k) * (table[offset + k + 1] - lo)


# Draws are made in passes over a tile's row (uniforms, then normal scores, then the transform),
# each a simple loop; uniform i of a slot's stream always goes to sample i, as drawn one by one.
@njit(**JIT)
def _from_uniforms(code, par, table, out, scratch, n):
    """``out[:n]``: uniforms in (0, 1) -> draws of a family that reads uniforms (uniform, triangular,
    truncated normal, discrete), in place; ``scratch`` holds ``n`` doubles."""
    if code == UNIFORM:
        a, width = par[0], par[1] - par[0]
        for i in range(n):
            out[i] = a + width * out[i]
    elif code == TRIANGULAR:
        a, c, b = par[0], par[1], par[2]
        split = (c - a) / (b - a)
        for i in range(n):  # both branches, then a select: the loop vectorises
            u = out[i]
            left = a + math.sqrt(u * (b - a) * (c - a))
            right = b - math.sqrt((1.0 - u) * (b - a) * (b - c))
            out[i] = left if u < split else right
    elif code == NORMAL:
        lo, hi, mean, sd = par[2], par[3], par[0], par[1]
        for i in range(n):
            out[i] = lo + (hi - lo) * out[i]
        z = scratch[:n]
        _fill_ndtri(out, z, n)
        for i in range(n):
            out[i] = mean + sd * z[i]
    elif code == DISCRETE:
        offset, count = int(par[0]), int(par[1])
        for i in range(n):
            u = out[i]
            k = 0
            for j in range(count - 1):  # the CDF never decreases: counting finds the first cdf[k] >= u
                k += 1 if table[offset + count + j] < u else 0
            out[i] = table[offset + k]


@njit(**JIT)
def _from_scores(code, par, table, z, out, n):
    """``out[:n]``: draws of a family that reads normal scores (lognormal, tabulated) at ``z[:n]``."""
    if code == TABULATED:
        offset = int(par[0])
        for i in range(n):
            out[i] = _tabulated(table, offset, z[i])
    else:   # LOGNORMAL
        mu, sigma = par[0], par[1]
        for i in range(n):
            out[i] = math.exp(mu + sigma * z[i])


@njit(**JIT)
def _draw_slot(code, par, table, s, out, scratch, n, scores_only):
    """Fill ``out[:n]`` with draws of one family from stream ``s``; ``scratch`` holds ``n`` doubles.
    ``scores_only``: fill it with the stream's standard normal scores instead (for the copula; a
    parameter fixed by a scenario still draws them, so the others keep their values)."""
    if scores_only:
        _fill_uniform(s, scratch, n)
        _fill_ndtri(scratch, out, n)
        return
    if code == FIXED:
        for i in range(n):
            out[i] = par[0]
        return
    _fill_uniform(s, out, n)
    if code == TABULATED or code == LOGNORMAL:
        z = scratch[:n]
        _fill_ndtri(out, z, n)
        _from_scores(code, par, table, z, out, n)
    else:
        _from_uniforms(code, par, table, out, scratch, n)


@njit(**JIT)
def _draw_dirichlet(par, table, s, regs, first_reg, scratch, n):
    """Dirichlet shares as independent Gamma(alpha_k) draws, normalised. Their quantile functions
    are tabulated as logarithms: smooth in the normal score even where alpha < 1 makes the lower
    tail steep. Component k of sample i takes uniform ``i * count + k`` of the stream (samples
    drawn one after another); ``scratch`` holds ``(2 * count + 1) * n`` doubles."""
    offset, count = int(par[0]), int(par[1])
    u = scratch[:count * n]
    z = scratch[count * n:2 * count * n]
    total = scratch[2 * count * n:(2 * count + 1) * n]
    _fill_uniform(s, u, count * n)
    _fill_ndtri(u, z, count * n)
    for k in range(count):
        g = regs[first_reg + k]
        for i in range(n):
            g[i] = _tabulated(table, offset + k * QTABLE_KNOTS, z[i * count + k])
        for i in range(n):  # a loop of its own: a call inside the loop above slows it down
            g[i] = math.exp(g[i])
    for i in range(n):
        total[i] = 0.0
    for k in range(count):
        g = regs[first_reg + k]
        for i in range(n):
            total[i] += g[i]
    for k in range(count):
        g = regs[first_reg + k]
        for i in range(n):
            g[i] /= total[i]


@njit(**JIT)
def _copula(regs, n, corr_regs, chol, slot_code, slot_par, table, corr_slots, scratch):
    """Correlate the parameters whose registers ``corr_regs`` hold independent standard normal
    scores: scores ``L @ scores`` (``chol``, lower triangular, zeros skipped), then each
    parameter's own quantile function at its score (a Gaussian copula: every marginal exactly as
    declared). Families that read uniforms take Phi(score)."""
    k = corr_regs.shape[0]
    for j in range(k - 1, -1, -1):   # from the last: row j is rewritten once rows m < j are read
        row = regs[corr_regs[j]]
        c = chol[j, j]
        for i in range(n):
            row[i] *= c
        for m in range(j):
            c = chol[j, m]
            if c != 0.0:
                other = regs[corr_regs[m]]
                for i in range(n):
                    row[i] += c * other[i]
    for j in range(k):
        s = corr_slots[j]
        code, row = slot_code[s], regs[corr_regs[j]]
        if code == FIXED:
            for i in range(n):
                row[i] = slot_par[s, 0]
        elif code == TABULATED or code == LOGNORMAL:
            _from_scores(code, slot_par[s], table, row, row, n)
        else:
            for i in range(n):
                row[i] = min(max(0.5 * math.erfc(-row[i] * SQRT_HALF), U_MIN), U_MAX)
            _from_uniforms(code, slot_par[s], table, row, scratch, n)


# -- the interpreter ---------------------------------------------------------------------------
@njit(**JIT)
def _execute(prog, length, regs, n):
    for k in range(length):
        op, d, a, b, c = prog[k, 0], prog[k, 1], prog[k, 2], prog[k, 3], prog[k, 4]
        if op == ADD:
            for i in range(n):
                regs[d, i] = regs[a, i] + regs[b, i]
        elif op == SUB:
            for i in range(n):
                regs[d, i] = regs[a, i] - regs[b, i]
        elif op == MUL:
            for i in range(n):
                regs[d, i] = regs[a, i] * regs[b, i]
        elif op == DIV:
            for i in range(n):
                regs[d, i] = regs[a, i] / regs[b, i]
        elif op == POW:
            for i in range(n):
                regs[d, i] = regs[a, i] ** regs[b, i]
        elif op == NEG:
            for i in range(n):
                regs[d, i] = -regs[a, i]
        elif op == MIN:
            for i in range(n):
                regs[d, i] = min(regs[a, i], regs[b, i])
        elif op == MAX:
            for i in range(n):
                regs[d, i] = max(regs[a, i], regs[b, i])
        elif op == EXP:
            for i in range(n):
                regs[d, i] = np.exp(regs[a, i])
        elif op == LOG:
            for i in range(n):
                regs[d, i] = np.log(regs[a, i])
        elif op == SQRT:
            for i in range(n):
                regs[d, i] = np.sqrt(regs[a, i])
        elif op == MULADD:
            for i in range(n):
                regs[d, i] = regs[a, i] * regs[b, i] + regs[c, i]
        elif op == CLIP:
            for i in range(n):
                regs[d, i] = min(max(regs[a, i], regs[b, i]), regs[c, i])


# -- reductions --------------------------------------------------------------------------------
# The three arguments every entry point shares are NamedTuples built in Python (the contract):
#   draws  (compiler.DrawProgram): slot_code, slot_par, slot_reg, slot_stream, table, slot_scores,
#          corr_regs, corr_chol, corr_slots, n_regs, draw_regs, scratch_size
#   prog   (compiler.EvalProgram): const_reg, const_val, sample_prog, sample_len, month_prog, month_len,
#          day_prog, day_len, builtin_reg, builtin_val, month_of_day, days_per_month, out_reg,
#          out_is_mean, out_profile, day_factor, month_factor
#   layout (histogram.HistogramLayout): offset, lo_key, length, floor, shift, total
@njit(**JIT)
def _reduce(values, n, t, o, stats, extremes, hist, layout):
    """Add ``values[:n]`` to the histogram and sums of output ``o`` at time ``t``.

    Keys are the magnitude keys minus ``layout.floor[o, t]`` (at least 0), signed: magnitudes below
    the floor share the bins next to zero, so a window can span values of both signs.
    """
    keys = values.view(np.int64)
    base = layout.offset[o, t]
    lo_key, length, k0, floor = layout.lo_key[o, t], layout.length[o, t], layout.shift[o, t], layout.floor[o, t]
    count, s1, s2 = 0.0, 0.0, 0.0
    vmin, vmax = extremes[o, t, 0], extremes[o, t, 1]
    for i in range(n):
        x = values[i]
        if not math.isfinite(x):
            continue
        count += 1.0
        dx = x - k0
        s1 += dx
        s2 += dx * dx
        vmin = min(vmin, x)
        vmax = max(vmax, x)
        if length > 0:
            bits = keys[i]
            magnitude = (bits & ABS_MASK) >> KEY_SHIFT
            magnitude = magnitude - floor if magnitude > floor else 0
            key = magnitude if bits >= 0 else -magnitude - 1
            idx = key - lo_key
            if idx < 0:
                idx = -1
            elif idx >= length:
                idx = length
            hist[base + 1 + idx] += 1
    stats[o, t, 0] += count
    stats[o, t, 1] += s1
    stats[o, t, 2] += s2
    extremes[o, t, 0] = vmin
    extremes[o, t, 1] = vmax


@njit(**JIT)
def _fill(regs, reg, value, n):
    """``regs[reg, :n] = value``, as a loop (a slice assignment costs far more to compile)."""
    for i in range(n):
        regs[reg, i] = value


@njit(**JIT)
def _evaluate_tile(regs, acc, n, prog, reduce, stats, extremes, hist, layout, store_first, store_daily,
                   store_monthly):
    """Run the program on the ``n`` samples held in ``regs`` (draws already written).

    Month by month: the month's program (and built-ins at month rate), then, when some output is
    daily, each day's program; then each output's month is closed. ``reduce``: add every daily,
    monthly, yearly and whole-period output to the reductions; a profile or month-resolution output
    (``out_profile``) adds only its month, base x month_factor, and a one-off output (``out_once``)
    only its whole-period value. ``acc`` is ``(3, n_outputs, TILE)``: month, year and period
    accumulators. ``store_first`` >= 0: also write per-sample outputs to ``store_daily[store_first
    + i]`` (NaN for outputs without days) and ``store_monthly``.
    """
    month_of_day, out_reg, out_profile, out_daily = prog.month_of_day, prog.out_reg, prog.out_profile, prog.out_daily
    n_days = month_of_day.shape[0]
    n_out = out_reg.shape[1]
    first_year_cell = n_days + prog.days_per_month.shape[0]
    total_cell = first_year_cell + prog.days_per_year.shape[0]
    for c in range(prog.const_reg.shape[0]):
        _fill(regs, prog.const_reg[c], prog.const_val[c], n)
    _execute(prog.sample_prog, prog.sample_len, regs, n)
    daily_outputs = False
    for o in range(n_out):
        for k in range(3):
            for i in range(n):
                acc[k, o, i] = 0.0
        daily_outputs = daily_outputs or not (out_profile[o] or prog.out_once[o])
    store_days = store_first >= 0 and store_daily.shape[0] > 0
    store_months = store_first >= 0 and store_monthly.shape[0] > 0
    first = 0
    while first < n_days:
        m = month_of_day[first]
        last = first
        while last + 1 < n_days and month_of_day[last + 1] == m:
            last += 1
        for b in range(prog.month_builtin_reg.shape[0]):
            _fill(regs, prog.month_builtin_reg[b], prog.month_builtin_val[b, m], n)
        _execute(prog.month_prog[m], prog.month_len[m], regs, n)
        if daily_outputs or prog.day_len[m] > 0 or store_days:
            for d in range(first, last + 1):
                for b in range(prog.builtin_reg.shape[0]):
                    _fill(regs, prog.builtin_reg[b], prog.builtin_val[b, d], n)
                _execute(prog.day_prog[m], prog.day_len[m], regs, n)
                for o in range(n_out):
                    values = regs[out_reg[m, o]]
                    if prog.out_once[o] or not out_daily[o]:
                        if store_days:
                            for i in range(n):
                                store_daily[store_first + i, o, d] = np.nan
                        continue
                    if out_profile[o]:
                        if store_days:
                            for i in range(n):
                                store_daily[store_first + i, o, d] = values[i] * prog.day_factor[o, d]
                        continue
                    month = acc[0, o]
                    for i in range(n):
                        month[i] += values[i]
                    if reduce:
                        _reduce(values, n, d, o, stats, extremes, hist, layout)
                    if store_days:
                        for i in range(n):
                            store_daily[store_first + i, o, d] = values[i]
        period_ends = last == n_days - 1
        year_ends = period_ends or prog.year_of_month[month_of_day[last + 1]] != prog.year_of_month[m]
        for o in range(n_out):
            values = regs[out_reg[m, o]]
            if prog.out_once[o]:    # a one-off total: the same value all period, reduced once
                if store_months:
                    for i in range(n):
                        store_monthly[store_first + i, o, m] = values[i]
                if period_ends and reduce:
                    _reduce(values, n, total_cell, o, stats, extremes, hist, layout)
                continue
            month = acc[0, o]
            if out_profile[o]:
                for i in range(n):
                    month[i] = values[i] * prog.month_factor[o, m]
            elif prog.out_is_mean[o]:
                for i in range(n):
                    month[i] /= prog.days_per_month[m]
            if reduce:
                _reduce(month, n, n_days + m, o, stats, extremes, hist, layout)
            if store_months:
                for i in range(n):
                    store_monthly[store_first + i, o, m] = month[i]
            # the month into its year (acc[1]) and the whole period (acc[2]), each reduced when it ends;
            # means as day sums divided by the days. A year (or period) that is one month (or year)
            # reads that cell instead and is not accumulated (prog.reduce_year, prog.reduce_total).
            weight = prog.days_per_month[m] if prog.out_is_mean[o] else 1.0
            y = prog.year_of_month[m]
            for k in range(1, 3):
                if not (prog.reduce_year[o, y] if k == 1 else prog.reduce_total[o]):
                    continue
                into = acc[k, o]
                for i in range(n):
                    into[i] += month[i] * weight
                if year_ends if k == 1 else period_ends:
                    if prog.out_is_mean[o]:
                        days = prog.days_per_year[y] if k == 1 else n_days
                        for i in range(n):
                            into[i] /= days
                    if reduce:
                        _reduce(into, n, first_year_cell + y if k == 1 else total_cell, o, stats, extremes, hist,
                                layout)
                    for i in range(n):
                        into[i] = 0.0
            for i in range(n):
                month[i] = 0.0
        first = last + 1


@njit(**JIT)
def run_chunk(chunk, n_chunks, sizes, states, first_sample, given, draws, prog, layout, hist, stats, extremes,
              keep_draws, keep_daily, keep_monthly):
    """Sample (or evaluate) blocks ``chunk, chunk + n_chunks, ...`` of one call and reduce them.

    Block ``b`` holds ``sizes[b]`` samples starting at sample ``first_sample[b]``. With ``given``
    empty, its draws come from the xoshiro256** states ``states[b]`` (one per stream) and every
    output is reduced: histogram counts added to ``hist`` (this chunk's own int32 row; fewer than
    2**31 samples per call, so they cannot overflow) and per-block ``(n_finite, sum(x - shift),
    sum((x - shift)**2))`` and ``(min, max)`` written to ``stats[b]`` and ``extremes[b]`` for every
    output and time (days, then months, years and the whole period); the first
    ``len(keep_draws)`` samples' draws and outputs go to ``keep_draws``, ``keep_daily`` and
    ``keep_monthly``. With ``given[sample, draw]``, the inputs are read from it instead, nothing
    is reduced, and every sample's outputs go to ``keep_daily`` (when it has rows) and
    ``keep_monthly``. Blocks are dealt to chunks in a fixed pattern; results do not depend on
    ``n_chunks``.
    """
    n_out = prog.out_reg.shape[1]
    slot_code, slot_par, slot_reg, slot_stream = draws.slot_code, draws.slot_par, draws.slot_reg, draws.slot_stream
    drawing = given.shape[0] == 0
    regs = np.empty((draws.n_regs, TILE))
    acc = np.empty((3, n_out, TILE))
    scratch = np.empty(draws.scratch_size)
    n_keep = keep_draws.shape[0]
    for blk in range(chunk, sizes.shape[0], n_chunks):
        streams = states[blk].copy()
        done = 0
        while done < sizes[blk]:
            n = min(TILE, sizes[blk] - done)
            first = first_sample[blk] + done
            store_first = -1
            if drawing:
                for s in range(slot_code.shape[0]):
                    if slot_code[s] == DIRICHLET:
                        _draw_dirichlet(slot_par[s], draws.table, streams[slot_stream[s]], regs, slot_reg[s],
                                        scratch, n)
                    else:
                        _draw_slot(slot_code[s], slot_par[s], draws.table, streams[slot_stream[s]],
                                   regs[slot_reg[s]], scratch, n, draws.slot_scores[s])
                if draws.corr_regs.shape[0] > 0:
                    _copula(regs, n, draws.corr_regs, draws.corr_chol, slot_code, slot_par, draws.table,
                            draws.corr_slots, scratch)
                if first + n <= n_keep:
                    store_first = first
                    for j in range(draws.draw_regs.shape[0]):   # loops, not slices: no shape check to compile
                        row = regs[draws.draw_regs[j]]
                        for i in range(n):
                            keep_draws[first + i, j] = row[i]
            else:
                store_first = first
                for j in range(draws.draw_regs.shape[0]):
                    row = regs[draws.draw_regs[j]]
                    for i in range(n):
                        row[i] = given[first + i, j]
            _evaluate_tile(regs, acc, n, prog, drawing, stats[blk], extremes[blk], hist, layout, store_first,
                           keep_daily, keep_monthly)
            done += n
