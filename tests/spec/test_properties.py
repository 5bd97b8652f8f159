"""Property tests on generated model files: load and run either succeed, with units and long names
on every output variable, or raise :class:`simulate.ModelError`; never any other exception. The
files cover dimensions: parameters over them (values as lists or tables, right or wrong length),
shares over them, reductions, coordinates picked, outputs keeping them, and one-off totals."""
from __future__ import annotations

import datetime as dt
import math
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulate
from simulate.spec.distributions import FORMS, TRUNCATION_KEYS
from simulate.units import unit_for_name
from tests.helpers import toml_value

SAFE_NAMES = ["a", "b", "visits", "server_power_w", "per_query_kwh"]
BOUNDED_NAMES = ["pue", "gpu_utilisation", "load_share", "idle_fraction", "day_share"]
DERIVED_NAMES = ["d", "energy_kwh", "co2_kg", "ratio"]
OTHER_NAMES = ["days_in_month", "day_share", "grid_g_per_kwh", "share_east", "unknown_thing"]
ALL_KEYS = sorted({k for forms in FORMS.values() for form in forms for k in form} | TRUNCATION_KEYS)

numbers = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.floats(1e-6, 1e9),
    st.integers(-5, 100),
    st.sampled_from([0.0, 1.0, -1.0, 1e308, -1e308, 5e-324, math.inf, math.nan]),
)


# True about four times in five, and rarely True about one time in ten
often = st.integers(0, 4).map(lambda k: k != 3)
rarely = st.integers(0, 9).map(lambda k: k == 7)


@st.composite
def valid_distributions(draw):
    """A well-formed distribution with sensible numbers (so that many generated models load)."""
    family = draw(st.sampled_from(sorted(FORMS)))
    lo = draw(st.floats(0, 50))
    mid = lo + draw(st.floats(0.1, 50))
    hi = mid + draw(st.floats(0.1, 50))
    if family == "fixed":
        return {"dist": family, "value": mid}
    if family == "uniform":
        return {"dist": family, "min": lo, "max": hi}
    if family in ("triangular", "pert"):
        return {"dist": family, "min": lo, "mode": mid, "max": hi}
    if family == "normal":
        spec = {"dist": family, "mean": mid, "sd": draw(st.floats(0.01, 20))}
        return {**spec, "lower": lo} if draw(st.booleans()) else spec
    if family == "lognormal":
        return {"dist": family, "p5": mid, "p95": hi}
    if family == "beta":
        return {"dist": family, "alpha": draw(st.floats(0.2, 10)), "beta": draw(st.floats(0.2, 10))}
    values = draw(st.lists(st.floats(-10, 100), min_size=1, max_size=4))
    return {"dist": family, "values": values, "weights": [1.0] * len(values)}


@st.composite
def wild_distributions(draw):
    """Any family name with any keys and any numbers, mostly invalid."""
    family = draw(st.sampled_from(sorted(FORMS) + ["gamma"]))
    if family in FORMS and draw(st.booleans()):
        keys = sorted(draw(st.sampled_from(FORMS[family])))
        if family == "normal" and draw(st.booleans()):
            keys += sorted(draw(st.sets(st.sampled_from(sorted(TRUNCATION_KEYS)), min_size=1)))
    else:
        keys = sorted(draw(st.sets(st.sampled_from(ALL_KEYS), max_size=4)))
    spec = {"dist": family}
    for key in keys:
        spec[key] = draw(st.lists(numbers, max_size=4)) if key in ("values", "weights") else draw(numbers)
    return spec


def distributions():
    return st.one_of(valid_distributions(), valid_distributions(), valid_distributions(), wild_distributions())


@st.composite
def expressions(draw, names, depth=0):
    leaf = st.one_of(st.sampled_from(names), numbers.filter(math.isfinite).map(repr))
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return draw(leaf)
    kind = draw(st.sampled_from(["+", "-", "*", "/", "**", "min", "max", "exp", "log", "sqrt", "neg", "bad"]))
    left = draw(expressions(names, depth + 1))
    if kind in ("exp", "log", "sqrt"):
        return f"{kind}({left})"
    if kind == "neg":
        return f"-({left})"
    right = draw(expressions(names, depth + 1))
    if kind in ("min", "max"):
        return f"{kind}({left}, {right})"
    if kind == "bad":
        return draw(st.sampled_from([f"{left}.real", f"open({left})", "'x'", f"{left} < {right}",
                                     "__import__('os')", f"{left} // {right}"]))
    return f"({left}) {kind} ({right})"


