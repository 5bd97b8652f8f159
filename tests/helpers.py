"""Shared test helpers: paths, writing and loading model files, comparing runs, MC tolerances."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import simulate

ROOT = Path(__file__).resolve().parent.parent
PRIORS = ROOT / "priors"
CHATGPT = PRIORS / "chatgpt-2023-01.toml"
TWO_REGIONS = ROOT / "tests" / "data" / "two_regions.toml"  # every engine feature in one small file
VOLATILE_ATTRS = ("created", "history", "elapsed_s")   # history: the run, timestamped


def write_model(tmp_path, text: str, name: str = "model.toml") -> Path:
    """Write ``text`` (dedented) to ``tmp_path / name`` and return the path."""
    path = Path(tmp_path) / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_text(tmp_path, text: str, name: str = "model.toml"):
    """Write a model file and load it with :func:`simulate.load`."""
    return simulate.load(write_model(tmp_path, text, name))


def model_error(load, *args) -> str:
    """The message of the one :class:`simulate.ModelError` that ``load(*args)`` raises (it must raise one)."""
    try:
        load(*args)
    except simulate.ModelError as error:
        return str(error)
    raise AssertionError(f"{load.__name__}{args} raised no ModelError")


def toml_value(value) -> str:
    """A Python number, string, list or dict written as TOML (inline tables for dicts)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def one_parameter_text(spec: dict, *, name: str = "x", unit: str = "1",
                       start: str = "2023-01-01", end: str = "2023-01-01") -> str:
    """A model with one parameter ``name`` (distribution ``spec``) reported as its own output."""
    lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in spec.items())
    return f"""\
[period]
start = {start}
end = {end}

[parameters.{name}]
{lines}
unit = "{unit}"
source = "test law"

[outputs]
{name} = "mean"
"""


def model_text(parameters: dict, derived: dict, outputs: dict, *, correlations=(), start: str = "2023-01-01",
               end: str = "2023-01-01", extra: str = "") -> str:
    """A model file: ``parameters`` name -> distribution table (unit "1" and a test source unless
    given), ``derived`` name -> expression (a string, or a table with ``expr``), ``outputs`` name ->
    aggregate, ``correlations`` as (a, b, Spearman rank) triples; ``extra`` TOML is appended."""
    blocks = [f"[period]\nstart = {start}\nend = {end}\n"]
    for name, spec in parameters.items():
        table = {"unit": "1", "source": "test", **spec}
        blocks.append(f"[parameters.{name}]\n" + "\n".join(f"{k} = {toml_value(v)}" for k, v in table.items()) + "\n")
    for a, b, rank in correlations:
        blocks.append(f'[[correlations]]\nbetween = ["{a}", "{b}"]\nrank = {rank}\nsource = "test"\n')
    blocks.append(extra)
    blocks.append("[derived]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in derived.items()))
    blocks.append("[outputs]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in outputs.items()))
    return "\n".join(blocks)


def without_volatile(ds):
    """The Dataset with the attrs that legitimately change between runs (wall clock) removed."""
    ds = ds.copy()
    for key in VOLATILE_ATTRS:
        ds.attrs.pop(key, None)
    return ds


def binomial_tolerance(p: float, n: int, k: float = 4.0) -> float:
    """``k`` standard errors of an empirical fraction with true value ``p`` over ``n`` draws."""
    return k * math.sqrt(p * (1 - p) / n)


def point_value(model, name: str, scenario: str | None = None) -> float:
    """The number a scenario fixes ``name`` at, or the value of a fixed parameter: the inputs a test
    needs to redo a source's arithmetic from the model file, not from literals."""
    if scenario is not None and name in model.scenarios[scenario].values:
        return float(model.scenarios[scenario].values[name])
    param = next(p for p in model.all_parameters() if p.name == name)   # a scalar, or one coordinate
    if param.dist is None or param.dist.family != "fixed":
        raise ValueError(f"{name} is neither fixed nor set by scenario {scenario}")
    return float(param.dist.params["value"])

