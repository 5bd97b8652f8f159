"""Read a model file (TOML) into a validated :class:`~simulate.spec.model.Model`.

Validation happens here, once, at the public boundary: every problem is reported as a
:class:`~simulate.errors.ModelError` that names the file, the field, the bad value and the fix.
See the README's "Model file format" for the layout this reader accepts.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import math
import re
import stat
import tomllib
from pathlib import Path

from ..errors import Location, ModelError
from ..units import bounds_for_name, quantity_kind, unit_for_name
from . import fields, grid_data, schema
from .calendar import RESOLUTIONS, Period, Profile
from .correlation import expand_patterns, parse_correlations
from .dimensions import Inference, ordered, parse_dimensions, per_coordinate_values
from .distributions import META_KEYS, parse_distribution
from .expressions import MAX_INLINED_DEPTH, dependency_cycle, inlined_depths, names_in, parse_expression
from .model import (
    BUILTIN_NAMES,
    Derived,
    Dimension,
    Model,
    Output,
    Parameter,
    Region,
    Regions,
    Scenario,
    Shares,
    cell_name,
)
from .quantities import ACCOUNTING, BOUNDARIES, GRID_BASES
from .observations import parse_observation, parse_reconcile
from .references import parse_references
from .unit_check import check_units

_MONTH = re.compile(r"(\d{4})-(\d{2})")
MAX_DAYS = 366 * 30
BASIS_KEYS = ("boundary", "accounting", "grid_basis", "grid_vintage")
SCENARIO_STATUS = ("", "S", "S2", "I", "U")  # how sure: read in the source, secondary source, inferred, unknown
TOP_LEVEL = {"model", "period", "profile", "dimensions", "parameters", "regions", "derived", "outputs", "scenarios",
             "correlations", "observations", "reconcile", "references"}


def load(path) -> Model:
    """Read, parse and validate the model file at ``path``.

    Parameters
    ----------
    path : str or Path
        A model file (TOML), e.g. ``"priors/chatgpt-2023-01.toml"``.

    Returns
    -------
    Model
        The validated model, with the SHA-256 of the file's bytes in ``model.sha256``.

    Raises
    ------
    ModelError
        For anything that cannot be used as written: the message names the file, the field, the
        bad value and the fix.
    """
    path = Path(path)
    raw = _read(path)
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelError("the file is not UTF-8 text", path=path, fix="save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"TOML syntax error: {exc}", path=path,
                         fix="correct the TOML syntax at that line") from None
    except RecursionError:
        raise ModelError("arrays or tables are nested too deeply to read", path=path,
                         fix="nest tables at most a few levels deep, as in the README's format") from None
    except (ValueError, OverflowError) as exc:   # e.g. an integer of more than 4300 digits
        raise ModelError(f"a value cannot be read ({exc})", path=path,
                         fix="write numbers as plain decimals such as 3e9") from None
    return from_dict(doc, path=path, sha256=hashlib.sha256(raw).hexdigest())


def _read(path: Path) -> bytes:
    """The bytes of the model file, refused before reading when it is not a file or is too large."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise ModelError("is not a regular file", path=path, fix="give the path of a model file (TOML)")
        if status.st_size > schema.MAX_FILE_BYTES:
            raise ModelError(f"the file is {status.st_size:,} bytes, more than the {schema.MAX_FILE_BYTES:,} "
                             "a model file may have", path=path, fix="check that this is a model file")
        return path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the model file ({exc.strerror})", path=path,
                         fix="check the path") from None


def from_dict(doc: dict, *, path=None, sha256: str | None = None) -> Model:
    """Validate an already-parsed model document (the same rules as :func:`load`)."""
    schema.check_document(doc, path)
    reader = _Reader(path)
    return reader.model(doc, sha256)


