"""Read a model file (TOML) into a validated :class:`~simulate.spec.model.Model`.

Validation happens here, once, at the public boundary: every problem is reported as a
:class:`~simulate.errors.ModelError` that names the file, the field, the bad value and the fix.
See the README's "Model file format" for the layout this reader accepts.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import stat
import tomllib
from pathlib import Path

from ..errors import Location, ModelError
from ..units import bounds_for_name, unit_for_name
from . import fields, schema
from .calendar import Period, Profile
from .correlation import parse_correlations
from .distributions import META_KEYS, parse_distribution
from .expressions import MAX_INLINED_DEPTH, dependency_cycle, inlined_depths, names_in, parse_expression
from .model import (
    BUILTIN_NAMES,
    Derived,
    Model,
    Output,
    Parameter,
    Region,
    Regions,
    Scenario,
)
from .observations import parse_observation, parse_reconcile
from .references import parse_references

_MONTH = re.compile(r"(\d{4})-(\d{2})")
MAX_DAYS = 366 * 30
SCENARIO_STATUS = ("", "S", "S2", "I", "U")  # how sure: read in the source, secondary source, inferred, unknown
TOP_LEVEL = {"model", "period", "profile", "parameters", "regions", "derived", "outputs", "scenarios",
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
        parameters = self.parameters(self.table(doc, "parameters"), period)
        regions = self.regions(self.table(doc, "regions", required=False))
        derived = self.derived(self.table(doc, "derived", required=False))
        known = self.namespace(parameters, regions, derived)
        self.check_references(derived, known)
        outputs = self.outputs(self.table(doc, "outputs"), known, parameters, derived)
        scenarios = self.scenarios(self.table(doc, "scenarios", required=False), parameters, regions, period)
        correlations = self.correlations(doc.get("correlations", []), parameters, regions)
        model = Model(name=name, title=self.text(meta, "title", "model", required=False, default=name),
                     description=self.text(meta, "description", "model", required=False),
                     path=str(self.path) if self.path else None, sha256=sha256 or "",
                     period=period, profile=profile, parameters=parameters, regions=regions,
                     derived=derived, outputs=outputs, scenarios=scenarios, correlations=correlations)
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
        return dataclasses.replace(model, references=parse_references(doc.get("references", []), model=model,
                                                                      path=self.path))

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
        return Period(dates["start"], dates["end"])

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
        if not table:
            self.fail("the model has no parameters", "parameters", fix="add at least one [parameters.NAME]")
        parameters = {}
        for name, spec in table.items():
            field = f"parameters.{name}"
            self.identifier(name, field)
            if name in BUILTIN_NAMES:
                self.fail("is a built-in name", field, name, f"rename it; built-ins are {sorted(BUILTIN_NAMES)}")
            if not isinstance(spec, dict):
                self.fail("must be a table with dist, its numbers, unit and source", field, spec,
                          f'write [parameters.{name}] with dist = "...", unit = "...", source = "..."')
            parameters[name] = self.parameter(name, spec, field, period)
        return parameters

    def parameter(self, name, spec, field, period):
        unit = self.text(spec, "unit", field)
        implied = unit_for_name(name)
        if implied and not unit.startswith(implied):
            self.fail(f"the name says the unit is {implied}", f"{field}.unit", unit,
                      f"write unit = \"{implied}\" or rename the parameter")
        source = self.text(spec, "source", field)
        by_month_raw = spec.get("by_month")
        has_base = any(k not in META_KEYS for k in spec) or "dist" in spec
        base = parse_distribution(spec, path=self.path, field=field) if has_base else None
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
                              long_name=self.text(spec, "long_name", field, required=False,
                                                  default=name.replace("_", " ")),
                              dist=base, by_month=by_month)
        self.check_bounds(parameter, field)
        return parameter

    def check_bounds(self, parameter, field):
        bounds = bounds_for_name(parameter.name)
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

    def regions(self, table):
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
                              rationale=str(spec.get("rationale", "")),
                              long_name=f"grid carbon intensity, {name}", dist=dist, by_month={})
            regions.append(Region(name=name, share=float(share), intensity=param))
        total = sum(r.share for r in regions)
        if abs(total - 1.0) > 1e-6:
            self.fail("the region shares must sum to 1", "regions.*.share", round(total, 9),
                      "rescale the shares so they add up to 1")
        return Regions(regions=tuple(regions), mode=mode, concentration=float(concentration),
                       source=str(settings.get("source", "")))

    def derived(self, table):
        derived = {}
        for name, spec in table.items():
            field = f"derived.{name}"
            self.identifier(name, field)
            if isinstance(spec, dict):
                for key in spec:
                    if key not in ("expr", "unit", "long_name", "source", "rationale"):
                        self.fail("unknown key", f"{field}.{key}", fix="use expr, unit, long_name, source")
                text = spec.get("expr")
                unit = spec.get("unit") or unit_for_name(name)
                long_name = spec.get("long_name") or name.replace("_", " ")
                source = spec.get("source", "")
            else:
                text, unit, long_name, source = spec, unit_for_name(name), name.replace("_", " "), ""
            node = parse_expression(text, path=self.path, field=field if not isinstance(spec, dict) else f"{field}.expr")
            derived[name] = Derived(name=name, node=node, text=text, unit=unit, long_name=long_name,
                                    source=source)
        return derived

    def namespace(self, parameters, regions, derived):
        known = {name: "parameter" for name in parameters}
        known.update({name: "built-in" for name in BUILTIN_NAMES})
        if regions is not None:
            if "grid_g_per_kwh" in known:
                self.fail("is a built-in name when the model has [regions] (the share-weighted intensity)",
                          "parameters.grid_g_per_kwh", "grid_g_per_kwh",
                          "rename the parameter, or drop [regions] to use your own grid_g_per_kwh")
            known["grid_g_per_kwh"] = "region"
            for region in regions.regions:
                for name in (f"share_{region.name}", region.intensity.name):
                    if name in known:
                        self.fail("a region's name clashes with another quantity", f"regions.{region.name}",
                                  name, "rename the region or the parameter")
                    known[name] = "region"
        for name in derived:
            if name in known:
                self.fail(f"is already a {known[name]}", f"derived.{name}", name, "give it another name")
            known[name] = "derived"
        return known

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

    def outputs(self, table, known, parameters, derived):
        if not table:
            self.fail("the model reports no outputs", "outputs", fix="add [outputs.energy_kwh] with aggregate = \"sum\"")
        outputs = {}
        for name, spec in table.items():
            field = f"outputs.{name}"
            if name not in known:
                self.fail("is not a parameter or derived quantity", field, name,
                          "define it under [derived] first")
            if not isinstance(spec, dict):
                spec = {"aggregate": spec}
            aggregate = spec.get("aggregate", "sum")
            if aggregate not in ("sum", "mean"):
                self.fail("must be sum or mean", f"{field}.aggregate", aggregate, 'write aggregate = "sum"')
            for key in spec:
                if key not in ("aggregate", "unit", "long_name", "description"):
                    self.fail("unknown key", f"{field}.{key}", fix="use aggregate, unit, long_name")
            source_unit = (parameters[name].unit if name in parameters
                           else derived[name].unit if name in derived else None)
            unit = spec.get("unit") or source_unit or unit_for_name(name)
            if not unit:
                self.fail("has no unit", f"{field}.unit", fix='add unit = "..." or use a name with a unit suffix such as _kwh')
            long_name = spec.get("long_name") or (derived[name].long_name if name in derived
                                                  else name.replace("_", " "))
            outputs[name] = Output(name=name, aggregate=aggregate, unit=unit, long_name=long_name)
        return outputs

    def correlations(self, entries, parameters, regions):
        """``[[correlations]]``: rank correlations between sampled parameters."""
        sampled = dict(parameters)
        if regions is not None:
            sampled.update({r.intensity.name: r.intensity for r in regions.regions})
        return parse_correlations(entries, sampled, path=self.path)

    def scenarios(self, table, parameters, regions, period):
        fixable = dict(parameters)
        if regions is not None:
            fixable.update({r.intensity.name: r.intensity for r in regions.regions})
        self.intensities = {r.intensity.name for r in regions.regions} if regions is not None else set()
        scenarios = {}
        for name, spec in table.items():
            field = f"scenarios.{name}"
            self.identifier(name, field)
            if not isinstance(spec, dict):
                self.fail("must be a table of parameter values", field, spec, "write [scenarios.NAME]")
            values = {}
            for key, value in spec.items():
                if key in ("description", "source", "status"):
                    continue
                if key not in fixable:
                    self.fail("is not a parameter of this model", f"{field}.{key}", key,
                              f"fix one of {sorted(fixable)}")
                values[key] = self.scenario_value(value, f"{field}.{key}", period)
            status = spec.get("status", "")
            if status not in SCENARIO_STATUS:
                self.fail("is not a status tag", f"{field}.status", status,
                          "use S (read in the source), S2 (secondary source), I (inferred) or U (not known for certain)")
            scenarios[name] = Scenario(name=name, description=str(spec.get("description", "")), values=values,
                                       source=str(spec.get("source", "")), status=status)
        return scenarios

    def scenario_value(self, value, field, period):
        """The number (or ``{month: number}``) a scenario fixes the parameter at ``field`` to, held to
        the bounds of its prior (a region's intensity to at least 0)."""
        name = field.split(".", 2)[2]           # scenarios.NAME.PARAMETER
        return fields.fixed_value(name, value, period.months, Location(self.path, field),
                                  fields.INTENSITY_BOUNDS if name in self.intensities else None)

