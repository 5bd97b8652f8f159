"""The results Dataset: histogram quantiles, and netCDF files written whole or not at all."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import simulate
from simulate import save_netcdf
from simulate.engine.histogram import histogram_quantiles, key_bounds, value_keys
from simulate.results.netcdf import open_results


@pytest.fixture(scope="module")
def dataset():
    from tests.helpers import TWO_REGIONS

    return simulate.load(TWO_REGIONS).run(samples=5000, seed=4, keep=300)


def test_netcdf_round_trip_is_identical(dataset, tmp_path):
    path = save_netcdf(dataset, tmp_path / "deep" / "run.nc")
    assert path == tmp_path / "deep" / "run.nc"
    assert [p.name for p in path.parent.iterdir()] == ["run.nc"]      # no temporary file left
    back = open_results(path)       # the file has UDUNITS units; the display units come back
    assert back.identical(dataset)
    assert back.attrs == dataset.attrs
    for name in dataset.variables:
        assert back[name].attrs == dataset[name].attrs, name


def test_failed_write_leaves_no_file_behind(dataset, tmp_path, monkeypatch):
    def half_write(self, path, *args, **kwargs):
        with open(path, "wb") as handle:            # something on disk, then the failure
            handle.write(b"CDF\x01 partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_write)
    target = tmp_path / "run.nc"
    with pytest.raises(simulate.ModelError, match=r"run.nc': cannot be written \(disk full\)"):
        save_netcdf(dataset, target)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_file(dataset, tmp_path, monkeypatch):
    target = save_netcdf(dataset, tmp_path / "run.nc")
    before = target.read_bytes()
    monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_netcdf(dataset, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]


def test_histogram_quantiles_against_numpy(rng):
    values = rng.lognormal(3.0, 1.0, 40_001)
    keys = value_keys(values)
    lo = int(keys.min()) - 3
    counts = np.bincount(keys - lo, minlength=int(keys.max()) - lo + 4)
    counts = np.concatenate([[0], counts, [0]])
    q = (0.001, 0.025, 0.5, 0.9, 0.999)
    got, outside = histogram_quantiles(counts, lo, values.min(), values.max(), q)
    assert not outside
    np.testing.assert_allclose(got, np.quantile(values, q), rtol=1 / 256)


@pytest.mark.parametrize("floor", [0, 200_000, 261_000])
def test_each_value_lies_in_the_interval_of_its_key(rng, floor):
    values = np.concatenate([rng.normal(0, 1, 1000) * 10.0 ** rng.integers(-300, 300, 1000),
                             [0.0, -0.0, 1.0, -1.0, 5e-324, 1e308]])
    keys = value_keys(values, floor)
    lo, hi = key_bounds(keys, floor)
    assert np.all(lo <= values) and np.all(values <= hi)
    order = np.lexsort((~np.signbit(values), values))         # by value, -0.0 before 0.0
    assert np.all(np.diff(keys[order]) >= 0)                 # monotone in the value
    if floor:
        assert set(np.unique(keys[np.abs(values) < 1e-200])) <= {-1, 0}


def test_histogram_quantiles_flag_mass_outside_the_window():
    values = np.array([1.0, 2.0, 3.0, 4.0, 1000.0, 2000.0, 3000.0])
    keys = value_keys(values[:4])
    lo = int(keys.min())
    counts = np.zeros(int(keys.max()) - lo + 3, dtype=np.int64)
    np.add.at(counts, keys - lo + 1, 1)
    counts[-1] = 3                                        # three values above the window
    got, outside = histogram_quantiles(counts, lo, 1.0, 3000.0, (0.1, 0.95))
    assert outside and got[1] == 3000.0
    assert got[0] == pytest.approx(np.quantile(values, 0.1), rel=1 / 256)


def test_empty_histogram_gives_nan():
    got, outside = histogram_quantiles(np.zeros(5, dtype=np.int64), 0, np.inf, -np.inf)
    assert np.isnan(got).all() and not outside


def test_layout_of_the_dataset(dataset):
    assert dataset["energy_kwh_daily"].dims == ("quantile", "date")
    assert dataset["energy_kwh_monthly"].dims == ("quantile", "month")
    assert dataset.sizes["date"] == 45 and dataset.sizes["month"] == 3
    assert str(dataset["month"].values[0])[:10] == "2023-01-01"
    assert dataset["inputs"].dims == ("sample", "input") and dataset.sizes["sample"] == 300
    assert dataset["overhead_kwh_monthly"].attrs["aggregate"] == "mean"
    assert "monthly mean" in dataset["overhead_kwh_monthly"].attrs["long_name"]
    assert dataset["energy_kwh_monthly"].attrs["units"] == "kWh"
    assert dataset["grid_g_per_kwh_monthly"].attrs["units"] == "gCO2e/kWh"
    assert dataset.attrs["samples"] == 5000 and dataset.attrs["seed"] == 4