class _Reader:
    def __init__(self, path):
        self.path = path
        self.datasets = set()   # grid/water datasets the file reads (grid_data.DATASETS names)

    def fail(self, problem, field=None, value=None, fix=None):
        Location(self.path, field).fail(problem, value=value, fix=fix)

    def table(self, doc, key, *, required=True):
        value = doc.get(key)
        if value is None:
            if required:
                self.fail(f"the [{key}] table is missing", key, fix=f"add a [{key}] table")
            return {}
        if not isinstance(value, dict):
            self.fail("must be a table", key, value, f"write it as [{key}]")
        return value

    def text(self, table, key, field, *, required=True, default=""):
        return fields.text(table, key, Location(self.path, field), required=required, default=default)

    def identifier(self, name, field):
        fields.identifier(name, Location(self.path, field))

    # -- sections --------------------------------------------------------------------------------
    def model(self, doc, sha256):
        if not isinstance(doc, dict):
            self.fail("the model must be a TOML document")
        for key in doc:
            if key not in TOP_LEVEL:
                self.fail("unknown top-level table", key, fix=f"use only {sorted(TOP_LEVEL)}")
        meta = self.table(doc, "model", required=False)
        name = self.text(meta, "name", "model", required=False,
                         default=Path(self.path).stem if self.path else "model")
        period = self.period(self.table(doc, "period"))
        profile = self.profile(self.table(doc, "profile", required=False))
        self.dims = parse_dimensions(self.table(doc, "dimensions", required=False), path=self.path)
        self.region_dimension(self.table(doc, "regions", required=False))
        parameters, shares = self.parameters(self.table(doc, "parameters"), period)
        regions = self.regions(self.table(doc, "regions", required=False), parameters, shares)
        derived = self.derived(self.table(doc, "derived", required=False), regions)
        known = self.namespace(parameters, shares, regions, derived)
        self.check_references(derived, known)
        derived = self.infer_dimensions(derived, parameters, shares)
        outputs = self.outputs(self.table(doc, "outputs"), known, parameters, shares, derived)
        scenarios = self.scenarios(self.table(doc, "scenarios", required=False), parameters, shares, period, derived)
        correlations = self.correlations(doc.get("correlations", []), parameters)
        model = Model(name=name, title=self.text(meta, "title", "model", required=False, default=name),
                      description=self.text(meta, "description", "model", required=False),
                      path=str(self.path) if self.path else None, sha256=sha256 or "",
                      period=period, profile=profile, parameters=parameters, regions=regions,
                      derived=derived, outputs=outputs, scenarios=scenarios, correlations=correlations,
                      dimensions=self.dims, shares=shares, datasets=tuple(sorted(self.datasets)))
        self.check_once_outputs(model)
        self.check_year_outputs(model)
        check_units(model)
        return self.calibration(doc, model)

    def calibration(self, doc, model):
        """``[[observations]]`` and ``[reconcile]``: checked against the finished model."""
        entries = doc.get("observations", [])
        if not isinstance(entries, list):
            self.fail("must be a list of tables", "observations", entries, "write [[observations]]")
        observations = tuple(parse_observation(e, model=model, path=self.path, field=f"observations[{i}]")
                             for i, e in enumerate(entries))
        reconcile = (parse_reconcile(self.table(doc, "reconcile"), model=model, path=self.path)
                     if "reconcile" in doc else None)
        model = dataclasses.replace(model, observations=observations, reconcile=reconcile)
        return self.references(doc, model)

    def references(self, doc, model):
        """``[[references]]``: published figures, checked against the finished model's outputs."""
        model = dataclasses.replace(model, references=parse_references(doc.get("references", []), model=model,
                                                                       path=self.path))
        return self.headline(doc.get("model", {}), model)

    def headline(self, meta, model):
        """``[model] headline``, ``headline_why``, ``headline_figure`` and each scenario's ``output``:
        names checked against the finished model."""
        headline = self.text(meta, "headline", "model", required=False)
        if headline and headline not in model.outputs:
            self.fail("is not an output of this model", "model.headline", headline,
                      f"use one of {sorted(model.outputs)}")
        figure = self.text(meta, "headline_figure", "model", required=False)
        figures = list(model.scenarios) + [r.label for r in model.references]
        if figure and figure not in figures:
            self.fail("is neither a scenario nor a reference label", "model.headline_figure", figure,
                      f"use one of {figures}" if figures else "declare it under [scenarios] or [[references]]")
        for name, scenario in model.scenarios.items():
            if scenario.output and scenario.output not in model.outputs:
                self.fail("is not an output of this model", f"scenarios.{name}.output", scenario.output,
                          f"use one of {sorted(model.outputs)}")
        return dataclasses.replace(model, headline=headline, headline_figure=figure,
                                   headline_why=self.text(meta, "headline_why", "model", required=False))

    def period(self, table):
        dates = {}
        for key in ("start", "end"):
            value = table.get(key)
            if isinstance(value, dt.datetime):
                value = value.date()
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    self.fail("is not a date", f"period.{key}", value, "write a date as 2023-01-31")
            if not isinstance(value, dt.date):
                self.fail("is missing or not a date", f"period.{key}", value,
                          f"write {key} = 2023-01-01 (a TOML date)")
            dates[key] = value
        if dates["end"] < dates["start"]:
            self.fail("the period ends before it starts", "period.end", str(dates["end"]),
                      f"use an end on or after {dates['start']}")
        if (dates["end"] - dates["start"]).days + 1 > MAX_DAYS:
            self.fail(f"the period is longer than {MAX_DAYS} days", "period.end", str(dates["end"]),
                      "shorten the period")
        return Period(dates["start"], dates["end"], self.resolution(table, "period.resolution", "day"))

    def resolution(self, table, field, default):
        """``resolution = "day"``, ``"month"`` or ``"year"``: the time step expressions are evaluated at."""
        if "resolution" not in table:
            return default
        value = table["resolution"]
        if value not in RESOLUTIONS:
            self.fail(f"must be one of {', '.join(RESOLUTIONS)}", field, value,
                      'write resolution = "month" to evaluate once per month (each month weighted by its days), '
                      '"year" once per year (each month its year\'s value times its days), or "day" for daily '
                      'distributions')
        return value

    def profile(self, table):
        if not table:
            return Profile()
        weights = table.get("weekday_weights", [1.0] * 7)
        if (not isinstance(weights, list) or len(weights) != 7
                or not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in weights)):
            self.fail("must be seven positive numbers, Monday first", "profile.weekday_weights", weights,
                      "write e.g. [1, 1, 1, 1, 1, 0.8, 0.8]")
        trend = table.get("trend_per_day", 0.0)
        if not isinstance(trend, (int, float)) or isinstance(trend, bool) or not -0.5 < trend < 0.5:
            self.fail("must be a number between -0.5 and 0.5 (relative change per day)",
                      "profile.trend_per_day", trend, "write e.g. 0.01 for 1% growth a day")
        for key in table:
            if key not in ("weekday_weights", "trend_per_day", "source", "rationale"):
                self.fail("unknown key", f"profile.{key}", fix="use weekday_weights, trend_per_day, source")
        return Profile(tuple(float(w) for w in weights), float(trend),
                       self.text(table, "source", "profile"))

    def parameters(self, table, period):
        """``[parameters]``: scalar or dimensioned parameters, and shares over a dimension."""
        if not table:
            self.fail("the model has no parameters", "parameters", fix="add at least one [parameters.NAME]")
        parameters, shares = {}, {}
        for name, spec in table.items():
            field = f"parameters.{name}"
            self.identifier(name, field)
            if name in BUILTIN_NAMES or name in self.dims:
                self.fail("is a built-in name" if name in BUILTIN_NAMES else "is the name of a dimension", field, name,
                          f"rename it; built-ins are {sorted(BUILTIN_NAMES)}, dimensions {sorted(self.dims)}")
            if not isinstance(spec, dict):
                self.fail("must be a table with dist, its numbers, unit and source", field, spec,
                          f'write [parameters.{name}] with dist = "...", unit = "...", source = "..."')
            if spec.get("dist") == "dirichlet":
                shares[name] = self.shares(name, spec, field)
            else:
                parameters[name] = self.parameter(name, spec, field, period)
        return parameters, shares

    def dims_of(self, spec, field, *, exactly_one=False) -> list:
        """The Dimension objects a parameter declares with ``dims = [...]``."""
        names = spec.get("dims", [])
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            self.fail("must be a list of dimension names", f"{field}.dims", names, 'write dims = ["cohort"]')
        for n in names:
            if n not in self.dims:
                self.fail("is not a dimension of this model", f"{field}.dims", n,
                          f"declare it under [dimensions] or use one of {sorted(self.dims) or 'none declared'}")
        if exactly_one and len(names) != 1:
            self.fail("shares are over exactly one dimension", f"{field}.dims", names, 'write dims = ["query_type"]')
        return [self.dims[n] for n in names]

    def parameter(self, name, spec, field, period):
        unit = self.text(spec, "unit", field)
        implied = unit_for_name(name)
        if implied and not unit.startswith(implied):
            self.fail(f"the name says the unit is {implied}", f"{field}.unit", unit,
                      f"write unit = \"{implied}\" or rename the parameter")
        long_name = self.text(spec, "long_name", field, required=False, default=name.replace("_", " "))
        dims = self.dims_of(spec, field)
        if not dims:
            return self.scalar_parameter(name, name, spec, field, period, unit, long_name)
        cells = [self.scalar_parameter(cell_name(name, labels), name, cell_spec, f"{field}[{','.join(labels)}]",
                                       period, unit, long_name)
                 for labels, cell_spec in self.cell_specs(spec, dims, field)]
        source = spec.get("source") if isinstance(spec.get("source"), str) and not grid_data.is_reference(spec) \
            else "; ".join(dict.fromkeys(c.source for c in cells))
        rationale = spec.get("rationale") if isinstance(spec.get("rationale"), str) else "; ".join(
            dict.fromkeys(c.rationale for c in cells if c.rationale))
        rank_each = spec.get("rank_coordinates", False)
        if not isinstance(rank_each, bool):
            self.fail("must be true or false", f"{field}.rank_coordinates", rank_each,
                      "write rank_coordinates = true to rank each coordinate alone in sensitivity analyses")
        return Parameter(name=name, unit=unit, source=source, rationale=rationale or "", long_name=long_name,
                         dist=None, dims=tuple(d.name for d in dims), cells=tuple(cells), rank_coordinates=rank_each)

    def cell_specs(self, spec, dims, field):
        """``(labels, spec)`` of every coordinate: each key's value picked per coordinate (a scalar for
        all, or nested lists or tables keyed by coordinate), then ``coordinates`` overrides."""
        where = Location(self.path, field)
        overrides = spec.get("coordinates", {})
        if not isinstance(overrides, dict):
            self.fail("must be a table keyed by coordinate", f"{field}.coordinates", overrides,
                      '[parameters.NAME.coordinates] with 2021 = { dist = "fixed", value = 0 }')
        shared = {k: v for k, v in spec.items()
                  if k not in ("dims", "coordinates", "unit", "long_name", "by_month", "rank_coordinates")}
        per_key = {}
        for key, value in shared.items():
            if key in ("values", "weights") and not (isinstance(value, dict) or
                                                     (isinstance(value, list) and value and isinstance(value[0], list))):
                per_key[key] = [value] * _count(dims)    # a discrete law's own list, the same everywhere
            else:
                per_key[key] = per_coordinate_values(value, dims, where.at(key), f"{key}")
        months = spec.get("by_month")
        labels_all = list(itertools.product(*(d.labels for d in dims)))
        for key in overrides:
            if tuple(str(key).split(",")) not in labels_all:
                self.fail("is not a coordinate of the parameter", f"{field}.coordinates.{key}", key,
                          f"use one of {[','.join(lab) for lab in labels_all][:12]}")
        for i, labels in enumerate(labels_all):
            cell = {k: v[i] for k, v in per_key.items()}
            override = overrides.get(",".join(labels))
            if override is not None:
                if not isinstance(override, dict):
                    self.fail("must be a distribution table", f"{field}.coordinates.{','.join(labels)}", override,
                              'write { dist = "...", ... }')
                cell = {**{k: v for k, v in cell.items() if k in ("source", "rationale")}, **override}
            if months is not None:
                if not isinstance(months, dict):
                    self.fail("must be a table of months", f"{field}.by_month", months,
                              'write "2023-01" = { dist = ..., ... }')
                cell["by_month"] = {m: ({k: per_coordinate_values(v, dims, where.at(f"by_month.{m}.{k}"), k)[i]
                                         for k, v in m_spec.items()} if isinstance(m_spec, dict) else m_spec)
                                    for m, m_spec in months.items()}
            yield labels, cell

    def scalar_parameter(self, name, base_name, spec, field, period, unit, long_name):
        """One scalar parameter (or one coordinate of a dimensioned one) from its distribution table, or
        from a grid/water dataset's zone (:mod:`simulate.spec.grid_data`)."""
        if grid_data.is_reference(spec):
            spec, used = grid_data.resolve(spec, unit, Location(self.path, field))
            self.datasets.add(used)
        source = self.text(spec, "source", field)
        by_month_raw = spec.get("by_month")
        meta = META_KEYS | {"dims", "coordinates"}
        has_base = any(k not in meta for k in spec) or "dist" in spec
        base = parse_distribution({k: v for k, v in spec.items() if k not in ("dims", "coordinates")},
                                  path=self.path, field=field) if has_base else None
        by_month = {}
        if by_month_raw is not None:
            if not isinstance(by_month_raw, dict) or not by_month_raw:
                self.fail("must be a table of months", f"{field}.by_month", by_month_raw,
                          'write "2023-01" = { dist = ..., ... }')
            months = period.months
            for month, month_spec in by_month_raw.items():
                month_field = f"{field}.by_month.{month}"
                match = _MONTH.fullmatch(month)
                if not match or not 1 <= int(match.group(2)) <= 12:
                    self.fail("is not a month", month_field, month, 'write months as "2023-01"')
                if month not in months:
                    self.fail("is outside the model period", month_field, month,
                              f"use months from {months[0]} to {months[-1]} or widen [period]")
                if not isinstance(month_spec, dict):
                    self.fail("must be a distribution table", month_field, month_spec,
                              "write { dist = ..., ... }")
                by_month[month] = parse_distribution(month_spec, path=self.path, field=month_field)
            missing = [m for m in months if m not in by_month]
            if missing and base is None:
                self.fail("has no distribution for some months of the period", f"{field}.by_month",
                          missing, "add those months, or give a default distribution beside by_month")
        elif base is None:
            self.fail("no distribution family given", field, fix='add dist = "..." and its numbers')
        parameter = Parameter(name=name, unit=unit, source=source,
                              rationale=self.text(spec, "rationale", field, required=False),
                              long_name=long_name, dist=base, by_month=by_month)
        self.check_bounds(parameter, field, base_name)
        return parameter

    def shares(self, name, spec, field):
        """``dist = "dirichlet"`` over one dimension: ``shares`` (summing to 1) and a ``concentration``
        (alpha_k = concentration x share_k); without a concentration the shares are fixed."""
        fields.known_keys(spec, {"dist", "dims", "shares", "concentration", "unit", "source", "rationale",
                                 "long_name"}, Location(self.path, field))
        dim = self.dims_of(spec, field, exactly_one=True)[0]
        raw = spec.get("shares")
        if raw is None:
            self.fail("the shares are missing", f"{field}.shares", fix=f"give one mean share per coordinate of {dim.name}")
        values = per_coordinate_values(raw, [dim], Location(self.path, f"{field}.shares"), "shares")
        if not all(fields.is_number(v) and math.isfinite(v) and 0 <= v <= 1 for v in values):
            self.fail("a share is a number in [0, 1]", f"{field}.shares", raw, "write shares such as [0.6, 0.3, 0.1]")
        if abs(sum(values) - 1.0) > 1e-6:
            self.fail("the shares must sum to 1", f"{field}.shares", round(sum(values), 9),
                      "rescale them so they add up to 1")
        concentration = spec.get("concentration", 0.0)
        if not fields.is_number(concentration) or not math.isfinite(concentration) or concentration < 0:
            self.fail("must be a positive number (larger is more certain)", f"{field}.concentration", concentration,
                      "write concentration = 20, or drop it for fixed shares")
        if concentration > 0 and min(values) == 0:
            self.fail("a Dirichlet share must be above 0", f"{field}.shares", raw,
                      "drop the coordinate or give it a small positive share")
        unit = spec.get("unit", "1")
        if unit != "1":
            self.fail("shares are fractions", f"{field}.unit", unit, 'write unit = "1" or drop it')
        return Shares(name=name, dims=(dim.name,), names=tuple(cell_name(name, (label,)) for label in dim.labels),
                      shares=tuple(float(v) for v in values), concentration=float(concentration),
                      source=self.text(spec, "source", field), rationale=self.text(spec, "rationale", field,
                                                                                    required=False),
                      long_name=self.text(spec, "long_name", field, required=False, default=name.replace("_", " ")))

    def check_bounds(self, parameter, field, name):
        bounds = bounds_for_name(name)
        if bounds is None:
            return
        low, high, why = bounds
        for month, dist in [(None, parameter.dist)] + list(parameter.by_month.items()):
            if dist is None:
                continue
            lo, hi = dist.support()
            if lo < low or hi > high:
                where = field if month is None else f"{field}.by_month.{month}"
                self.fail(f"{why}, but this distribution reaches [{lo:g}, {hi:g}]", where, dist.describe(),
                          f"use a family bounded to [{low:g}, {high:g}], e.g. pert or a truncated normal")

    def region_dimension(self, table):
        """The ``region`` dimension a ``[regions]`` table declares (its ``[regions.X]`` names, titled by
        their ``label``), made before the parameters so that they can vary by region too."""
        entries = {k: v for k, v in table.items() if isinstance(v, dict)}
        if not entries:
            return
        if "region" in self.dims:
            self.fail("a [dimensions] region and a [regions] table cannot both be declared", "dimensions.region",
                      fix="declare regions one way: [regions] (with grid intensities) or a region dimension")
        for name in entries:
            self.identifier(name, f"regions.{name}")
        titles = tuple(str(spec.get("label") or name.replace("_", " ").capitalize()) for name, spec in entries.items())
        self.dims["region"] = Dimension("region", tuple(entries), titles)

    def regions(self, table, parameters, shares):
        """``[regions]``: sugar for a ``region`` dimension with a grid intensity per region
        (``region_grid_g_per_kwh``, its coordinates named ``grid_REGION_g_per_kwh``) and the load
        shares (``region_share``, coordinates ``share_REGION``, Dirichlet or fixed); the
        share-weighted ``grid_g_per_kwh`` is added by :meth:`derived`."""
        if not table:
            return None
        settings = {k: v for k, v in table.items() if not isinstance(v, dict)}
        entries = {k: v for k, v in table.items() if isinstance(v, dict)}
        mode = settings.get("shares", "fixed")
        if mode not in ("fixed", "dirichlet"):
            self.fail("must be fixed or dirichlet", "regions.shares", mode, 'write shares = "dirichlet"')
        for key in settings:
            if key not in ("shares", "concentration", "source", "rationale"):
                self.fail("unknown key", f"regions.{key}", fix="use shares, concentration, source, rationale")
        if not entries:
            self.fail("no regions are listed", "regions", fix="add [regions.NAME] tables with share and intensity")
        concentration = settings.get("concentration", 0.0)
        if mode == "dirichlet" and (not isinstance(concentration, (int, float)) or concentration <= 0):
            self.fail("a Dirichlet split needs a positive concentration", "regions.concentration",
                      concentration, "write concentration = 10 (larger is more certain)")
        regions = []
        for name, spec in entries.items():
            field = f"regions.{name}"
            self.identifier(name, field)
            share = spec.get("share")
            if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1:
                self.fail("a share is a fraction in [0, 1]", f"{field}.share", share,
                          "write the region's mean share of the load, e.g. 0.3")
            if mode == "dirichlet" and share == 0:
                self.fail("a Dirichlet share must be above 0", f"{field}.share", share,
                          "drop the region or give it a small positive share")
            intensity = spec.get("intensity_g_per_kwh")
            if grid_data.is_reference(intensity):
                intensity, used = grid_data.resolve(intensity, "gCO2e/kWh",
                                                    Location(self.path, f"{field}.intensity_g_per_kwh"))
                self.datasets.add(used)
            if not isinstance(intensity, dict):
                self.fail("the grid intensity is missing", f"{field}.intensity_g_per_kwh", intensity,
                          'add intensity_g_per_kwh = { dist = "pert", min = ..., mode = ..., max = ... }')
            dist = parse_distribution(intensity, path=self.path, field=f"{field}.intensity_g_per_kwh")
            if dist.support()[0] < 0:
                self.fail("a grid intensity cannot be negative", f"{field}.intensity_g_per_kwh",
                          dist.describe(), "use a family bounded below by 0")
            source = intensity.get("source") or spec.get("source")
            if not isinstance(source, str) or not source.strip():
                self.fail("the source is missing", f"{field}.source", fix='add source = "..."')
            param = Parameter(name=f"grid_{name}_g_per_kwh", unit="gCO2e/kWh", source=source.strip(),
                              rationale=str(intensity.get("rationale") or spec.get("rationale", "")),
                              long_name=f"grid carbon intensity, {name}", dist=dist, by_month={})
            regions.append(Region(name=name, share=float(share), intensity=param))
        total = sum(r.share for r in regions)
        if abs(total - 1.0) > 1e-6:
            self.fail("the region shares must sum to 1", "regions.*.share", round(total, 9),
                      "rescale the shares so they add up to 1")
        for name in ("region_grid_g_per_kwh",):
            if name in parameters:
                self.fail("is defined by [regions]", f"parameters.{name}", name, "rename the parameter")
        if "region_share" in shares or "region_share" in parameters:
            self.fail("is defined by [regions]", "parameters.region_share", "region_share", "rename the parameter")
        source = str(settings.get("source", ""))
        parameters["region_grid_g_per_kwh"] = Parameter(
            name="region_grid_g_per_kwh", unit="gCO2e/kWh", source="; ".join(dict.fromkeys(r.intensity.source
                                                                                       for r in regions)),
            rationale="; ".join(dict.fromkeys(r.intensity.rationale for r in regions if r.intensity.rationale))
            or "each region's grid intensity, as [regions] gives it", long_name="grid carbon intensity of each region",
            dist=None, dims=("region",),
            cells=tuple(r.intensity for r in regions), rank_coordinates=True)
        shares["region_share"] = Shares(
            name="region_share", dims=("region",), names=tuple(f"share_{r.name}" for r in regions),
            shares=tuple(r.share for r in regions), concentration=float(concentration) if mode == "dirichlet" else 0.0,
            source=source or "[regions]", long_name="share of the load in each region")
        return Regions(regions=tuple(regions), mode=mode, concentration=float(concentration), source=source)

    def derived(self, table, regions):
        derived = {}
        if regions is not None:   # the share-weighted intensity [regions] implies
            text = 'sum(region_share * region_grid_g_per_kwh, "region")'
            derived["grid_g_per_kwh"] = Derived("grid_g_per_kwh", parse_expression(text, field="regions"), text,
                                                "gCO2e/kWh", "share-weighted grid carbon intensity")
        for name, spec in table.items():
            field = f"derived.{name}"
            self.identifier(name, field)
            if name in derived:
                self.fail("is defined by [regions]", field, name, "give it another name")
            declared = None
            if isinstance(spec, dict):
                for key in spec:
                    if key not in ("expr", "unit", "long_name", "source", "rationale", "dims"):
                        self.fail("unknown key", f"{field}.{key}", fix="use expr, unit, long_name, source, dims")
                text = spec.get("expr")
                unit = spec.get("unit") or unit_for_name(name)
                long_name = spec.get("long_name") or name.replace("_", " ")
                source = spec.get("source", "")
                if "dims" in spec:
                    declared = tuple(d.name for d in self.dims_of(spec, field))
            else:
                text, unit, long_name, source = spec, unit_for_name(name), name.replace("_", " "), ""
            node = parse_expression(text, path=self.path, field=field if not isinstance(spec, dict) else f"{field}.expr")
            derived[name] = Derived(name=name, node=node, text=text, unit=unit, long_name=long_name,
                                    source=source, dims=declared)
        return derived

    def namespace(self, parameters, shares, regions, derived):
        """Every name an expression may use, and what it is."""
        known = {name: "built-in" for name in BUILTIN_NAMES}
        known.update({name: "dimension" for name in self.dims})
        for group, kind in ((parameters, "parameter"), (shares, "share")):
            for name, item in group.items():
                for flat in [name] + [c.name for c in getattr(item, "cells", ())] + list(getattr(item, "names", ())):
                    if flat in known and flat != name:   # only [regions] names coordinates without brackets
                        region = next((r.name for r in regions.regions if flat in (f"share_{r.name}",
                                       f"grid_{r.name}_g_per_kwh")), flat) if regions is not None else flat
                        self.fail("a region's name clashes with another quantity", f"regions.{region}", flat,
                                  "rename the region or the parameter")
                    known[flat] = kind
        if regions is not None and "grid_g_per_kwh" in known:
            self.fail("is a built-in name when the model has [regions] (the share-weighted intensity)",
                      "parameters.grid_g_per_kwh", "grid_g_per_kwh",
                      "rename the parameter, or drop [regions] to use your own grid_g_per_kwh")
        for name in derived:
            if name in known:
                self.fail(f"is already a {known[name]}", f"derived.{name}", name, "give it another name")
            known[name] = "derived"
        return known

    def infer_dimensions(self, derived, parameters, shares) -> dict:
        """Each derived quantity's dimensions (in dependency order), with ``x[key]`` made explicit."""
        known = {p.name: p.dims for p in parameters.values()}
        known.update({s.name: s.dims for s in shares.values()})
        inference = Inference(self.dims, known, path=self.path)
        out = {}
        for name in _dependency_order(derived):
            item = derived[name]
            field = f"derived.{name}"
            dims, node = inference.derived(item, field)
            if item.dims is not None and tuple(item.dims) != dims:
                self.fail(f"declares dims {list(item.dims)} but its expression has {list(dims)}", f"{field}.dims",
                          item.text, "declare the dimensions the expression has, or sum() over the extra ones")
            out[name] = dataclasses.replace(item, node=node, dims=dims)
        return {name: out[name] for name in derived}

    def check_references(self, derived, known):
        for name, item in derived.items():
            for used in sorted(names_in(item.node)):
                if used not in known:
                    close = [k for k in known if k.split("_")[0] == used.split("_")[0]][:3]
                    hint = f"did you mean {' or '.join(close)}?" if close else "define it under [parameters] or [derived]"
                    self.fail("uses an unknown name", f"derived.{name}", used, hint)
        nodes = {name: item.node for name, item in derived.items()}
        cycle = dependency_cycle(nodes)
        if cycle:
            self.fail("the derived quantities form a cycle", f"derived.{cycle[0]}", " -> ".join(cycle),
                      "break the cycle so that no quantity depends on itself")
        for name, depth in inlined_depths(nodes).items():
            if depth > MAX_INLINED_DEPTH:
                self.fail(f"with the derived quantities it uses written out, the expression nests {depth} deep, "
                          f"more than the {MAX_INLINED_DEPTH} allowed", f"derived.{name}", derived[name].text,
                          "compute long chains in fewer steps, e.g. sum several terms in one expression")

    def outputs(self, table, known, parameters, shares, derived):
        if not table:
            self.fail("the model reports no outputs", "outputs", fix="add [outputs.energy_kwh] with aggregate = \"sum\"")
        outputs = {}
        for name, spec in table.items():
            field = f"outputs.{name}"
            if name not in known or known[name] in ("built-in", "dimension"):
                self.fail("is not a parameter or derived quantity", field, name,
                          "define it under [derived] first")
            if not isinstance(spec, dict):
                spec = {"aggregate": spec}
            aggregate = spec.get("aggregate", "sum")
            if aggregate not in ("sum", "mean", "once"):
                self.fail("must be sum, mean or once", f"{field}.aggregate", aggregate,
                          'write aggregate = "sum" (a daily flow), "mean" (a level) or "once" (a one-off total)')
            for key in spec:
                if key not in ("aggregate", "unit", "long_name", "description", "label", "by", "total",
                               "resolution") + BASIS_KEYS:
                    self.fail("unknown key", f"{field}.{key}", fix="use aggregate, unit, long_name, label, by, total, "
                                                                  "resolution, boundary, accounting, grid_basis, grid_vintage")
            item = parameters.get(name) or derived.get(name) or shares.get(name)
            source_unit = getattr(item, "unit", None)
            unit = spec.get("unit") or source_unit or unit_for_name(name)
            if not unit:
                self.fail("has no unit", f"{field}.unit", fix='add unit = "..." or use a name with a unit suffix such as _kwh')
            long_name = spec.get("long_name") or (derived[name].long_name if name in derived
                                                  else getattr(item, "long_name", "") or name.replace("_", " "))
            dims = tuple(getattr(item, "dims", ()) or ())
            by = tuple(d.name for d in self.dims_of({"dims": spec.get("by", list(dims))}, f"{field}.by")) \
                if "by" in spec or dims else ()
            if set(by) != set(dims):
                self.fail(f"{name} has dimensions {list(dims) or 'none'}; an output keeps all of them (by) or none",
                          f"{field}.by", list(by), f"write by = {list(dims)}, or report sum({name}, ...) as a derived "
                          "quantity")
            total = spec.get("total", "sum" if aggregate != "mean" else "none") if by else ""
            if by and total not in ("sum", "mean", "none"):
                self.fail("must be sum, mean or none", f"{field}.total", total,
                          'write total = "sum" to report the sum over the coordinates as well')
            outputs[name] = Output(name=name, aggregate=aggregate, unit=unit, long_name=long_name,
                                   by=ordered(self.dims, by), total="" if total == "none" else total,
                                   label=self.text(spec, "label", field, required=False),
                                   resolution=self.resolution(spec, f"{field}.resolution", ""),
                                   **self.basis(spec, field, unit))
        return outputs

    def basis(self, spec, field, unit) -> dict:
        """An output's ``boundary`` (energy and power) and carbon basis (``accounting``, ``grid_basis``,
        ``grid_vintage``: masses of CO2), checked against its unit."""
        kind = quantity_kind(unit)
        out = {}
        boundary = spec.get("boundary")
        if boundary is not None:
            if kind not in ("energy", "power"):
                self.fail(f"only an energy or power output has a boundary; this one is in {unit}", f"{field}.boundary",
                          boundary, "drop boundary")
            if boundary not in BOUNDARIES:
                self.fail("is not a boundary", f"{field}.boundary", boundary,
                          f"use one of {list(BOUNDARIES)} ({'; '.join(f'{k}: {v}' for k, v in BOUNDARIES.items())})")
            out["boundary"] = boundary
        carbon = {k: spec[k] for k in ("accounting", "grid_basis", "grid_vintage") if k in spec}
        if carbon and kind != "mass":
            self.fail(f"only a mass of CO2 has a carbon accounting basis; this output is in {unit}",
                      f"{field}.{next(iter(carbon))}", next(iter(carbon.values())), "drop it")
        if "accounting" in carbon and carbon["accounting"] not in ACCOUNTING:
            self.fail("is not a GHG Protocol Scope 2 method", f"{field}.accounting", carbon["accounting"],
                      f"use one of {list(ACCOUNTING)}")
        if "grid_basis" in carbon and carbon["grid_basis"] not in GRID_BASES:
            self.fail("is not a grid data basis", f"{field}.grid_basis", carbon["grid_basis"],
                      f"use one of {list(GRID_BASES)}")
        if ("grid_basis" in carbon or "grid_vintage" in carbon) and "accounting" not in carbon:
            self.fail("a grid basis needs its accounting method", f"{field}.accounting", None,
                      'add accounting = "location-based" or "market-based"')
        if carbon.get("accounting") == "market-based" and carbon.get("grid_basis", "contractual") != "contractual":
            self.fail("market-based CO2 uses contractual factors", f"{field}.grid_basis", carbon["grid_basis"],
                      'write grid_basis = "contractual", or accounting = "location-based"')
        for k in ("grid_vintage",):
            if k in carbon and (not isinstance(carbon[k], str) or not carbon[k].strip()):
                self.fail("must be a string", f"{field}.{k}", carbon[k], f'write {k} = "eGRID2023 (2023 data)"')
        out.update({k: v.strip() for k, v in carbon.items()})
        return out

    def check_once_outputs(self, model):
        """A one-off total (``aggregate = "once"``) cannot change with the day or month."""
        flat = model.flat
        timed = set(BUILTIN_NAMES) | {p.name for p in flat.parameters.values() if p.varies_by_month}
        varies = {}

        def changes(name):
            if name not in varies:
                item = flat.derived.get(name)
                varies[name] = name in timed or (item is not None and any(changes(n) for n in names_in(item.node)))
            return varies[name]

        for out in flat.outputs.values():
            if out.aggregate == "once" and changes(out.name):
                self.fail("a one-off total cannot change with the day or month", f"outputs.{out.of or out.name}.aggregate",
                          "once", "use aggregate = \"sum\" for a daily flow, or build it from quantities fixed over "
                          "the period")

    def check_year_outputs(self, model):
        """An output evaluated once per year (``resolution = "year"``) cannot read a draw that changes
        by month: its months are its year's value spread by days."""
        flat = model.flat
        monthly = {p.name for p in flat.parameters.values() if p.varies_by_month}
        found = {}

        def monthly_input(name):
            if name not in found:
                item = flat.derived.get(name)
                found[name] = name if name in monthly else next(
                    (m for m in (monthly_input(n) for n in names_in(item.node)) if m), None) if item else None
            return found[name]

        for out in flat.outputs.values():
            reads = monthly_input(out.name) if model.resolution_of(out.name) == "year" else None
            if reads:
                own = (model.outputs.get(out.of or out.name) or out).resolution
                self.fail(f"output {out.of or out.name} reads {reads}, which is drawn month by month; at year "
                          "resolution each year is evaluated once", f"outputs.{out.of or out.name}.resolution"
                          if own else "period.resolution", "year",
                          'use resolution = "month", or give the parameter one value per year (dims = ["year"])')

    def correlations(self, entries, parameters):
        """``[[correlations]]``: rank correlations between sampled parameters, pair by pair or as a
        pattern over a dimension of one parameter."""
        sampled = {c.name: c for p in parameters.values() for c in (p.cells or (p,))}
        pairs = expand_patterns(entries, parameters, self.dims, path=self.path)
        return parse_correlations(pairs, sampled, path=self.path)

    def scenarios(self, table, parameters, shares, period, derived):
        """``[scenarios.NAME]``: parameters (or coordinates, shares, or a derived quantity without
        dimensions, pinned to a number) fixed at a published estimate's values."""
        cells = {c.name: p.name for p in parameters.values() for c in p.cells}   # cell -> its parameter
        pinnable = sorted(n for n, d in derived.items() if not d.dims)
        fixable = sorted(parameters) + sorted(shares) + sorted(cells)
        scenarios = {}
        for name, spec in table.items():
            field = f"scenarios.{name}"
            self.identifier(name, field)
            if not isinstance(spec, dict):
                self.fail("must be a table of parameter values", field, spec, "write [scenarios.NAME]")
            values = {}
            for key, value in spec.items():
                if key in ("description", "source", "status", "label", "output"):
                    continue
                where = f"{field}.{key}"
                if key in parameters and parameters[key].dims:
                    dims = [self.dims[d] for d in parameters[key].dims]
                    values[key] = [self.scenario_value(v, where, period, key)
                                   for v in per_coordinate_values(value, dims, Location(self.path, where), key)]
                elif key in shares:
                    dim = self.dims[shares[key].dims[0]]
                    numbers = [self.scenario_value(v, where, period, key)
                               for v in per_coordinate_values(value, [dim], Location(self.path, where), key)]
                    if any(isinstance(v, dict) for v in numbers) or abs(sum(numbers) - 1) > 1e-6:
                        self.fail("shares fixed by a scenario must be numbers summing to 1", where, value,
                                  "give one share per coordinate, adding up to 1")
                    values[key] = numbers
                elif key in parameters or key in cells:
                    values[key] = self.scenario_value(value, where, period, cells.get(key, key))
                elif key in pinnable:
                    if not fields.is_finite_number(value):
                        self.fail("a derived quantity is pinned to one number", where, value, "write a number")
                    values[key] = float(value)
                else:
                    self.fail("is not a parameter of this model", where, key,
                              f"fix one of {fixable}, or pin a derived quantity without dimensions")
            status = spec.get("status", "")
            if status not in SCENARIO_STATUS:
                self.fail("is not a status tag", f"{field}.status", status,
                          "use S (read in the source), S2 (secondary source), I (inferred) or U (not known for certain)")
            scenarios[name] = Scenario(name=name, description=str(spec.get("description", "")), values=values,
                                       source=str(spec.get("source", "")), status=status,
                                       label=self.text(spec, "label", field, required=False),
                                       output=self.text(spec, "output", field, required=False))
        return scenarios

    def scenario_value(self, value, field, period, parameter):
        """The number (or ``{month: number}``) a scenario fixes ``parameter`` (or a coordinate of it) to,
        held to the bounds of its prior."""
        return fields.fixed_value(parameter, value, period.months, Location(self.path, field))


def _count(dims) -> int:
    return math.prod(len(d.coords) for d in dims)


def _dependency_order(derived) -> list:
    """Derived names, each after the derived quantities it uses (cycles were refused already)."""
    order, done = [], set()

    def visit(name):
        if name in done:
            return
        done.add(name)
        for used in sorted(names_in(derived[name].node)):
            if used in derived:
                visit(used)
        order.append(name)

    for name in derived:
        visit(name)
    return order
