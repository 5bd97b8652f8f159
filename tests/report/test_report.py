"""The report: files, numbers equal to the Dataset's, self-contained HTML, atomic writes, exit 2 on bad input."""
import html
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import simulate
from simulate import cli
from simulate.plots import labels
from simulate.plots.labels import format_number
from simulate.report import render, write
from simulate.report.headline import group_label
from simulate.results.netcdf import open_results
from simulate.units import unit_factor
from tests.helpers import CHATGPT

pytestmark = pytest.mark.slow
FIGURES = ("fan_energy_kwh", "per_item", "distribution_energy_kwh", "distribution_fleet_energy_kwh", "distribution_it_energy_kwh",
           "distribution_fleet_it_energy_kwh", "paths", "co2_kg_by_region", "calibration_bands", "calibration_paths",
           "tornado", "sobol", "disclosure", "shapley")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "chatgpt"
    assert cli.main(["report", str(CHATGPT), "--out", str(out), "--samples", "20000", "--seed", "4"]) == 0
    return out


@pytest.fixture(scope="module")
def computed():
    return write.prepare(simulate.load(CHATGPT), 20000, 4)


def test_every_file_exists_and_is_not_empty(built):
    names = {"index.html", "summary.md", "results.nc"} | {f"{s}.{ext}" for s in FIGURES for ext in ("png", "svg")}
    assert names <= {p.name for p in built.iterdir()}
    for name in names:
        assert (built / name).stat().st_size > 1000, name
    assert (built / "fan_energy_kwh.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")]   # no temporary folder left


