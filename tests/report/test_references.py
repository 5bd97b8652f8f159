"""[[references]]: one test per class of bad entry, the unit arithmetic, and where the figures land in
the fan chart and in summary.md of the shipped models' reports."""
from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pytest

import simulate
from simulate.cli import main
from simulate.plots.fan import fan_chart
from simulate.report import compute, references, render, sections, write, yearly
from simulate.units import unit_factor
from tests.helpers import ROOT, load_text, write_model

pytestmark = pytest.mark.slow

BASE = """\
[period]
start = 2023-01-01
end = 2025-02-28

[parameters.power_w]
dist = "uniform"
min = 1e9
max = 2e9
unit = "W"
source = "test"

[derived]
energy_kwh = "power_w * 24 / 1000"
wh_per_query = { expr = "power_w / 1e9", unit = "Wh/query" }

[outputs]
energy_kwh = "sum"
wh_per_query = "mean"
"""

GOOD = """
[[references]]
output = "energy_kwh"
year = 2024
value = 415
unit = "TWh"
per = "year"
label = "IEA 2024"
source = "IEA"
scope = "all data centres, not only AI"
"""


def ref(**changes):
    """GOOD with keys replaced (None drops a key)."""
    lines = {k: v for k, v in (line.split(" = ", 1) for line in GOOD.strip().splitlines()[1:])}
    for key, value in changes.items():
        if value is None:
            lines.pop(key, None)
        else:
            lines[key] = value
    return BASE + "\n[[references]]\n" + "\n".join(f"{k} = {v}" for k, v in lines.items()) + "\n"


# (id, file text, fragments of the one message: field, value, problem, fix)
BAD = [
    ("not_a_list", BASE + "\n[references]\noutput = \"energy_kwh\"\n",
     ["references = {'output': 'energy_kwh'}", "must be a list of tables", "Fix: write [[references]]"]),
    ("unknown_key", ref(colour='"red"'), ["references[0].colour", "unknown key", "Fix: use"]),
    ("not_an_output", ref(output='"power_w"'),
     ["references[0].output = 'power_w'", "is not an output of this model", "Fix: use one of ['energy_kwh'"]),
    ("no_when", ref(year=None), ["references[0]", "give exactly one of year, month or date", 'Fix: write year = 2024']),
    ("two_whens", ref(month='"2024-06"'), ["references[0] = ['year', 'month']", "give exactly one of year, month or date"]),
    ("bad_year", ref(year='"2024"'), ["references[0].year = '2024'", "is not a year", "Fix: write year = 2024"]),
    ("bad_month", ref(year=None, month='"2024-13"'), ["references[0].month = '2024-13'", "is not a month"]),
    ("bad_date", ref(year=None, date='"June"'), ["references[0].date = 'June'", "is not a date"]),
    ("value_and_range", ref(low="300", high="500"),
     ["references[0].value = 415", "give either value or both low and high", "Fix: write value = 415"]),
    ("half_range", ref(value=None, low="300"), ["references[0].high", "is missing", "Fix: add high = ..."]),
    ("low_not_below_high", ref(value=None, low="500", high="300"),
     ["references[0].low = 500.0", "low must be below high", "Fix: swap them"]),
    ("value_not_a_number", ref(value='"415"'), ["references[0].value = '415'", "must be a finite number"]),
    ("missing_unit", ref(unit=None), ["references[0].unit", "the unit is missing", 'Fix: write unit = "kWh"']),
    ("unit_of_another_dimension", ref(unit='"t"'),
     ["references[0].unit = 't'", "cannot be converted to the output's unit kWh", "Fix: use kWh or a multiple",
      "TWh"]),
    ("missing_per_on_a_total", ref(per=None),
     ["references[0].per", "energy_kwh is a total per day and month", 'Fix: write per = "year", "month" or "day"']),
    ("bad_per", ref(per='"week"'), ["references[0].per = 'week'", 'Fix: write per = "year"']),
    ("per_on_a_mean", ref(output='"wh_per_query"', unit='"Wh/query"'),
     ["references[0].per = 'year'", "is a mean", "take no per", "Fix: drop per"]),
    ("missing_label", ref(label=None), ["references[0].label", "the label is missing", 'Fix: add label = "..."']),
    ("missing_source", ref(source=None), ["references[0].source", "the source is missing"]),
    ("scope_not_text", ref(scope="3"), ["references[0].scope = 3", "must be a string"]),
]


