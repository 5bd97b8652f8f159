"""What a reader meets: the headline's numbers, human names in every figure, one unit per axis and
legend, and published figures compared on the right window (a daily figure on a one-day model)."""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text

import simulate
from simulate.plots.labels import format_number, percentile_of, unit_for_series
from simulate.report import compute, headline, references, render, sections, write, yearly
from tests.helpers import PRIORS, load_text

pytestmark = pytest.mark.slow
MODELS = ("chatgpt-2023-01", "chatgpt-2025", "ai-fleet-2023-2028", "generation-media")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
UNIT_OF = {u: "energy" for u in ("J", "kJ", "MJ", "GJ", "Wh", "kWh", "MWh", "GWh", "TWh")}
UNIT_OF.update({u: "mass" for u in ("g", "kg", "t", "kt", "Mt")})
UNIT_OF.update({u: "volume" for u in ("mL", "L", "m³")})
NUMBER_UNIT = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?\s(" + "|".join(sorted(UNIT_OF, key=len, reverse=True))
                         + r")(?![\w³])")


@pytest.fixture(scope="module", params=MODELS)
def prepared(request):
    rep = write.prepare(simulate.load(PRIORS / f"{request.param}.toml"), 512, 3)
    yield request.param, rep
    for _, fig in rep.figures.values():
        plt.close(fig)