@st.composite
def model_texts(draw):
    lines = []
    start = dt.date(2023, 1, 1) + dt.timedelta(days=draw(st.integers(0, 700)))
    end = start + dt.timedelta(days=draw(st.integers(-3, 45)) if draw(rarely) else draw(st.integers(0, 45)))
    if draw(rarely):
        lines += ["[period]", 'start = "2023-02-30"', f"end = {end}"]
    else:
        lines += ["[period]", f"start = {start}", f"end = {end}"]
    if draw(st.booleans()):
        weights = draw(st.lists(st.floats(0.1, 2), min_size=7, max_size=7))
        lines += ["", "[profile]", f"weekday_weights = {toml_value(weights)}",
                  f"trend_per_day = {draw(st.floats(-0.05, 0.05))!r}", 'source = "generated"']

    coords = draw(dimension_coordinates()) if draw(st.booleans()) else None
    if coords is not None:
        lines += ["", "[dimensions]", f"k = {toml_value(coords)}"]
    names = SAFE_NAMES if draw(often) else SAFE_NAMES + BOUNDED_NAMES
    params = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    dimensioned = []
    for name in params:
        spec = draw(distributions())
        if coords is not None and draw(st.booleans()):
            spec = draw(over_dimension(spec, coords))
            dimensioned.append(name)
        lines += ["", f"[parameters.{name}]"] + [f"{k} = {toml_value(v)}" for k, v in spec.items()]
        unit = unit_for_name(name) or "1"
        if draw(rarely):
            unit = draw(st.sampled_from(["kWh", "W", None]))
        if unit is not None:
            lines.append(f'unit = "{unit}"')
        if not draw(rarely):
            lines.append('source = "generated"')

    has_regions = draw(st.booleans())
    if has_regions:
        east = draw(st.sampled_from([0.5, 0.7, 1.5, 0.0]) if draw(rarely) else st.sampled_from([0.5, 0.7]))
        lines += ["", "[regions]", f'shares = "{draw(st.sampled_from(["fixed", "dirichlet"]))}"',
                  "concentration = 10", 'source = "generated"']
        for region, share in (("east", east), ("west", 0.25 if draw(rarely) else 1 - east)):
            lines += ["", f"[regions.{region}]", f"share = {share!r}",
                      f"intensity_g_per_kwh = {toml_value({**draw(distributions()), 'source': 'generated'})}"]

    if coords is not None and draw(st.booleans()):
        n = len(coords) if isinstance(coords, list) else 2
        shares = [1 / max(n, 1)] * n if draw(often) else draw(st.lists(st.floats(0, 1), min_size=1, max_size=4))
        lines += ["", "[parameters.mix]", 'dist = "dirichlet"', 'dims = ["k"]', f"shares = {toml_value(shares)}",
                  f"concentration = {draw(st.sampled_from([5, 20, 0, -1]))}", 'source = "generated"']
        dimensioned.append("mix")
        params = params + ["mix"]

    derived = draw(st.lists(st.sampled_from(DERIVED_NAMES), max_size=3, unique=True))
    visible = params + derived + OTHER_NAMES
    if coords is not None:
        first = coords[0] if isinstance(coords, list) and coords else "a"
        visible += [f'sum({n}, "k")' for n in dimensioned] + [f'mean({n}, "k")' for n in dimensioned]
        visible += [f"{n}[{toml_value(first)}]" for n in dimensioned] + ['sum(a, "k")', "k", 'sum(b, "j")']
    if derived:
        lines += ["", "[derived]"]
        for name in derived:
            text = draw(expressions(visible))
            spec = {"expr": text, "unit": "1"} if unit_for_name(name) is None and draw(often) else text
            lines.append(f"{name} = {toml_value(spec)}")

    outputs = draw(st.lists(st.sampled_from(derived + params if draw(often) else visible),
                            min_size=0 if draw(rarely) else 1, max_size=3, unique=True))
    lines += ["", "[outputs]"]
    for name in outputs:
        aggregate = "median" if draw(rarely) else draw(st.sampled_from(["sum", "mean", "sum", "mean", "once"]))
        if coords is not None and draw(st.booleans()):
            lines.append(f'{name} = {{ aggregate = "{aggregate}", by = ["k"] }}')
        else:
            lines.append(f'{name} = "{aggregate}"')
    return "\n".join(lines) + "\n"


@st.composite
def dimension_coordinates(draw):
    """Coordinates of a dimension ``k``: names or years, sometimes empty, mixed or repeated."""
    if draw(rarely):
        return draw(st.sampled_from([[], ["a", 1], ["a", "a"], "a", [2021, 2021.0]]))
    if draw(st.booleans()):
        return draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True))
    return draw(st.lists(st.integers(2020, 2030), min_size=1, max_size=4, unique=True))


@st.composite
def over_dimension(draw, spec, coords):
    """``spec`` over the dimension ``k``: each number as a list or a table per coordinate, sometimes of
    the wrong length, or naming an unknown dimension."""
    n = len(coords) if isinstance(coords, list) else 2
    out = {"dims": ["j"] if draw(rarely) else ["k"], **spec}
    for key, value in spec.items():
        if key == "dist" or key in ("values", "weights") or not draw(st.booleans()):
            continue
        width = n + draw(st.sampled_from([-1, 1])) if draw(rarely) else n
        values = [value] * max(width, 0)
        if draw(st.booleans()) and isinstance(coords, list) and width == n:
            out[key] = {str(c): v for c, v in zip(coords, values)}
        else:
            out[key] = values
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(text=model_texts())
def test_generated_models_load_and_run_or_raise_model_error(tmp_path, text):
    path = tmp_path / "generated.toml"
    path.write_text(text, encoding="utf-8")
    try:
        model = simulate.load(path)
    except simulate.ModelError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)    # NaN draws are expected and counted
        ds = model.run(samples=2000, seed=1)
    assert ds.attrs["samples"] == 2000
    for name, out in model.outputs.items():
        if out.aggregate == "once":
            expected = [f"{name}_total", f"{name}_total_mean"]
        elif out.by and not out.total:
            expected = [f"{name}_by_{'_'.join(out.by)}_monthly"]
        else:
            expected = [f"{name}_daily", f"{name}_monthly", f"{name}_monthly_mean", f"{name}_monthly_nonfinite"]
        for var in expected:
            assert ds[var].attrs.get("units") and ds[var].attrs.get("long_name"), var
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name
