"""The quantities a model is made of: dimensions, parameters, shares, derived quantities,
outputs and scenarios, as the reader validates them (:class:`~simulate.spec.model.Model` holds them)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .distributions import Distribution

# Calendar quantities every model can use in expressions, per day (at month resolution, per month:
# see simulate.spec.calendar.month_values).
BUILTIN_NAMES = {
    "day_share": "fraction of its month's total that falls on the day (daily profile; sums to 1 over a month)",
    "days_in_month": "number of days in the day's calendar month",
    "days_since_start": "days since the first day of the period (0 on the first day)",
    "decimal_year": "the day's date as a decimal year, e.g. 2024.5 in early July 2024",
}
DAILY_BUILTINS = ("day_share", "days_since_start", "decimal_year")   # those that change within a month


@dataclass(frozen=True)
class Dimension:
    """A named axis of a model: cohorts, accelerator classes, query types, regions."""

    name: str
    coords: tuple       # all numbers (usable as values in expressions) or all strings
    titles: tuple = ()  # optional display name of each coordinate ("Virginia (East US)")

    @property
    def numeric(self) -> bool:
        return all(isinstance(c, (int, float)) for c in self.coords)

    @property
    def labels(self) -> tuple:
        """Each coordinate as written in names and tables: ``2021``, ``tpu``, ``1.5``."""
        return tuple(coordinate_label(c) for c in self.coords)

    def index(self, key) -> int | None:
        """The position of coordinate ``key`` (a value or its label), or None."""
        for i, (c, label) in enumerate(zip(self.coords, self.labels)):
            if (key == c and type(key) is not bool) or str(key) == label:
                return i
        return None


def coordinate_label(value) -> str:
    """A coordinate as a label: integers and integral floats without a decimal point."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cell_name(name: str, labels) -> str:
    """The flat name of one coordinate of a dimensioned quantity: ``shipped[2021]``, ``power_w[tpu,2024]``."""
    return f"{name}[{','.join(labels)}]" if labels else name


@dataclass(frozen=True)
class Parameter:
    name: str
    unit: str
    source: str
    rationale: str
    long_name: str
    dist: Distribution | None          # the distribution for every month not in by_month (None with dims)
    by_month: dict = field(default_factory=dict)  # "YYYY-MM" -> Distribution
    dims: tuple = ()                   # dimension names; then ``cells`` holds one scalar Parameter per coordinate
    cells: tuple = ()                  # row-major over ``dims``, each named with :func:`cell_name`
    rank_coordinates: bool = False     # sensitivity ranks each coordinate alone (else the parameter as one)

    def for_month(self, month: str) -> Distribution:
        return self.by_month.get(month, self.dist)

    @property
    def varies_by_month(self) -> bool:
        return bool(self.by_month) or any(c.varies_by_month for c in self.cells)

    def describe(self) -> str:
        if self.cells:
            return "; ".join(f"{c.name[len(self.name):]} {c.describe()}" for c in self.cells)
        if not self.by_month:
            return self.dist.describe()
        parts = [f"{m}: {d.describe()}" for m, d in self.by_month.items()]
        if self.dist is not None:
            parts.append(f"other months: {self.dist.describe()}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Shares:
    """Shares over one dimension that sum to one: Dirichlet with mean ``shares`` and the given
    ``concentration`` (alpha_k = concentration x share_k), or fixed when ``concentration`` is 0."""

    name: str
    dims: tuple                 # one dimension
    names: tuple                # the flat name of each coordinate's share
    shares: tuple               # mean (or fixed) share of each coordinate
    concentration: float
    source: str
    rationale: str = ""
    long_name: str = ""
    unit: str = "1"

    @property
    def mode(self) -> str:
        return "dirichlet" if self.concentration > 0 else "fixed"

    def describe(self) -> str:
        split = ", ".join(f"{n} {s:g}" for n, s in zip(self.names, self.shares))
        how = f"Dirichlet, concentration {self.concentration:g}" if self.mode == "dirichlet" else "fixed"
        return f"{how}: {split}"


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
    dims: tuple = ()    # inferred from what the expression uses (and what it reduces)


@dataclass(frozen=True)
class Output:
    name: str
    aggregate: str      # "sum" or "mean" over the days of a month, or "once": a one-off total
    unit: str
    long_name: str
    by: tuple = ()      # dimensions kept: NAME_by_DIM_monthly(quantile, month, DIM)
    total: str = ""     # with ``by``: how NAME_* sums the coordinates ("sum", "mean"), or "" for none
    of: str = ""        # in a flat model: the output this coordinate belongs to
    coords: tuple = ()  # ... and which coordinate (labels, one per ``by`` dimension)
    label: str = ""     # a short name for legends and table rows where the long name does not fit
    resolution: str = ""  # "day" or "month": the time step it is evaluated at ("": the period's)
    boundary: str = ""  # energy: "accelerator", "it" or "facility" (BOUNDARIES); "" when not declared
    accounting: str = ""    # CO2: "location-based" or "market-based" (GHG Protocol Scope 2)
    grid_basis: str = ""    # CO2: the grid data's mix and factors, one of GRID_BASES
    grid_vintage: str = ""  # CO2: the grid data's dataset and year, as far as known

    @property
    def short(self) -> str:
        """The label, or the long name when the file gives none."""
        return self.label or self.long_name

    def basis_attrs(self) -> dict:
        """The declared boundary and carbon basis, as Dataset attributes (only those declared)."""
        return {k: v for k, v in (("boundary", self.boundary), ("accounting", self.accounting),
                                  ("grid_basis", self.grid_basis), ("grid_vintage", self.grid_vintage)) if v}


# Where an energy figure is measured: the accelerators alone (busy chips), the IT equipment (whole
# servers, host and idle machines included), or the facility (IT x PUE: cooling, power distribution).
BOUNDARIES = {"accelerator": "accelerators only", "it": "IT equipment (servers, including host and idle machines)",
              "facility": "data-centre facility (IT x PUE)"}
ACCOUNTING = ("location-based", "market-based")      # GHG Protocol Scope 2 Guidance (2015)
GRID_BASES = ("generation, direct", "generation, life-cycle", "consumption, direct", "consumption, life-cycle",
              "contractual")                          # market-based: contracts and residual mix


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    values: dict        # parameter -> number, or {"YYYY-MM": number}
    source: str = ""
    status: str = ""    # how sure the published values are: S, S2, I or U (research tags), or ""
    label: str = ""     # a short name for legends ("Ludvigsen's top figure"); default the description
    output: str = ""    # the output on the published figure's own boundary (e.g. IT energy when it has no PUE)

    @property
    def short(self) -> str:
        """The label, or the scenario's name when the file gives none."""
        return self.label or self.name
