"""The period a model covers, its time resolution, and the daily traffic profile that spreads monthly
quantities over days."""
from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np


RESOLUTIONS = ("day", "month", "year")   # the time steps expressions can be evaluated at


@dataclass(frozen=True)
class Period:
    """Days from ``start`` to ``end`` inclusive, and the time step expressions are evaluated at.

    ``resolution = "day"`` evaluates every expression once per day; ``"month"`` once per month, with
    the built-in names at their month values (:func:`month_values`) and each month weighted by its
    days in the period: a month's total is its value times those days; ``"year"`` once per calendar
    year, with the built-ins at their year values (:func:`year_values`): each month of the year
    takes the year's value times its own days, so a year's total is its value times its days.
    """

    start: dt.date
    end: dt.date
    resolution: str = "day"

    @property
    def dates(self) -> np.ndarray:
        """Every day of the period as ``datetime64[D]``."""
        return np.arange(np.datetime64(self.start, "D"), np.datetime64(self.end, "D") + 1)

    @property
    def months(self) -> list[str]:
        """The calendar months the period touches, as ``YYYY-MM`` strings, in order."""
        months = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    @property
    def month_of_day(self) -> np.ndarray:
        """For each day, the index of its month in :attr:`months` (int64)."""
        dates = self.dates.astype("datetime64[M]")
        first = np.datetime64(self.start, "M")
        return (dates - first).astype(np.int64)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Profile:
    """How a monthly quantity spreads over the days of its month.

    A day's weight is ``weekday_weights[weekday] * (1 + trend_per_day) ** days_since_period_start``;
    ``day_share`` is that weight over the sum of the weights of every day of its calendar month,
    so the shares of a full month sum to one and a partial month gets its part of the total.
    """

    weekday_weights: tuple[float, ...] = (1.0,) * 7  # Monday first
    trend_per_day: float = 0.0
    source: str = "flat: every day of a month carries the same share"

    def day_share(self, period: Period) -> np.ndarray:
        """The fraction of its month's total that falls on each day of the period (float64)."""
        shares = np.empty(period.n_days)
        month_starts = {}
        for i, day in enumerate(period.dates.astype(object)):
            key = (day.year, day.month)
            if key not in month_starts:
                month_starts[key] = self._month_weights(period, day.year, day.month)
            weights, first_day = month_starts[key]
            shares[i] = weights[day.day - 1] / weights.sum()
        return shares

    def _month_weights(self, period: Period, year: int, month: int):
        n = _stdlib_calendar.monthrange(year, month)[1]
        days = [dt.date(year, month, d) for d in range(1, n + 1)]
        offsets = np.array([(d - period.start).days for d in days], dtype=float)
        weekday = np.array([self.weekday_weights[d.weekday()] for d in days])
        return weekday * (1.0 + self.trend_per_day) ** offsets, days[0]


def days_in_month(period: Period) -> np.ndarray:
    """For each day of the period, the number of days in its calendar month (float64)."""
    return np.array([_stdlib_calendar.monthrange(d.year, d.month)[1]
                     for d in period.dates.astype(object)], dtype=float)


def decimal_year(period: Period) -> np.ndarray:
    """For each day, its year plus the fraction of the year elapsed at the day's start (float64)."""
    out = []
    for d in period.dates.astype(object):
        n_days = 366 if _stdlib_calendar.isleap(d.year) else 365
        out.append(d.year + (d.timetuple().tm_yday - 1) / n_days)
    return np.array(out, dtype=float)


def month_values(period: Period, day_share: np.ndarray) -> dict[str, np.ndarray]:
    """Each built-in name at month resolution: one value per month of the period (float64).

    ``decimal_year`` and ``days_since_start`` are read at the middle of the month's days in the
    period (a day's own value is read at its start); ``day_share`` is the mean share of those days,
    so that value times the days is the month's part of the total; ``days_in_month`` is the
    calendar month's length, as on each of its days. ``day_share`` is the daily profile
    (:meth:`Profile.day_share`).
    """
    month_of_day = period.month_of_day
    n_months = len(period.months)
    days = np.bincount(month_of_day, minlength=n_months).astype(float)
    first = np.searchsorted(month_of_day, np.arange(n_months))      # index of each month's first day
    middle = first + days / 2.0                                       # days since the start, mid-month
    starts = period.dates[first].astype(object)
    year_days = np.array([366.0 if _stdlib_calendar.isleap(d.year) else 365.0 for d in starts])
    day_of_year = np.array([d.timetuple().tm_yday - 1 for d in starts], dtype=float)
    return {"day_share": np.bincount(month_of_day, weights=day_share, minlength=n_months) / days,
            "days_in_month": np.array([_stdlib_calendar.monthrange(d.year, d.month)[1] for d in starts], dtype=float),
            "days_since_start": middle,
            "decimal_year": np.array([d.year for d in starts]) + (day_of_year + days / 2.0) / year_days}


def year_values(period: Period, day_share: np.ndarray) -> dict[str, np.ndarray]:
    """Each built-in name at year resolution: for each month of the period, its year's value (float64).

    A year is its days in the period. ``decimal_year`` and ``days_since_start`` are read at the
    middle of those days (a day's own value is read at its start); ``day_share`` is their mean
    share, so that value times the year's days is the year's part of the monthly totals;
    ``days_in_month`` is the mean length of the year's calendar months in the period, so a monthly
    quantity over ``days_in_month`` summed over a year of whole months is its yearly total, exactly.
    """
    month_of_day = period.month_of_day
    months = period.months
    years = np.array([int(m[:4]) for m in months])
    year_of_day = years[month_of_day]
    first_days = period.dates[np.searchsorted(month_of_day, np.arange(len(months)))].astype(object)
    lengths = np.array([_stdlib_calendar.monthrange(d.year, d.month)[1] for d in first_days], dtype=float)
    values = {name: np.empty(len(months)) for name in ("day_share", "days_in_month", "days_since_start",
                                                        "decimal_year")}
    for year in np.unique(years):
        in_year = np.flatnonzero(year_of_day == year)
        first, days = in_year[0], float(len(in_year))
        start = period.dates[first].astype(object)
        year_days = 366.0 if _stdlib_calendar.isleap(int(year)) else 365.0
        of_year = years == year
        values["day_share"][of_year] = day_share[in_year].mean()
        values["days_in_month"][of_year] = lengths[of_year].mean()
        values["days_since_start"][of_year] = first + days / 2.0
        values["decimal_year"][of_year] = year + (start.timetuple().tm_yday - 1 + days / 2.0) / year_days
    return values
