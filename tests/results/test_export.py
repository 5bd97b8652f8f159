"""Exports by extension (tidy CSV, JSON, Parquet; Impact Framework manifest) and the SCI score."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import simulate
from simulate.results.export import export, quantile_label
from simulate.results.manifest import manifest
from simulate.results.sci import sci_score
from tests.helpers import CHATGPT, load_text


@pytest.fixture(scope="module")
def chatgpt_ds():
    return simulate.load(CHATGPT).run(samples=20_000, seed=3)


def expected_rows(ds):
    """Every (output, scale, time, region) cell of the Dataset with its numbers, read straight from it."""
    for var in ds.data_vars:
        for scale, time in (("daily", "date"), ("monthly", "month"), ("yearly", "year"), ("total", None)):
            if not var.endswith(f"_{scale}") or "quantile" not in ds[var].dims:
                continue
            base = var[: -len(scale) - 1]
            da = ds[var]
            times = range(da.sizes[time]) if time else [None]
            regions = range(da.sizes["region"]) if "region" in da.dims else [None]
            for t in times:
                for r in regions:
                    pick = {**({time: t} if time else {}), **({"region": r} if r is not None else {})}
                    key = (base, scale, str(ds[time].values[t])[:10] if time else "",
                           str(ds["region"].values[r]) if r is not None else "")
                    yield key, {"mean": float(ds[f"{var}_mean"].isel(pick)), "sd": float(ds[f"{var}_std"].isel(pick)),
                                **{quantile_label(q): float(da.isel(pick).sel(quantile=q)) for q in ds["quantile"].values},
                                **{f"{quantile_label(q)}_ci_high": float(ds[f"{var}_ci_high"].isel(pick).sel(quantile=q))
                                   for q in ds["quantile"].values}}


def check_table(table, ds):
    table = table.fillna({"region": "", "time": ""})
    rows = {(r["output"], r["scale"], str(r["time"]), str(r["region"])): r for r in table.to_dict("records")}
    cells = dict(expected_rows(ds))
    assert set(rows) == set(cells)
    for key, numbers in cells.items():
        row = rows[key]
        for column, value in numbers.items():
            assert row[column] == value or (math.isnan(value) and math.isnan(row[column])), (key, column)


def test_csv_round_trips_to_the_datasets_numbers(chatgpt_ds, tmp_path):
    path = export(chatgpt_ds, tmp_path / "r.csv")
    table = pd.read_csv(path, keep_default_na=True, dtype={"time": str, "region": str})
    check_table(table, chatgpt_ds)
    assert (table.loc[table.output == "energy_kwh", "unit"] == "kWh").all()   # display units in tables


def test_json_round_trips_with_provenance(chatgpt_ds, tmp_path):
    document = json.loads(export(chatgpt_ds, tmp_path / "r.json").read_text())
    assert document["attributes"]["seed"] == 3 and document["attributes"]["samples"] == 20_000
    assert document["attributes"]["model_sha256"] == chatgpt_ds.attrs["model_sha256"]
    table = pd.DataFrame(document["rows"], columns=document["columns"]).fillna(value=np.nan)
    table["region"] = table["region"].astype(object).where(table["region"].notna(), "")
    check_table(table, chatgpt_ds)


def test_parquet_round_trips(chatgpt_ds, tmp_path):
    table = pd.read_parquet(export(chatgpt_ds, tmp_path / "r.parquet"))
    table["region"] = table["region"].fillna("")
    check_table(table, chatgpt_ds)


def test_an_unknown_extension_is_an_error(chatgpt_ds, tmp_path):
    with pytest.raises(simulate.ModelError, match=r"x\.xlsx.*\.csv"):
        export(chatgpt_ds, tmp_path / "x.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_manifest_rows_carry_means_and_quantiles_with_aggregation_methods(chatgpt_ds):
    doc = manifest(chatgpt_ds, functional_unit="queries")
    rows = doc["tree"]["children"]["chatgpt-2023-01"]["inputs"]
    assert len(rows) == 31 and rows[0]["timestamp"] == "2023-01-01T00:00:00Z" and rows[0]["duration"] == 86400
    day = chatgpt_ds["energy_kwh_daily"].isel(date=4)
    assert rows[4]["energy_kwh"] == float(chatgpt_ds["energy_kwh_daily_mean"].isel(date=4))
    assert rows[4]["energy"] == rows[4]["energy_kwh"]
    assert rows[4]["energy_kwh-p95"] == float(day.sel(quantile=0.95))
    assert rows[4]["carbon-operational"] == pytest.approx(1000 * float(chatgpt_ds["co2_kg_daily_mean"].isel(date=4)))
    meta = doc["x-simulate-parameter-metadata"]
    assert meta["energy_kwh"]["aggregation-method"] == {"time": "sum", "component": "sum"}
    assert meta["energy_kwh-p50"]["aggregation-method"] == {"time": "none", "component": "none"}
    assert meta["danish_people_equivalent"]["aggregation-method"]["time"] == "avg"
    assert list(doc["initialize"]["plugins"]) == ["sum-carbon", "sci"]


IF_RUN = shutil.which("if-run") or os.environ.get("SIMULATE_IF_RUN")


@pytest.mark.skipif(not IF_RUN, reason="Impact Framework's if-run is not installed (npm install -g @grnsft/if)")
def test_impact_framework_runs_the_manifest(chatgpt_ds, tmp_path):
    path = export(chatgpt_ds, tmp_path / "imp.yml", functional_unit="queries")
    subprocess.run([IF_RUN, "--manifest", str(path), "--output", str(tmp_path / "out")], check=True,
                   capture_output=True, timeout=300)
    done = yaml.safe_load(Path(tmp_path / "out.yaml").read_text())
    assert done["execution"]["status"] == "success"
    out = done["tree"]["children"]["chatgpt-2023-01"]["outputs"]
    mean_co2_g = 1000 * chatgpt_ds["co2_kg_daily_mean"].values
    mean_queries = chatgpt_ds["queries_daily_mean"].values
    assert [row["carbon"] for row in out] == pytest.approx(mean_co2_g, rel=1e-12)
    assert [row["sci"] for row in out] == pytest.approx(mean_co2_g / mean_queries, rel=1e-12)


SCI_MODEL = """
    [period]
    start = 2024-03-01
    end = 2024-04-30
    [profile]
    weekday_weights = [1, 1, 1, 1, 1, 0.7, 0.7]
    source = "test"
    [parameters.queries_per_month]
    dist = "lognormal"
    p5 = 1e6
    p95 = 4e6
    unit = "queries/month"
    source = "test"
    [parameters.wh_per_query]
    dist = "lognormal"
    median = 2
    gsd = 1.8
    unit = "Wh/query"
    source = "test"
    [parameters.grid_g_per_kwh]
    dist = "lognormal"
    median = 400
    gsd = 1.3
    unit = "gCO2e/kWh"
    source = "test"
    [derived]
    queries = { expr = "queries_per_month * day_share", unit = "queries" }
    energy_kwh = "queries * wh_per_query / 1000"
    co2_kg = "energy_kwh * grid_g_per_kwh / 1000"
    [outputs]
    queries = "sum"
    co2_kg = "sum"
    energy_kwh = "sum"