def _row(text, first_cell):
    """The cells of the Markdown table row whose first cell is ``first_cell``."""
    line = next(line for line in text.splitlines() if line.startswith(f"| {first_cell} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_summary_numbers_equal_the_dataset(built):
    ds = open_results(built / "results.nc")   # the display units the report shows (the file has UDUNITS)
    text = (built / "summary.md").read_text()
    html_text = (built / "index.html").read_text()
    model = simulate.load(CHATGPT)
    shown = {}
    for name in ("energy_kwh", "fleet_energy_kwh", "co2_kg", "fleet_co2_kg", "danish_people_equivalent"):
        lo, mid, hi = ds[f"{name}_monthly"].sel(quantile=[0.05, 0.5, 0.95]).values[:, 0]
        long_name, median, interval, unit = _row(text, model.outputs[name].long_name)
        base = ds[f"{name}_monthly"].attrs["units"]
        factor = 1.0 if unit == base else unit_factor(unit, base)
        assert median == format_number(mid / factor)
        assert interval == f"{format_number(lo / factor)} to {format_number(hi / factor)}"
        assert (f"<td>{html.escape(long_name, quote=False)}</td><td>{median}</td><td>{interval}</td>") in html_text
        shown[name] = unit
    assert shown["co2_kg"] == shown["fleet_co2_kg"]     # one unit for every CO2 row, not t for one and kt for others
    prose = re.sub(r"\]\([a-z0-9_]+\.png\)", "]", text.split("## Variables, for scripts")[0])   # not file names
    assert "energy_kwh" not in prose and "ludvigsen_high" not in prose   # internal names only in the variables table
    assert "| `energy_kwh` | output |" in text
    assert ds.attrs["samples"] == 20000 and ds.attrs["seed"] == 4
    assert "sample" not in ds.dims   # per-sample draws are not stored in the committed file


def test_scenario_percentiles_equal_the_draws(built, computed):
    """Same seed, same numbers: the report's percentiles are the kept draws' share below each published
    value, read in the output on the figure's own boundary (IT electricity: Ludvigsen applied no PUE)."""
    text = (built / "summary.md").read_text()
    draws = computed.ds["it_energy_kwh_monthly_samples"].values[:, 0]
    rows = {r["scenario"]: r for r in computed.scenario_rows if r["output"] == "it_energy_kwh"}
    assert rows["ludvigsen_high"]["value"] == pytest.approx(23_364_000, rel=1e-12)
    assert rows["ludvigsen_low"]["value"] == pytest.approx(1_168_200, rel=1e-12)
    for name, row in rows.items():
        expected = 100 * np.mean(draws <= row["value"])
        assert row["percentile"] == pytest.approx(expected, abs=1e-12)
        label = computed.model.scenarios[name].short
        cells = _row(text, label)
        assert cells[1:6] == [row["status"], "IT electricity, per-query path", "2023-01", labels.si(row["value"], "kWh"),
                              labels.percentile_text(expected)]
    fleet = {r["scenario"]: r for r in computed.scenario_rows if r["output"] == "fleet_it_energy_kwh"}
    assert fleet["de_vries_fleet"]["value"] == pytest.approx(3617 * 6.5 * 744, rel=1e-12)


def test_corner_products_lie_outside_the_90_percent_interval(built, computed):
    row = [r for r in computed.corner_rows if r["output"] == "energy_kwh"][0]
    assert row["corner_high"] > row["p95"] and row["corner_low"] < row["p5"]
    assert row["corner_high_percentile"] > 99 and row["corner_low_percentile"] < 1
    # the top corner: every input that raises the energy at its p95, the FLOP utilisations (denominators)
    # at their p5: visits x queries/visit x 2 N (input / prefill + output / decode) / peak x power x host x
    # idle x PUE
    model = computed.model
    at = {p.name: {u: float(p.dist.ppf(np.array([u]))[0]) for u in (0.05, 0.95)} for p in model.all_parameters()}
    hi = {name: v[0.95] for name, v in at.items()}
    gpu_s = 2 * hi["active_parameters"] * (hi["input_tokens_per_query"] / at["prefill_flop_utilisation"][0.05]
                                           + hi["output_tokens_per_query"] / at["decode_flop_utilisation"][0.05]) / 312e12
    expected = (hi["visits"] * hi["queries_per_visit"] * gpu_s * 400 * hi["gpu_busy_power_fraction"] / 3.6e6
                * hi["host_power_factor"] * hi["idle_energy_factor"] * hi["pue"])
    assert row["corner_high"] == pytest.approx(expected, rel=1e-9)
    text = (built / "summary.md").read_text()
    assert "Why corner products are not a 90% interval" in text
    assert f"{100 - row['corner_high_percentile']:.2f}%" in text


def test_uncertain_inputs_are_flagged(built):
    text = (built / "summary.md").read_text()
    assert "## Hypotheses, not published values" in text
    assert re.search(r"Ludvigsen's low end is tagged U: .*not a figure the author is known to have published", text)
    published = text.split("## Published values in our distribution")[1].split("## Hypotheses, not published")[0]
    assert "Ludvigsen's low end" not in published   # a hypothesis is not listed as a published value
    assert "recalls" not in text and "shared/research" not in text and "priors.md" not in text


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [(tag, name, value) for name, value in attrs
                      if name in ("src", "href", "xlink:href", "action") and value]


def test_html_is_self_contained_and_parses(built):
    text = (built / "index.html").read_text()
    parser = _Collector()
    parser.feed(text)
    parser.close()
    assert parser.tags.count("svg") == len(FIGURES) and "table" in parser.tags
    loads = [ref for tag, name, ref in parser.refs if not (tag == "a" and name == "href")]
    assert all(ref.startswith("#") or ref.startswith("data:") for ref in loads), loads
    links = [ref for tag, name, ref in parser.refs if tag == "a" and name == "href"]
    assert "https://arxiv.org/abs/2005.14165" in links                           # sources are links
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text


def test_figures_are_deterministic(computed):
    first = render.figure_bytes(computed.figures["paths"][1])
    again = render.figure_bytes(computed.figures["paths"][1])
    assert first == again
    assert b"<dc:date>" not in first[1]


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(CHATGPT.read_text().replace('dist = "lognormal"\np5 = 500e6', 'dist = "lognormal"\np5 = -5'))
    out = tmp_path / "out"
    assert cli.main(["report", str(bad), "--out", str(out), "--samples", "1000"]) == 2
    assert "parameters.visits" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [bad]


def test_existing_report_survives_a_failed_rebuild(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("old")
    assert cli.main(["report", str(tmp_path / "missing.toml"), "--out", str(out), "--samples", "1000"]) == 2
    assert (out / "index.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert cli.main(["report", str(CHATGPT), "--out", str(not_a_folder), "--samples", "1000"]) == 2


def test_reconciliation_section_equals_the_calibration(built, computed):
    cal = computed.calibration
    model = computed.model
    assert cal is not None and set(cal["stage"].values) == {"prior", "posterior"}
    text = (built / "summary.md").read_text()
    assert "## Reconciling the two paths" in text
    names = {"energy_kwh": model.outputs["energy_kwh"].short, "fleet_energy_kwh": model.outputs["fleet_energy_kwh"].short,
             "path_ratio": "ratio electricity, per-query path / electricity, fleet path"}
    for name, label in names.items():
        da = cal[f"{name}_monthly"]
        cells = _row(text.split("## Reconciling the two paths")[1], label)
        unit = cells[-1] or "1"
        factor = 1.0 if unit in ("1", da.attrs["units"]) else unit_factor(unit, da.attrs["units"])
        expected = []
        for stage in ("prior", "posterior"):
            lo, mid, hi = (float(da.sel(stage=stage, quantile=q).values[0]) / factor for q in (0.05, 0.5, 0.95))
            expected += [format_number(mid), f"{format_number(lo)} to {format_number(hi)}"]
        assert cells[2:6] == expected
    # reconciling narrows the per-query band towards the fleet path
    prior, post = (cal["energy_kwh_monthly"].sel(stage=s) for s in ("prior", "posterior"))
    assert post.sel(quantile=0.5).item() > prior.sel(quantile=0.5).item()


def test_sensitivity_section_equals_the_analysis(built, computed):
    text = (built / "summary.md").read_text()
    assert "## Which assumptions drive the spread" in text
    sobol = computed.sensitivity["sobol"]
    top = str(sobol["parameter"].values[0])
    long_name = group_label(computed.model, top)
    r = sobol.sel(parameter=top)
    assert (f"| {long_name} | {float(r['first_order']):.3f} | {float(r['first_order_low']):.3f} to "
            f"{float(r['first_order_high']):.3f} |") in text
    tornado = computed.sensitivity["tornado"]
    widest = str(tornado["parameter"].values[0])
    assert float(tornado["swing"].max()) == float(tornado.sel(parameter=widest)["swing"])
    widest_name = group_label(computed.model, widest)
    assert f"| {widest_name} | " in text.split("Tornado:")[1]