@pytest.mark.parametrize("text,fragments", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_reference_is_one_clear_model_error(tmp_path, capsys, text, fragments):
    path = write_model(tmp_path, text, name="bad-refs.toml")
    with pytest.raises(simulate.ModelError) as info:
        simulate.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


# -- arithmetic -------------------------------------------------------------------------------------------
def test_unit_factors():
    assert unit_factor("TWh", "kWh") == 1e9
    assert unit_factor("MWh", "kWh") == 1e3
    assert unit_factor("J", "Wh") * 3600 == pytest.approx(1.0, rel=1e-15)
    assert unit_factor("MJ", "Wh") == pytest.approx(1e6 / 3600, rel=1e-15)
    assert unit_factor("Wh/query", "kWh/query") == 1e-3
    assert unit_factor("Mt", "kgCO2e") == 1e9
    assert unit_factor("mL", "L") == 1e-3
    assert unit_factor("Wh/query", "Wh/image") is None
    assert unit_factor("TWh", "kg") is None


def test_annual_total_becomes_daily_and_monthly_averages(tmp_path):
    model = load_text(tmp_path, BASE + GOOD + GOOD.replace("2024", "2023").replace("IEA 2024", "IEA 2023"))
    leap, plain = model.references
    assert leap.middle == dt.date(2024, 7, 1) and plain.middle == dt.date(2023, 7, 2)
    assert leap.per_day() == (415e12 / 1e3 / 366,)     # 415 TWh = 4.15e11 kWh over the 366 days of 2024
    assert plain.per_day() == (415e12 / 1e3 / 365,)
    assert leap.per_month() == (415e9 / 12,)
    assert leap.total() == (415e9,)


def test_range_per_month_and_per_day(tmp_path):
    text = (ref(value=None, low="325", high="580", per='"month"', year=None, month='"2024-02"', unit='"GWh"')
            + ref(value="2", per='"day"', year=None, date="2023-04-10", unit='"GWh"').split(BASE)[1])
    month_ref, day_ref = load_text(tmp_path, text).references
    assert month_ref.per_day() == (325e6 / 29, 580e6 / 29)   # February 2024 has 29 days
    assert month_ref.per_month() == (325e6, 580e6)
    assert day_ref.per_day() == (2e6,)
    assert day_ref.per_month() == (2e6 * 30,)                   # April has 30 days


# -- the figure -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    text = BASE + GOOD + """
[[references]]
output = "energy_kwh"
year = 2025
low = 325
high = 580
unit = "TWh"
per = "year"
label = "LBNL range"
source = "LBNL"
scope = "US data centres only"
"""
    model = load_text(tmp_path_factory.mktemp("toy"), text)
    return model, model.run(samples=2000, seed=3, keep=2000)


def _line(ax, label):
    found = [line for line in ax.get_lines() if line.get_label() == label]
    assert len(found) == 1, [line.get_label() for line in ax.get_lines()]
    return found[0]


def test_fan_chart_draws_references_at_their_converted_values(toy):
    model, ds = toy
    assert yearly.is_long(ds)     # 26 months: plotted per month
    fig, ax = fan_chart(ds, "energy_kwh", model.references, per="month")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    iea = next(t for t in labels if t.startswith("IEA 2024"))
    assert iea == "IEA 2024: 34.6 TWh per month (published as 415 TWh per year; annual total / 12)"
    x, y = _line(ax, iea).get_data()
    assert y[0] == pytest.approx(415 / 12, rel=1e-12)        # TWh per month, on an axis in TWh
    assert np.datetime64(x[0], "D") == np.datetime64("2024-07-01")
    lbnl = next(t for t in labels if t.startswith("LBNL range"))
    bars = [c for c in ax.collections if c.get_label() == lbnl]
    segments = bars[0].get_segments()
    assert np.allclose(segments[0][:, 1], [325 / 12, 580 / 12], rtol=1e-12)
    assert "TWh" in ax.get_ylabel()
    plt.close(fig)

    fig, ax = fan_chart(ds, "energy_kwh", model.references, per="year")   # annual rates: as published
    label = next(t.get_text() for t in ax.get_legend().get_texts() if t.get_text().startswith("IEA 2024"))
    assert label == "IEA 2024: 415 TWh per year"
    assert _line(ax, label).get_data()[1][0] == pytest.approx(415, rel=1e-12)
    plt.close(fig)

    fig, ax = fan_chart(ds, "energy_kwh", model.references, per="day")
    label = next(t.get_text() for t in ax.get_legend().get_texts() if t.get_text().startswith("IEA 2024"))
    assert "annual total / days in the year)" in label
    factor = 1e6 if "GWh" in ax.get_ylabel() else 1e9
    assert _line(ax, label).get_data()[1][0] == pytest.approx(415e9 / 366 / factor, rel=1e-12)
    plt.close(fig)


def test_reference_percentile_is_read_in_yearly_totals(toy):
    model, ds = toy
    rep = compute.Report(model, ds, "energy_kwh", ["energy_kwh"], [], [], {})
    rows = {r["reference"].label: r for r in references.reference_rows(rep)}
    months = yearly.years(ds)[2024]
    totals = ds["energy_kwh_monthly_samples"].values[:, months].sum(axis=1)
    assert rows["IEA 2024"]["numbers"] == (415e9,)
    assert rows["IEA 2024"]["percentiles"][0] == 100.0 * np.mean(totals <= 415e9)
    assert rows["LBNL range"]["band"] is None           # 2025 is only two months of the period


# -- the shipped models' reports ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fleet_report():
    path = ROOT / "priors" / "ai-fleet-2023-2028.toml"
    rep = write.prepare(simulate.load(path), 256, 2)
    doc = sections.blocks(rep, "simulate report ...")
    return rep, render.to_markdown(doc)


def test_fleet_report_draws_the_published_projections(fleet_report):
    rep, _ = fleet_report
    title, fig = rep.figures["fan_energy_kwh"]
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    # annual totals drawn as they are, on an axis of annual rates (TWh per year)
    drawn = {"IEA: all data centres, world, 2024": 415, "LBNL: all US data centres, 2023": 176,
             "OECD/IEA via MIT News: all data centres, world, 2026 (projection)": 1050}
    for label, twh in drawn.items():
        text = next(t for t in texts if t.startswith(label + ":"))
        assert text == f"{label}: {labels_fmt(twh)} TWh per year"
        assert _line(ax, text).get_data()[1][0] == pytest.approx(twh, rel=1e-12)
    lbnl = next(t for t in texts if t.startswith("LBNL: all US data centres, 2028"))
    assert np.allclose([c for c in ax.collections if c.get_label() == lbnl][0].get_segments()[0][:, 1],
                       [325, 580], rtol=1e-12)
    # figures dated outside 2023-2028 are named, not drawn: the time axis stays on the period
    for label in ("IEA: all data centres, world, 2030 (projection)", "OECD/IEA via MIT News: all data centres, world, 2022"):
        assert any(t.startswith(f"not drawn, dated outside the period: {label}") for t in texts)
    left, right = ax.get_xlim()
    assert np.datetime64("2023-01-01") <= np.datetime64(mdates.num2date(left).date()) <= np.datetime64("2023-01-31")
    assert np.datetime64(mdates.num2date(right).date()) <= np.datetime64("2029-01-15")
    assert "per year, at each month's rate" in ax.get_ylabel()
    for _, f in rep.figures.values():
        plt.close(f)


def labels_fmt(value):
    from simulate.plots.labels import format_number

    return format_number(value)


def test_fleet_summary_lists_references_with_scope_and_yearly_rows(fleet_report):
    rep, md = fleet_report
    energy = rep.model.outputs["energy_kwh"].long_name
    assert "## Yearly results" in md and f"| 2028 | {energy} (total over the year) |" in md
    assert "| 2025-06 |" not in md                       # no 72-month table
    assert "all data centres worldwide, not only AI" in md
    row = next(line for line in md.splitlines() if line.startswith("| LBNL: all US data centres, 2028"))
    assert "325-580 TWh per year" in row and "year 2028 (total): 325 to 580 TWh" in row
    assert "all data centres in the United States only, not only AI" in row


def test_fleet_sensitivity_is_for_the_headline_year(fleet_report):
    """The fleet headlines 2028: its Sobol and tornado analyse December 2028, not January 2023, and
    the 2024-2028 shipments (zero in January 2023) drive it."""
    rep, md = fleet_report
    headline = yearly.headline_year(rep.ds)
    assert headline == 2028 and compute.headline_months(rep.ds) == yearly.years(rep.ds)[2028]
    analysed = rep.ds["month"].values[rep.focus].astype("datetime64[M]").astype(str)
    assert analysed == "2028-12" == rep.sensitivity["sobol"].attrs["month"] == rep.sensitivity["tornado"].attrs["month"]
    assert "December 2028 is the last month of the year the report headlines" in md
    members = [str(m) for m in rep.sensitivity["sobol"]["members"].values]
    assert any("shipped[nvidia_sxm,2028]" in m for m in members)
    assert "does not depend on" not in md


@pytest.mark.parametrize("name,figure,label", [
    ("chatgpt-2025", "per_item", "Altman: average ChatGPT query"),
    ("generation-media", "per_item", "MIT TR: 5-second CogVideoX video"),
])
def test_other_shipped_reports_show_their_references(name, figure, label):
    rep = write.prepare(simulate.load(ROOT / "priors" / f"{name}.toml"), 256, 2)
    md = render.to_markdown(sections.blocks(rep, "simulate report ..."))
    ax = rep.figures[figure][1].axes[0]
    assert any(t.get_text().startswith(label) for t in ax.get_legend().get_texts())
    assert f"| {label} |" in md
    reference = next(r for r in rep.model.references if r.label == label)
    assert reference.scope in md
    for _, f in rep.figures.values():
        plt.close(f)
