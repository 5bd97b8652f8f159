"""Disclosure and Shapley charts: what they draw equals the Dataset they are given."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from simulate import plots  # noqa: E402
from simulate.plots.disclosure import OUTCOMES, change_words  # noqa: E402
from simulate.plots.labels import scale_for  # noqa: E402
from tests.analysis.test_disclosure import PRODUCT  # noqa: E402
from tests.helpers import load_text  # noqa: E402


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    return load_text(tmp_path_factory.mktemp("product"), PRODUCT)


@pytest.fixture(scope="module")
def disclosure(product):
    return product.sensitivity("energy_kwh", "disclosure", samples=8000, seed=1, n_resamples=40)


def test_disclosure_bands_draw_today_and_three_outcomes_per_disclosure(disclosure):
    fig, ax = plots.disclosure_bands(disclosure, top=3, pairs=1)
    assert isinstance(fig, matplotlib.figure.Figure)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    singles = [str(n) for n, k in zip(disclosure["parameter"].values, disclosure["disclosed"].values) if k == 1]
    pair = next(str(n) for n in disclosure["parameter"].values if " & " in str(n))
    assert labels[-1] == "today" and "grid_g_per_kwh_unused" not in " ".join(labels)   # unread: not drawn
    assert labels[::-1][1:] == singles[:3] + [pair.replace(" & ", " &\n")]
    assert len(ax.patches) == 1 + 3 * 4
    factor, _ = scale_for([float(disclosure["today_high"])], "kWh")
    today = ax.patches[0]
    assert today.get_x() == pytest.approx(float(disclosure["today_low"]) / factor)
    assert today.get_width() == pytest.approx(float(disclosure["today_width"]) / factor)
    # the middling bar of the top disclosure is the band of the cell whose median is the median
    top = disclosure.sel(parameter=singles[0])
    median, mass = top["cell_median"].values, top["cell_mass"].values
    order = np.argsort(median)
    middle = order[np.argmin(np.abs((np.cumsum(mass[order]) - mass[order] / 2) - 0.5))]
    bar = ax.patches[1 + 1]
    assert bar.get_x() == pytest.approx(float(top["cell_low"][middle]) / factor)
    assert bar.get_x() + bar.get_width() == pytest.approx(float(top["cell_high"][middle]) / factor)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [text for _, text in OUTCOMES]
    shown = singles[:3] + [pair]
    lowest = min(float(disclosure["today_low"]), float(disclosure["cell_low"].sel(parameter=shown).min()))
    highest = max(float(disclosure["today_high"]), float(disclosure["cell_high"].sel(parameter=shown).max()))
    assert ax.get_xscale() == ("log" if highest / lowest > 10 ** 1.5 else "linear")
    assert change_words(top) in " ".join(t.get_text() for t in ax.texts)


def test_change_words_say_when_the_interval_holds_zero(disclosure):
    unused = disclosure.sel(parameter="grid_g_per_kwh_unused")
    assert change_words(unused) == "no clear change"
    top = disclosure.isel(parameter=0)
    assert change_words(top) == f"{100 * float(top['width_reduction']):.0f}% narrower"


def test_shapley_bars_leave_out_null_inputs(product, tmp_path):
    ds = product.sensitivity("energy_kwh", "shapley", samples=20_000, seed=1)
    fig, ax = plots.shapley_bars(ds)
    drawn = [t.get_text() for t in ax.get_yticklabels()]
    assert drawn == [str(n) for n in ds["parameter"].values[:3]]          # most influential first
    assert "grid_g_per_kwh_unused" not in drawn and "1 inputs it does not read" in ax.get_title()
    assert len(ax.patches) == 3 * 3
    heights = sorted(p.get_width() for p in ax.patches)
    expected = sorted(float(ds.sel(parameter=n)[k]) for n in drawn for k in ("shapley", "first_order", "total_order"))
    np.testing.assert_allclose(heights, expected)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first order", "Shapley effect", "total"]
    fig, _ = plots.figure_for(ds)
    fig.savefig(tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 5000