def _texts(artist):
    return [t.get_text() for t in artist.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_no_internal_names_in_figures(prepared):
    """Figures speak in long names and labels: no snake_case name in any text of any figure."""
    name, rep = prepared
    for stem, (title, fig) in rep.figures.items():
        found = [t for t in _texts(fig) + [title] if SNAKE.search(t)]
        assert found == [], f"{name}/{stem}: {found}"


def test_one_unit_per_dimension_in_each_axes(prepared):
    """Within one axes (its labels, annotations and legend) every number is in one unit per kind
    (energy, mass, volume); the unit a figure was published in is named only as "(published as ...)"."""
    name, rep = prepared
    for stem, (_, fig) in rep.figures.items():
        for ax in fig.axes:
            seen = {}
            for text in _texts(ax):
                text = re.sub(r"\(published as [^)]*\)", "", text)
                for unit in NUMBER_UNIT.findall(text):
                    seen.setdefault(UNIT_OF[unit], set()).add(unit)
            mixed = {k: v for k, v in seen.items() if len(v) > 1}
            assert mixed == {}, f"{name}/{stem}: {mixed}"


def test_headline_numbers_equal_the_dataset(prepared):
    """The sentence to quote holds the Dataset's quantiles of the headline output (the yearly totals of
    the kept draws for a long period), with the units it names."""
    name, rep = prepared
    ds, out = rep.ds, rep.model.outputs[rep.headline]
    assert rep.headline == rep.model.headline
    if yearly.is_long(ds):
        months = yearly.years(ds)[2028]
        draws = ds[f"{rep.headline}_monthly_samples"].values[:, months].sum(axis=1)
        expected = np.quantile(draws, [0.05, 0.5, 0.95])
    else:
        expected = ds[f"{rep.headline}_monthly"].sel(quantile=[0.05, 0.5, 0.95]).values[:, 0]
    assert rep.headline_values == pytest.approx(tuple(expected), rel=1e-12)
    factor, unit = unit_for_series([expected[2]], out.unit)
    lo, mid, hi = (format_number(v / factor) for v in expected)
    md = render.to_markdown(sections.blocks(rep, "simulate report ..."))
    first = md.split("\n")[2]        # the headline box opens the report, under its title
    assert first.startswith("> **") and f": {mid} {unit} (90% interval: {lo} to {hi} {unit})." in first
    assert out.long_name[1:] in first and first[4] == out.long_name[0].upper()


def test_headline_figure_is_placed_on_its_own_boundary():
    """ChatGPT January 2023: Ludvigsen's 23.4 GWh has no PUE, so it is placed among our IT electricity
    draws, not the facility's."""
    rep = write.prepare(simulate.load(PRIORS / "chatgpt-2023-01.toml"), 4096, 1)
    it = rep.ds["it_energy_kwh_monthly_samples"].values[:, 0]
    p = percentile_of(it, 23_364_000)
    sentence = headline.figure_sentence(rep)
    assert sentence.startswith("Ludvigsen (2023), top of his range: 23.4 GWh for January 2023, compared on its own "
                               "boundary (IT electricity, per-query path)")
    assert f"at P{p:.1f} of our draws" in sentence
    facility = percentile_of(rep.ds["energy_kwh_monthly_samples"].values[:, 0], 23_364_000)
    assert facility < p                  # on the facility boundary it would look less extreme
    checks = headline.cross_checks(rep)
    assert checks[0].startswith("Electricity, fleet path: ") and "reconciled (posterior)" in checks[-1]
    for _, fig in rep.figures.values():
        plt.close(fig)


ONE_DAY = """
[period]
start = 2023-01-15
end = 2023-01-15

[parameters.co2_kg]
dist = "lognormal"
median = 24
gsd = 1.3
unit = "kg"
source = "test"

[outputs]
co2_kg = "sum"

[[references]]
output = "co2_kg"
date = 2023-01-15
value = 23.04
unit = "kg"
per = "day"
label = "Ludvigsen Dec 2022: 23.04 kg a day"
source = "test"

[[references]]
output = "co2_kg"
month = "2023-01"
value = 744
unit = "kg"
per = "month"
label = "a month at 24 kg a day"
source = "test"
"""


def test_one_day_reference_sits_at_its_true_percentile(tmp_path):
    """On a one-day model a per-day figure is compared with that day (not x 31 days of January), and a
    per-month figure with its average day; scipy's lognormal CDF is the oracle."""
    from scipy import stats

    model = load_text(tmp_path, ONE_DAY)
    ds = model.run(samples=20_000, seed=5, keep=20_000)
    rep = compute.Report(model, ds, "co2_kg", ["co2_kg"], [], [], {})
    rows = {r["reference"].label: r for r in references.reference_rows(rep)}
    draws = ds["co2_kg_monthly_samples"].values[:, 0]
    day = rows["Ludvigsen Dec 2022: 23.04 kg a day"]
    assert day["numbers"] == (pytest.approx(23.04, rel=1e-12),)
    assert day["percentiles"][0] == 100 * np.mean(draws <= 23.04)
    truth = 100 * stats.lognorm(np.log(1.3), scale=24).cdf(23.04)
    assert day["percentiles"][0] == pytest.approx(truth, abs=100 * 4 * np.sqrt(0.25 / draws.size))
    month = rows["a month at 24 kg a day"]
    assert month["numbers"] == (pytest.approx(744 / 31, rel=1e-12),)
    assert month["window"].startswith("day 2023-01-15")


@pytest.mark.parametrize("edit,field,fragment", [
    (('headline = "energy_kwh"', 'headline = "energy_kwhh"'), "model.headline", "use one of"),
    (('headline_figure = "ludvigsen_high"', 'headline_figure = "ludvigsen"'), "model.headline_figure",
     "ludvigsen_high"),
    (('output = "fleet_it_energy_kwh"', 'output = "fleet_it_kwh"'), "scenarios.de_vries_fleet.output", "use one of"),
])
def test_bad_headline_keys_are_one_clear_error(tmp_path, edit, field, fragment):
    from simulate.errors import ModelError

    text = (PRIORS / "chatgpt-2023-01.toml").read_text()
    assert edit[0] in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(ModelError) as err:
        simulate.load(path)
    message = str(err.value)
    assert field in message and fragment in message and "bad.toml" in message


@pytest.mark.parametrize("name", MODELS)
def test_every_coordinate_of_a_parameter_is_named_by_its_coordinate(name):
    """A sensitivity row for one coordinate reads "<long name> (<coordinate title>)", for [regions]
    intensities (flat names like grid_europe_g_per_kwh) as for parameters over a dimension."""
    model = simulate.load(PRIORS / f"{name}.toml")
    for p in model.parameters.values():
        if not p.dims:
            continue
        labels = [headline.group_label(model, c.name) for c in p.cells]
        assert len(set(labels)) == len(labels), labels             # each coordinate its own name
        for c, label in zip(p.cells, labels):
            assert label.startswith(f"{p.long_name} (") and not SNAKE.search(label), (c.name, label)
        first = [model.dimensions[d] for d in p.dims]
        title = str(first[0].titles[0]) if first[0].titles else str(first[0].coords[0]).replace("_", " ")
        assert f"({title}" in labels[0], labels[0]
