"""The report's "What would narrow the band" section: its sentences quote the analysis' numbers,
in its order; its figures are the two charts; a whole report carries it."""
from types import SimpleNamespace

import pytest

from simulate.plots.labels import si
from simulate.report.compute import narrowing
from simulate.report.disclosure import console_table, disclosure_blocks, disclosure_figures
from simulate.report.headline import group_label
from simulate.report.write import write_report
from tests.analysis.test_disclosure import PRODUCT
from tests.helpers import load_text, model_text, write_model


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    model = load_text(tmp_path_factory.mktemp("product"), PRODUCT)
    found = narrowing(model, "energy_kwh", 20_000, 3)
    report = SimpleNamespace(model=model, headline="energy_kwh", disclosure=found)
    report.names = {str(n): group_label(model, str(n)) for n in found["disclosure"]["parameter"].values}
    return report, found, disclosure_blocks(report)


def test_top_disclosures_are_quoted_in_order_with_their_numbers(section):
    report, found, blocks = section
    ds = found["disclosure"]
    assert blocks[0] == ("h", 2, "What would narrow the band")
    numbered = [b[1] for b in blocks if b[0] == "p" and b[1][:2] in ("1.", "2.", "3.")]
    expected = [str(n) for n, k in zip(ds["parameter"].values, ds["disclosed"].values)
                if k == 1 and float(ds.sel(parameter=n)["width_reduction_low"]) > 0][:3]
    assert len(numbered) == len(expected) >= 2
    for text, name in zip(numbered, expected):
        one = ds.sel(parameter=name)
        assert f"Publishing {report.names[name]} would leave an interval {si(float(one['expected_width']), 'kWh')} wide" in text
        assert f"{100 * float(one['width_reduction']):.0f}% narrower" in text
        assert f"{si(float(one['typical_low']), 'kWh')} to {si(float(one['typical_high']), 'kWh')}" in text
    today = blocks[1][1]
    assert f"from {si(float(ds['today_low']), 'kWh')} to {si(float(ds['today_high']), 'kWh')}" in today
    assert any("Published together" in b[1] for b in blocks if b[0] == "p")
    unread = next(b[1] for b in blocks if b[0] == "p" and "does not read" in b[1])
    assert group_label(report.model, "grid_g_per_kwh_unused") in unread
    tables = [b for b in blocks if b[0] == "table"]
    assert [row[0] for row in tables[0][2]][:len(expected)] == [report.names[n] for n in expected]
    assert tables[1][1][0] == "input" and len(tables[1][2]) == 3          # the null input left out
    assert [b[1] for b in blocks if b[0] == "figure"] == ["disclosure", "shapley"]


def test_figures_and_console_table(section):
    report, found, _ = section
    figures = disclosure_figures(report)
    assert list(figures) == ["disclosure", "shapley"]
    text = console_table(found["disclosure"])
    top = str(found["disclosure"]["parameter"].values[0])
    assert text.splitlines()[4].startswith(top) and "today:" in text
    assert console_table(found["shapley"]).splitlines()[-1] == found["shapley"].attrs["design"]


def test_nothing_to_say_when_every_input_is_fixed(tmp_path):
    model = load_text(tmp_path, model_text({"x": {"dist": "fixed", "value": 2}}, {}, {"x": "mean"}))
    report = SimpleNamespace(model=model, headline="x", disclosure=narrowing(model, "x", 1000, 0))
    assert report.disclosure == {} and disclosure_blocks(report) == [] and disclosure_figures(report) == {}


@pytest.mark.slow
def test_a_report_carries_the_section(tmp_path):
    out = tmp_path / "report"
    write_report(write_model(tmp_path, PRODUCT, "product.toml"), out, samples=8000, seed=2)
    text = (out / "summary.md").read_text()
    assert "## What would narrow the band" in text and "1. Publishing " in text
    assert text.index("## What would narrow the band") > text.index("## Which assumptions drive the spread")
    for stem in ("disclosure", "shapley"):
        assert (out / f"{stem}.png").stat().st_size > 5000 and (out / f"{stem}.svg").exists()
    assert "Shapley effects beside first-order and total indices" in (out / "index.html").read_text()


def test_an_output_that_crosses_zero_gets_no_ratio(tmp_path):
    """y = a + 2b + c/2 crosses 0, so a p95/p5 ratio means nothing: the sentences leave it out."""
    from tests.analysis.test_disclosure import LINEAR

    model = load_text(tmp_path, LINEAR)
    report = SimpleNamespace(model=model, headline="y", disclosure=narrowing(model, "y", 5000, 1))
    text = " ".join(b[1] for b in disclosure_blocks(report) if b[0] == "p")
    assert "1. Publishing " in text and "a factor of" not in text and "nan" not in text
