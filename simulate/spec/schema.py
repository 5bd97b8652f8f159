"""The shape of a model file, declared once, and the check of a parsed TOML document against it.

:mod:`simulate.spec.reader` gives a model file its meaning (which names exist, which
distribution a set of keys is); before it runs, :func:`check_document` checks the document's
*shape* against :data:`MODEL_FILE`, a declarative description of every table:

* every key of every table is known (a typo is an error, never silently ignored);
* every value has its type: strings where strings are meant (a name or a unit is never a list
  or a table), numbers finite and representable as 64-bit floats, dates within the calendar
  the results can hold;
* every number lies within its bounds (a share in [0, 1], a concentration above 0, ...);
* every size is within a limit (the ``MAX_`` constants below): names short enough for netCDF,
  texts, expressions, lists, and counts of parameters, regions, outputs...

So the reader can take types for granted, and every problem is one
:class:`~simulate.errors.ModelError` naming the file, the field, the value and the fix.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import sys
from dataclasses import dataclass, field

from ..errors import Location
from .calendar import RESOLUTIONS

# -- limits ------------------------------------------------------------------------------------------
MAX_FILE_BYTES = 4 * 1024 * 1024    # the shipped models are 13-21 kB
MAX_NAME_CHARS = 128                # netCDF allows 256 (NC_MAX_NAME); a variable adds up to 18 (_monthly_nonfinite)
MAX_TEXT_CHARS = 20_000             # a source, rationale or description
MAX_EXPRESSION_CHARS = 2_000        # the longest shipped expression has 189
MAX_LIST_ITEMS = 10_000             # values of a discrete distribution
MAX_PARAMETERS = 1_000
MAX_REGIONS = 1_000
MAX_DERIVED = 1_000
MAX_OUTPUTS = 200
MAX_SCENARIOS = 500
MAX_ENTRIES = 1_000                 # [[correlations]], [[observations]], [[references]]
MAX_COORDINATES = 10_000            # of one dimension
MAX_DIMENSIONS = 8                  # of one quantity: how deep values given per coordinate may nest

# The days the results can hold: datetime64[ns] spans 1677-09-21 to 2262-04-11 (whole years kept).
FIRST_DATE = dt.date(1678, 1, 1)
LAST_DATE = dt.date(2261, 12, 31)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CELL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[A-Za-z0-9_.,-]+\])?")   # a name, or one coordinate: power_w[tpu,2024]
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_FLOAT_MAX = sys.float_info.max


def _names(sequence) -> str:
    return ", ".join(sorted(sequence))


# -- value types -------------------------------------------------------------------------------------
class Spec:
    """One kind of value; :meth:`check` raises a ModelError at ``where`` unless ``value`` is one."""

    what = "value"      # what one is called in messages ("a list of numbers")

    def accepts(self, value) -> bool:
        """Whether ``value`` has this spec's Python type (then :meth:`check` judges the rest)."""
        raise NotImplementedError

    def check(self, value, where: Location):
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Spec):
    """A string of at most ``max_chars``; ``pattern`` (if given) must match all of it."""

    max_chars: int = MAX_TEXT_CHARS
    pattern: re.Pattern | None = None
    example: str = '"..."'
    problem: str = ""   # when the pattern does not match (default: "is not of the form EXAMPLE")
    fix: str = ""
    what = "string"

    def accepts(self, value) -> bool:
        return isinstance(value, str)

    def check(self, value, where):
        if not isinstance(value, str):
            where.fail("must be a string", value=value, fix=f"write it as {self.example}, in quotes")
        if len(value) > self.max_chars:
            where.fail(f"is {len(value):,} characters long, more than the {self.max_chars:,} allowed", value=value,
                       fix="shorten it")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            where.fail(self.problem or f"is not of the form {self.example}", value=value,
                       fix=self.fix or f"write it as {self.example}")