"""


def test_sci_is_the_ratio_per_sample_not_of_quantiles(tmp_path):
    """Per query, CO2 is wh_per_query x grid / 1000 g: a lognormal with median 0.8 g and
    sigma = sqrt(log(1.8)^2 + log(1.3)^2), whatever the traffic. Tolerance: 4 standard errors of a quantile."""
    model = load_text(tmp_path, SCI_MODEL)
    n = 40_000
    ds = sci_score(model, "queries", samples=n, seed=5)
    exact = stats.lognorm(math.hypot(math.log(1.8), math.log(1.3)), scale=2 * 400 / 1000)
    for q in (0.05, 0.5, 0.95):
        se = math.sqrt(q * (1 - q) / n) / exact.pdf(exact.ppf(q))
        assert float(ds["sci_total"].sel(quantile=q)) == pytest.approx(exact.ppf(q), abs=4 * se)
        assert float(ds["sci_monthly"].sel(quantile=q).isel(month=1)) == pytest.approx(exact.ppf(q), abs=4 * se)
    assert ds["sci_total"].attrs["units"] == "gCO2e/query" and ds.attrs["sci_embodied"] == "none"
    # the quotient of the outputs' 95th percentiles is not the SCI's (about 1.4 g against 2.3 g here):
    # traffic's spread cancels in the ratio per sample, not in the ratio of quantiles
    run = model.run(samples=n, seed=5)
    naive = float(run["co2_kg_total"].sel(quantile=0.95)) * 1000 / float(run["queries_total"].sel(quantile=0.95))
    assert naive < 0.7 * exact.ppf(0.95)


def test_sci_refuses_a_mean_output_and_an_energy_as_carbon(tmp_path):
    model = load_text(tmp_path, SCI_MODEL)
    with pytest.raises(simulate.ModelError, match="carbon = 'energy_kwh'.*not kg"):
        sci_score(model, "queries", carbon="energy_kwh", samples=2000)
    with pytest.raises(simulate.ModelError, match="per = 'visits'"):
        sci_score(model, "visits", samples=2000)
