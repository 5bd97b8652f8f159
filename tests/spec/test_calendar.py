"""The period's days and months, and the daily profile that spreads a month's total over its days."""
from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pytest

from simulate.spec.calendar import Period, Profile, days_in_month

WEEKLY = (1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.85)


def test_period_days_and_months():
    period = Period(dt.date(2023, 12, 30), dt.date(2024, 3, 2))
    assert period.n_days == 2 + 31 + 29 + 2
    assert period.months == ["2023-12", "2024-01", "2024-02", "2024-03"]
    assert period.dates[0] == np.datetime64("2023-12-30") and period.dates[-1] == np.datetime64("2024-03-02")
    np.testing.assert_array_equal(np.bincount(period.month_of_day), [2, 31, 29, 2])
    np.testing.assert_array_equal(np.unique(days_in_month(period)), [29.0, 31.0])


def test_one_day_period():
    period = Period(dt.date(2023, 1, 1), dt.date(2023, 1, 1))
    assert period.n_days == 1 and period.months == ["2023-01"]
    assert Profile().day_share(period) == pytest.approx([1 / 31])


@pytest.mark.parametrize("profile", [Profile(), Profile(WEEKLY, 0.0), Profile(WEEKLY, 0.023),
                                     Profile((1, 2, 3, 4, 5, 6, 7), -0.01)],
                         ids=["flat", "weekly", "weekly+trend", "ramp+decline"])
def test_full_months_sum_to_one(profile):
    period = Period(dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    shares = profile.day_share(period)
    per_month = np.bincount(period.month_of_day, weights=shares)
    np.testing.assert_allclose(per_month, 1.0, rtol=0, atol=1e-14)
    assert (shares > 0).all()


def oracle_share(profile, start, day):
    """A day's share of its calendar month, written out from the Profile docstring."""
    n = calendar.monthrange(day.year, day.month)[1]
    month = [dt.date(day.year, day.month, k) for k in range(1, n + 1)]

    def weight(d):
        return profile.weekday_weights[d.weekday()] * (1 + profile.trend_per_day) ** (d - start).days

    return weight(day) / sum(weight(d) for d in month)


def test_partial_months_get_their_share_of_the_total():
    profile = Profile(WEEKLY, 0.02)
    start, end = dt.date(2023, 1, 15), dt.date(2023, 3, 10)
    period = Period(start, end)
    shares = profile.day_share(period)
    expected = [oracle_share(profile, start, start + dt.timedelta(days=i)) for i in range(period.n_days)]
    np.testing.assert_allclose(shares, expected, rtol=1e-12)
    per_month = np.bincount(period.month_of_day, weights=shares)
    assert per_month[1] == pytest.approx(1.0, abs=1e-14)      # February is whole
    assert 0.5 < per_month[0] < 1 and 0 < per_month[2] < 0.5  # 17 of 31 and 10 of 31 days, growing
    # the trend makes later days heavier: mid-January to month end carries more than 17/31
    assert per_month[0] > 17 / 31


def test_flat_partial_month_is_its_fraction_of_days():
    period = Period(dt.date(2023, 1, 15), dt.date(2023, 2, 3))
    per_month = np.bincount(period.month_of_day, weights=Profile().day_share(period))
    np.testing.assert_allclose(per_month, [17 / 31, 3 / 28], rtol=1e-14)


def test_weekday_weights_shape_the_week():
    period = Period(dt.date(2023, 1, 2), dt.date(2023, 1, 8))  # Monday to Sunday
    shares = Profile(WEEKLY, 0.0).day_share(period)
    np.testing.assert_allclose(shares / shares[0], WEEKLY, rtol=1e-14)