@dataclass(frozen=True)
class Number(Spec):
    """A finite integer or float within [low, high] (open ends with ``low_open``/``high_open``)."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    example: str = "1.5"
    why: str = ""       # the problem when not a number or out of bounds (default: "must lie in [low, high]")
    fix: str = ""
    what = "number"

    def accepts(self, value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)

    def check(self, value, where):
        if not self.accepts(value):
            where.fail(self.why or "must be a finite number", value=value,
                       fix=self.fix or f"write a plain number such as {self.example}")
        if isinstance(value, numbers.Integral) and abs(value) > _FLOAT_MAX:
            where.fail("is too large to compute with (more than 1.8e308)", value=value,
                       fix="write the number in the unit's scale, e.g. 3e9")
        if not math.isfinite(value):
            where.fail("must be a finite number", value=value, fix=f"write a plain number such as {self.example}")
        if self.integer and not isinstance(value, numbers.Integral):
            where.fail("must be a whole number", value=value, fix=f"write e.g. {self.example}")
        below = value <= self.low if self.low_open else value < self.low
        above = value >= self.high if self.high_open else value > self.high
        if below or above:
            where.fail(self.why or f"must lie in {self.interval()}", value=value,
                       fix=self.fix or f"write e.g. {self.example}")

    def interval(self) -> str:
        return (("(" if self.low_open else "[") + f"{self.low:g}, {self.high:g}" + (")" if self.high_open else "]"))


@dataclass(frozen=True)
class Date(Spec):
    """A TOML date (or, with ``text``, an ISO date string) from FIRST_DATE to LAST_DATE."""

    text: bool = False
    what = "date"

    def accepts(self, value) -> bool:
        return isinstance(value, dt.date) or (self.text and isinstance(value, str))

    def check(self, value, where):
        if isinstance(value, str) and self.text:
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                where.fail("is not a date", value=value, fix="write a date as 2023-01-31")
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            where.fail("is not a date", value=value, fix="write a date as 2023-01-31 (a TOML date)")
        if not FIRST_DATE <= value <= LAST_DATE:
            where.fail(f"is outside the calendar results can hold ({FIRST_DATE} to {LAST_DATE})",
                       value=str(value), fix=f"use dates from {FIRST_DATE.year} to {LAST_DATE.year}")


@dataclass(frozen=True)
class List(Spec):
    """A list of ``item`` values with ``min_items`` to ``max_items`` entries."""

    item: Spec
    min_items: int = 0
    max_items: int = MAX_LIST_ITEMS
    example: str = "[1, 2, 3]"
    fix: str = ""
    what = "list"

    def accepts(self, value) -> bool:
        return isinstance(value, list)

    def check(self, value, where):
        if not isinstance(value, list):
            items = self.item.what if " " not in self.item.what else "value"   # "a number or a name": values
            where.fail(f"must be a list of {items}s", value=value, fix=self.fix or f"write e.g. {self.example}")
        if not self.min_items <= len(value) <= self.max_items:
            count = (f"exactly {self.min_items}" if self.min_items == self.max_items
                     else f"{self.min_items} to {self.max_items:,}")
            where.fail(f"has {len(value):,} entries; it takes {count}", value=value, fix=f"write e.g. {self.example}")
        for i, item in enumerate(value):
            self.item.check(item, where.item(i))


@dataclass(frozen=True)
class Table(Spec):
    """A table with the fixed ``keys`` and, when ``names`` is given, entries keyed by a name.

    ``names`` is ``(key spec, value spec)``: e.g. ``[parameters]`` holds any identifier, each a
    distribution table; at most ``max_names`` of them.
    """

    keys: dict = field(default_factory=dict)
    names: tuple | None = None
    max_names: int = 0
    example: str = "a [table]"
    unknown: str = "unknown key"
    what = "table"

    def accepts(self, value) -> bool:
        return isinstance(value, dict)

    def check(self, value, where):
        if not isinstance(value, dict):
            where.fail("must be a table", value=value, fix=f"write it as {self.example}")
        named = 0
        for key, item in value.items():
            if key in self.keys:
                self.keys[key].check(item, where.at(key))
                continue
            if self.names is None:
                where.fail(self.unknown, key, fix=f"use only {_names(self.keys)}" if self.keys else "remove it")
            key_spec, value_spec = self.names
            key_spec.check(key, where.at(str(key)))
            named += 1
            if named > self.max_names:
                where.fail(f"has more than {self.max_names:,} entries", fix="split the model or merge entries")
            value_spec.check(item, where.at(key))


@dataclass(frozen=True)
class Name(Spec):
    """A key that names something: an identifier of at most MAX_NAME_CHARS."""

    pattern: re.Pattern = IDENTIFIER
    example: str = "server_power_w"
    problem: str = "is not a valid name"
    fix: str = "use letters, digits and underscores, starting with a letter"
    what = "name"

    def accepts(self, value) -> bool:
        return isinstance(value, str)

    def check(self, value, where):
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            where.fail(self.problem, fix=f"{self.fix} (e.g. {self.example})")
        if len(value) > MAX_NAME_CHARS:
            where.fail(f"the name is {len(value)} characters long, more than the {MAX_NAME_CHARS} allowed",
                       fix="use a shorter name")


@dataclass(frozen=True)
class OneOf(Spec):
    """The first of ``options`` whose type the value has; ``what`` names them for messages."""

    options: tuple
    what: str = "a value"   # the options in words, e.g. "a number or a table of months"
    example: str = "..."

    def accepts(self, value) -> bool:
        return any(o.accepts(value) for o in self.options)

    def check(self, value, where):
        for option in self.options:
            if option.accepts(value):
                return option.check(value, where)
        where.fail(f"must be {self.what}", value=value, fix=f"write e.g. {self.example}")


@dataclass(frozen=True)
class Flag(Spec):
    """true or false."""

    what = "boolean"

    def accepts(self, value) -> bool:
        return isinstance(value, bool)

    def check(self, value, where):
        if not isinstance(value, bool):
            where.fail("must be true or false", value=value, fix="write true or false, without quotes")


@dataclass(frozen=True)
class PerCoordinate(Spec):
    """``item``, or for a quantity with dimensions one ``item`` per coordinate: a list (in the
    dimension's order) or a table keyed by coordinate, nested one level per dimension."""

    item: Spec
    depth: int = MAX_DIMENSIONS

    @property
    def what(self):
        return self.item.what

    def accepts(self, value) -> bool:
        return self.item.accepts(value) or isinstance(value, (list, dict))

    def check(self, value, where):
        nested = isinstance(value, dict) or (isinstance(value, list) and value
                                             and all(isinstance(v, (list, dict)) for v in value))
        if not nested and self.item.accepts(value):
            return self.item.check(value, where)
        if not isinstance(value, (list, dict)):
            return self.item.check(value, where)
        if self.depth == 0:
            where.fail(f"nests values per coordinate more than {MAX_DIMENSIONS} deep", value=value,
                       fix="give one value per coordinate of each of the quantity's dimensions")
        if len(value) > MAX_COORDINATES:
            where.fail(f"has more than {MAX_COORDINATES:,} entries", value=value, fix="give one per coordinate")
        inner = PerCoordinate(self.item, self.depth - 1)
        for key, item in (enumerate(value) if isinstance(value, list) else value.items()):
            inner.check(item, where.item(key) if isinstance(value, list) else where.at(str(key)))


# -- the model file ----------------------------------------------------------------------------------
def _distribution_keys():
    from .distributions import FORMS, PAIR, TRUNCATION_KEYS

    (PAIR_KEY,) = PAIR

    numeric = {k for forms in FORMS.values() for form in forms for k in form if k != PAIR_KEY} | TRUNCATION_KEYS
    keys = {k: PerCoordinate(Number()) for k in sorted(numeric - {"values", "weights", "components"})}
    keys["values"] = PerCoordinate(List(Number(), 1, example="[1, 2, 3]"))
    keys["weights"] = PerCoordinate(List(Number(low=0.0, example="1"), 1, example="[1, 2, 1]"))
    keys["dist"] = Text(40, example='"lognormal"')
    keys["range"] = PerCoordinate(Text(200, example='"5 to 10"'))   # a 90% interval, "LOW to HIGH"
    # a value read from a shipped dataset (grid_data.py), with a relative spread
    keys.update({k: PerCoordinate(Text(100, example='"USA"')) for k in ("dataset", "zone", "quantity")})
    keys.update({k: PerCoordinate(Number(0.0, low_open=True)) for k in ("relative_p5", "relative_p95")})
    return keys


def _distribution_table(keys: dict, example: str, components: bool = True) -> Table:
    """A table of a distribution's keys plus ``keys``, with any two percentile keys (``p5``, ``p2.5``...)
    and, unless inside a mixture, ``components`` (a mixture's distribution tables)."""
    if components:
        keys = {**keys, "components": List(_distribution_table({}, "{ dist = ... }", False), 2, 64,
                                           example='[{ dist = "lognormal", p5 = 1, p95 = 3 }, ...]')}
    return Table({**DISTRIBUTION_KEYS, **keys}, names=(PERCENTILE_KEY, PerCoordinate(Number())), max_names=2,
                 example=example)


TEXT = Text()
SHORT = Text(MAX_NAME_CHARS * 2)
UNIT = Text(100, example='"kWh"')
NAME_TEXT = Text(MAX_NAME_CHARS, example='"energy_kwh"')   # a name given as a value
DIMS = OneOf((NAME_TEXT, List(NAME_TEXT, 1, MAX_DIMENSIONS, example='["cohort"]')), "a dimension name or a list of them",
             'dims = ["cohort"]')
COORDINATE = OneOf((Number(), Text(100)), "a number or a name", '2024 or "nvidia_sxm"')
COORDINATE_KEY = Text(1000, example='"2021"')               # a coordinate label, or labels joined by commas
SOURCE = PerCoordinate(TEXT)                                # one for all, or one per coordinate
DISTRIBUTION_KEYS = _distribution_keys()
MONTH_KEY = Name(MONTH, '"2023-01"', "is not a month", "write months as YYYY-MM")
PERCENTILE_KEY = Name(re.compile(r"p\d+(\.\d+)?"), "p5", "is not a key of a distribution",
                      "use the family's own keys (see README), or two percentiles such as p5 and p95")
DISTRIBUTION = _distribution_table({"source": SOURCE, "rationale": SOURCE},
                                   example='{ dist = "pert", min = 1, mode = 2, max = 3 }')
PARAMETER = _distribution_table({"unit": UNIT, "source": SOURCE, "rationale": SOURCE, "long_name": SHORT,
                   "by_month": Table(names=(MONTH_KEY, DISTRIBUTION), max_names=12 * 600,
                                     example='"2023-01" = { dist = ..., ... }'),
                   # dimensions: dims, per-coordinate overrides, ranking each coordinate alone, and the
                   # shares and concentration of dist = "dirichlet"
                   "dims": DIMS, "coordinates": Table(names=(COORDINATE_KEY, DISTRIBUTION), max_names=MAX_COORDINATES),
                   "rank_coordinates": Flag(), "shares": PerCoordinate(Number(0.0, 1.0)),
                   "concentration": Number(0.0, example="20")},
                                example='[parameters.NAME] with dist, its numbers, unit and source')
EXPRESSION = Text(MAX_EXPRESSION_CHARS, example='"visits * queries_per_visit"')
FIXED_VALUE = PerCoordinate(OneOf((Number(), Table(names=(COORDINATE_KEY, Number()), max_names=12 * 600)),
                                  "a number or a table of months", 'pue = 1.2 or pue = { "2023-01" = 1.2 }'))
REFERENCE_YEAR = Number(FIRST_DATE.year, LAST_DATE.year, integer=True, fix="write year = 2024",
                        why=f"is not a year the calendar can hold ({FIRST_DATE.year} to {LAST_DATE.year})")

OBSERVATION = Table({
    "quantity": Text(MAX_NAME_CHARS, example='"queries"'),
    "month": Text(7, MONTH, '"2023-01"', "is not a month", 'write month = "2023-01"'),
    "likelihood": Text(20, example='"lognormal"'),
    **{k: Number() for k in ("value", "sd", "sigma", "low", "high")},
    "source": TEXT, "rationale": TEXT,
}, example='{ quantity = "queries", value = 3e9, ... }')
RECONCILE = Table({
    "paths": List(Text(MAX_NAME_CHARS, example='"energy_kwh"'), 2, 2, example='["energy_kwh", "fleet_energy_kwh"]'),
    "within_factor": Number(1.0, low_open=True, why="must be a number above 1", fix="write within_factor = 2"),
    "likelihood": Text(20, example='"lognormal"'),
    "source": TEXT, "rationale": TEXT,
})
PROFILE = Table({
    "weekday_weights": List(Number(0.0, low_open=True, why="must be seven positive numbers, Monday first"),
                            7, 7, example="[1, 1, 1, 1, 1, 0.8, 0.8]"),
    "trend_per_day": Number(-0.5, 0.5, True, True, why="must be a number between -0.5 and 0.5 (relative change "
                            "per day)", fix="write e.g. 0.01 for 1% growth a day"),
    "source": TEXT, "rationale": TEXT,
})
REGION = Table({
    "share": Number(0.0, 1.0, why="a share is a fraction in [0, 1]",
                    fix="write the region's mean share of the load, e.g. 0.3"),
    "intensity_g_per_kwh": _distribution_table({"source": TEXT, "rationale": TEXT},
                                               example='{ dist = "pert", min = 1, mode = 2, max = 3, source = "..." }'),
    "label": SHORT, "source": TEXT, "rationale": TEXT,
}, example="[regions.NAME] with share and intensity_g_per_kwh")
REGIONS = Table({
    "shares": Text(20, example='"dirichlet"'),
    "concentration": Number(0.0, low_open=True, why="a Dirichlet split needs a positive concentration",
                            fix="write concentration = 10 (larger is more certain)"),
    "source": TEXT, "rationale": TEXT,
}, names=(Name(example="texas"), REGION), max_names=MAX_REGIONS)
DERIVED = OneOf((EXPRESSION, Table({"expr": EXPRESSION, "unit": UNIT, "long_name": SHORT, "source": TEXT,
                                    "rationale": TEXT, "dims": DIMS})),
                "an expression or a table with expr", '"visits * queries_per_visit"')
AGGREGATE = Text(20, example='"sum"')
RESOLUTION = Text(20, pattern=re.compile("|".join(RESOLUTIONS)), example='"month"',
                  problem=f"must be one of {', '.join(RESOLUTIONS)}",
                  fix='write resolution = "month" (once per month), "year" (once per year, each month its '
                      'year\'s value times its days) or "day" (daily distributions)')
OUTPUT = OneOf((AGGREGATE, Table({"aggregate": AGGREGATE, "unit": UNIT, "long_name": SHORT, "description": TEXT,
                                   "label": SHORT, "by": DIMS, "total": Text(20, example='"sum"'),
                                   "resolution": RESOLUTION, "boundary": NAME_TEXT, "accounting": NAME_TEXT,
                                   "grid_basis": SHORT, "grid_vintage": TEXT})),
               '"sum", "mean" or a table with aggregate', '"sum"')
SCENARIO = Table({"description": TEXT, "source": TEXT, "status": Text(20, example='"S"'), "label": SHORT,
                  "output": NAME_TEXT},
                 names=(Name(CELL, "power_w[2027]"), FIXED_VALUE), max_names=MAX_PARAMETERS + MAX_REGIONS)
CORRELATION = Table({
    "between": List(Text(MAX_NAME_CHARS, example='"visits"'), 2, 2, example='["visits", "hgx_servers"]'),
    "rank": Number(-1.0, 1.0, True, True, why="a rank correlation lies strictly between -1 and 1",
                   fix="write e.g. rank = 0.5"),
    "source": TEXT, "rationale": TEXT,
    # a pattern over a dimension of one parameter
    "parameter": NAME_TEXT, "dim": NAME_TEXT, "pattern": Text(20, example='"ar1"'),
    "matrix": List(List(Number(), 1, MAX_COORDINATES), 1, MAX_COORDINATES, example="[[1, 0.5], [0.5, 1]]"),
    "coordinates": List(COORDINATE, 1, MAX_COORDINATES, example="[2021, 2022]"),
})
REFERENCE = Table({
    "output": Text(MAX_NAME_CHARS, example='"energy_kwh"'),
    "year": REFERENCE_YEAR,
    "month": Text(7, MONTH, '"2024-06"', "is not a month", 'write month = "2024-06"'),
    "date": Date(),
    **{k: Number() for k in ("value", "low", "high")},
    "unit": UNIT, "per": Text(20, example='"year"'),
    "label": TEXT, "source": TEXT, "scope": TEXT, "rationale": TEXT, "boundary": NAME_TEXT, "accounting": NAME_TEXT,
})

MODEL_FILE = Table({
    "model": Table({"name": SHORT, "title": TEXT, "description": TEXT,
                    "headline": NAME_TEXT, "headline_why": TEXT, "headline_figure": TEXT}),
    "period": Table({"start": Date(text=True), "end": Date(text=True), "resolution": RESOLUTION}),
    "profile": PROFILE,
    "dimensions": Table(names=(Name(), List(COORDINATE, 1, MAX_COORDINATES, example="[2021, 2022, 2023]")),
                        max_names=64),
    "parameters": Table(names=(Name(), PARAMETER), max_names=MAX_PARAMETERS),
    "regions": REGIONS,
    "derived": Table(names=(Name(), DERIVED), max_names=MAX_DERIVED),
    "outputs": Table(names=(Name(), OUTPUT), max_names=MAX_OUTPUTS),
    "scenarios": Table(names=(Name(), SCENARIO), max_names=MAX_SCENARIOS),
    "correlations": List(CORRELATION, max_items=MAX_ENTRIES,
                         fix='write [[correlations]] with between = ["a", "b"], rank = 0.5, source = "..."'),
    "observations": List(OBSERVATION, max_items=MAX_ENTRIES, fix="write [[observations]]"),
    "reconcile": RECONCILE,
    "references": List(REFERENCE, max_items=MAX_ENTRIES,
                       fix="write [[references]] with output, year, value, unit, per, label, source"),
}, unknown="unknown top-level table")


def check_document(doc, path=None):
    """Check a parsed model document's shape against :data:`MODEL_FILE`.

    Parameters
    ----------
    doc : dict
        The document as ``tomllib`` returns it (or a dict in the same form).
    path : str or Path, optional
        The file, named in messages.

    Raises
    ------
    ModelError
        At the first key or value that is unknown, of the wrong type, out of bounds or too large.
    """
    if not isinstance(doc, dict):
        Location(path).fail("the model must be a TOML document (a table of tables)", value=doc)
    MODEL_FILE.check(doc, Location(path))
