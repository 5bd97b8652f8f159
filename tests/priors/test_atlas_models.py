"""The atlas models: each degenerate scenario equals its source's arithmetic, redone here from the
scenario's own values (never from literals) and rounded to the figure the source printed; each
model's published figures sit on a boundary and basis it has; and the closed forms on random draws.

Google: 0.24 Wh, 0.023 and 0.03 gCO2e, 0.26 mL, 33x (Elsworth et al. 2025, arXiv 2508.15734).
Microsoft: 0.34 and 4.32 Wh median (Oviedo et al. 2025, arXiv 2509.20241).
Query types: Altman's 0.34 Wh x 2.5 B = 850 MWh/day (IEEE Spectrum); the URI dashboard's
18.35 Wh x 2.5 B = 45.9 GWh/day (Tom's Hardware, "45 GWh").
"""
from __future__ import annotations

import tomllib

import numpy as np
import pytest
from scipy import stats

import simulate
from simulate.spec.calendar import month_values
from tests.helpers import PRIORS, point_value

pytestmark = pytest.mark.slow
NEW = ("google-gemini-2025", "frontier-queries-2025", "query-types-2025", "training-runs",
       "data-centres-regions-2024-2030", "mistral-large-2-lca")


def _mean(ds, name):
    key = f"{name}_monthly_mean" if f"{name}_monthly_mean" in ds else f"{name}_total_mean"   # one-off totals
    return float(ds[key].values.ravel()[0])


def _inputs(ds):
    return {str(n): ds["inputs"].sel(input=n).values for n in ds["input"].values}


@pytest.mark.parametrize("stem", NEW)
def test_every_reference_sits_on_a_boundary_and_basis_the_model_has(stem):
    model = simulate.load(PRIORS / f"{stem}.toml")
    assert model.references
    for r in model.references:
        out = model.outputs[r.output]
        assert r.like_for_like, (r.label, r.mismatch)
        if r.boundary:
            assert out.boundary == r.boundary, r.label
        if r.accounting:
            assert out.accounting == r.accounting, r.label


@pytest.mark.parametrize("stem", NEW)
def test_every_scenario_pins_its_compared_output(stem):
    """A degenerate scenario: the output its published figure is compared on has no spread left."""
    model = simulate.load(PRIORS / f"{stem}.toml")
    for name, scenario in model.scenarios.items():
        ds = model.with_scenario(name).run(samples=500, seed=1)
        std = ds[f"{scenario.output}_monthly_std"] if f"{scenario.output}_monthly_std" in ds else \
            ds[f"{scenario.output}_total_std"]
        assert float(std.values.ravel()[0]) <= 1e-12 * abs(_mean(ds, scenario.output)), name


# ---- Google Gemini, May 2025 ------------------------------------------------------------------------

def test_google_scenario_is_googles_arithmetic():
    base = simulate.load(PRIORS / "google-gemini-2025.toml")
    ds = base.with_scenario("google_may_2025").run(samples=500, seed=0)
    values = base.scenarios["google_may_2025"].values

    def v(name):
        return point_value(base, name, "google_may_2025")
    accelerator, host, idle, overhead = values["energy_share"]
    assert accelerator + host + idle + overhead == pytest.approx(1, abs=1e-12)
    full = v("full_energy_wh_per_prompt")
    np.testing.assert_allclose(_mean(ds, "energy_wh_per_prompt"), full, rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "accelerator_energy_wh_per_prompt"), full * accelerator, rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "active_energy_wh_per_prompt"), full * (accelerator + host), rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "it_energy_wh_per_prompt"), full * (1 - overhead), rtol=1e-12)
    # the split as printed: 58 / 25 / 10 / 8 (summing to 101), divided by 1.01
    assert [round(s * 1.01, 2) for s in values["energy_share"]] == [0.58, 0.25, 0.10, 0.08]
    # PUE implied by the overhead share, against Google's fleet PUE of 1.09 (2024 Environmental Report)
    assert round(_mean(ds, "implied_pue"), 2) == 1.09
    scope2 = full * v("market_g_per_kwh") / 1000
    np.testing.assert_allclose(_mean(ds, "co2_market_g_per_prompt"), scope2, rtol=1e-12)
    assert round(_mean(ds, "co2_market_g_per_prompt"), 3) == 0.023                    # Google's scope 2
    np.testing.assert_allclose(_mean(ds, "co2_all_scopes_g_per_prompt"), scope2 + v("scope13_g_per_prompt"),
                               rtol=1e-12)
    assert round(_mean(ds, "co2_all_scopes_g_per_prompt"), 2) == 0.03                 # Google's all scopes
    water = full * v("wue_onsite_l_per_kwh")
    np.testing.assert_allclose(_mean(ds, "water_onsite_ml_per_prompt"), water, rtol=1e-12)
    assert round(_mean(ds, "water_onsite_ml_per_prompt"), 2) == 0.26                  # Google's on-site water
    np.testing.assert_allclose(_mean(ds, "energy_wh_per_prompt_2024"), full * v("energy_reduction_factor"), rtol=1e-12)
    carbon = v("energy_reduction_factor") * v("intensity_improvement_factor")
    np.testing.assert_allclose(_mean(ds, "carbon_reduction_factor"), carbon, rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "energy_kwh"), v("prompts_per_day") * full / 1000, rtol=1e-12)


def test_google_boundaries_are_sums_of_dirichlet_shares_on_the_same_draws():
    model = simulate.load(PRIORS / "google-gemini-2025.toml")
    n = 20_000
    ds = model.run(samples=n, seed=4, keep=n)
    x = _inputs(ds)
    full = x["full_energy_wh_per_prompt"]
    share = {c: x[f"energy_share[{c}]"] for c in ("accelerator", "host", "idle", "overhead")}
    np.testing.assert_allclose(sum(share.values()), 1, rtol=1e-12)
    samples = {name: ds[f"{name}_monthly_samples"].values[:, 0] for name in model.outputs if model.outputs[name].aggregate != "once"}
    np.testing.assert_allclose(samples["accelerator_energy_wh_per_prompt"], full * share["accelerator"], rtol=1e-12)
    np.testing.assert_allclose(samples["it_energy_wh_per_prompt"], full * (1 - share["overhead"]), rtol=1e-12)
    # each share's marginal is Beta(c a_k, c (1 - a_k)) for shares a and concentration c (scipy as the oracle)
    spec = tomllib.loads((PRIORS / "google-gemini-2025.toml").read_text())["parameters"]["energy_share"]
    alphas = spec["concentration"] * np.array(spec["shares"])
    for k, c in enumerate(share):
        law = stats.beta(alphas[k], alphas.sum() - alphas[k])
        assert stats.kstest(share[c], law.cdf).statistic < 1.95 / np.sqrt(n), c
    # the 'existing approach' 0.10 Wh lies below the accelerator share of the full figure (58% of 0.24 Wh)
    assert np.mean(samples["accelerator_energy_wh_per_prompt"] <= 0.10) < 0.05


# ---- frontier-model queries (Microsoft's method) ----------------------------------------------------

def test_oviedo_scenario_is_the_papers_formula_at_its_central_inputs():
    base = simulate.load(PRIORS / "frontier-queries-2025.toml")
    ds = base.with_scenario("oviedo_central").run(samples=500, seed=0)

    def v(name):
        return point_value(base, name, "oviedo_central")
    node_kw = v("node_max_power_kw") * v("node_power_fraction")
    # E [Wh] = PUE x P_node [kW] x output tokens / (3.6 x tokens per second)
    chat = v("pue") * node_kw * v("output_tokens_per_query") / (3.6 * v("node_tokens_per_s"))
    np.testing.assert_allclose(_mean(ds, "energy_wh_per_query"), chat, rtol=1e-12)
    assert round(_mean(ds, "energy_wh_per_query"), 2) == 0.34                    # the v1 median
    long = v("pue") * node_kw * v("reasoning_tokens_per_query") / (3.6 * v("reasoning_node_tokens_per_s"))
    np.testing.assert_allclose(_mean(ds, "reasoning_energy_wh_per_query"), long, rtol=1e-12)
    assert round(_mean(ds, "reasoning_energy_wh_per_query"), 2) == 4.32          # the v1 long-query median
    np.testing.assert_allclose(_mean(ds, "it_energy_wh_per_query"), chat / v("pue"), rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "accelerator_energy_wh_per_query"), chat / v("pue") * v("gpu_power_share"),
                               rtol=1e-12)
    # a billion queries a day at the exponential's mean lengths (median / ln 2), a tenth long
    assert v("mean_output_tokens") == pytest.approx(v("output_tokens_per_query") / np.log(2), rel=1e-4)
    assert v("mean_reasoning_tokens") == pytest.approx(v("reasoning_tokens_per_query") / np.log(2), rel=1e-4)
    share = v("long_query_share")
    mean_wh = v("pue") * node_kw / 3.6 * ((1 - share) * v("mean_output_tokens") / v("node_tokens_per_s")
                                         + share * v("mean_reasoning_tokens") / v("reasoning_node_tokens_per_s"))
    np.testing.assert_allclose(_mean(ds, "energy_kwh"), v("queries_per_day") * mean_wh / 1000, rtol=1e-12)
    baseline = v("queries_per_day") * v("pue") * node_kw * v("mean_output_tokens") / (3.6 * v("node_tokens_per_s")) / 1000
    np.testing.assert_allclose(_mean(ds, "baseline_energy_kwh"), baseline, rtol=1e-12)


def test_per_query_energy_follows_the_output_length_law_when_the_node_is_fixed():
    """With node power, throughput and PUE fixed, energy per query is a constant times the lognormal
    output length: its quartiles are scipy's, within Monte Carlo error."""
    base = simulate.load(PRIORS / "frontier-queries-2025.toml")
    fixed = {"node_power_fraction": 0.7, "pue": 1.21, "node_tokens_per_s": 2350.0}
    n = 40_000
    ds = base.with_fixed(fixed).run(samples=n, seed=9, keep=n)
    draws = ds["energy_wh_per_query_monthly_samples"].values[:, 0]
    c = 1.21 * point_value(base, "node_max_power_kw") * 0.7 / (3.6 * 2350)
    law = stats.lognorm(np.log(3.2), scale=300 * c)
    for q in (0.25, 0.5, 0.75):
        se = np.sqrt(q * (1 - q) / n) / law.pdf(law.ppf(q))
        assert abs(np.quantile(draws, q) - law.ppf(q)) < 4 * se, q


def test_node_power_prior_has_the_papers_p5_p95_and_a_median_near_its_centre():
    model = simulate.load(PRIORS / "frontier-queries-2025.toml")
    law = stats.beta(5.67, 2.73)
    dist = model.parameters["node_power_fraction"].dist
    assert (dist.params["alpha"], dist.params["beta"]) == (5.67, 2.73)
    np.testing.assert_allclose(law.ppf([0.05, 0.95]), [0.4, 0.9], atol=0.002)
    assert abs(law.median() - 0.7) < 0.015


# ---- query types --------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario, published_gwh", [("altman_day", 0.85), ("uri_gpt5_day", 45.9)])
def test_query_type_scenarios_are_the_published_products(scenario, published_gwh):
    base = simulate.load(PRIORS / "query-types-2025.toml")
    ds = base.with_scenario(scenario).run(samples=500, seed=0)
    values = base.scenarios[scenario].values

    def v(name):
        return point_value(base, name, scenario)
    mean_gpu = float(np.dot(values["query_mix"], values["gpu_wh_per_query"]))
    day_kwh = v("prompts_per_day") * mean_gpu * v("host_idle_factor") * v("pue") / 1000
    np.testing.assert_allclose(_mean(ds, "energy_kwh"), day_kwh, rtol=1e-12)
    assert round(_mean(ds, "energy_kwh") / 1e6, 2 if published_gwh < 1 else 1) == published_gwh


def test_the_mean_query_is_the_share_weighted_sum_on_the_same_draws():
    model = simulate.load(PRIORS / "query-types-2025.toml")
    n = 5_000
    ds = model.run(samples=n, seed=6, keep=n)
    x = _inputs(ds)
    types = model.dimensions["query_type"].labels
    gpu = sum(x[f"query_mix[{t}]"] * x[f"gpu_wh_per_query[{t}]"] for t in types)
    np.testing.assert_allclose(ds["accelerator_energy_wh_per_query_monthly_samples"].values[:, 0], gpu, rtol=1e-9)
    facility = gpu * x["host_idle_factor"] * x["pue"]
    np.testing.assert_allclose(ds["energy_wh_per_query_monthly_samples"].values[:, 0], facility, rtol=1e-9)
    np.testing.assert_allclose(ds["energy_kwh_monthly_samples"].values[:, 0], x["prompts_per_day"] * facility / 1000,
                               rtol=1e-9)
    ratio = x["gpu_wh_per_query[reasoning]"] / x["gpu_wh_per_query[chat]"]
    np.testing.assert_allclose(ds["reasoning_multiplier_monthly_samples"].values[:, 0], ratio, rtol=1e-9)


# ---- training runs ----------------------------------------------------------------------------------

def test_patterson_scenario_is_his_table_4_arithmetic():
    base = simulate.load(PRIORS / "training-runs.toml")
    ds = base.with_scenario("patterson_gpt3").run(samples=500, seed=0)

    def v(name):
        return point_value(base, name, "patterson_gpt3")
    assert v("gpt3_gpu_hours") == 10_000 * 14.8 * 24                  # 10,000 V100s for 14.8 days
    kwh = v("gpt3_gpu_hours") * v("gpt3_gpu_power_w") * v("gpt3_host_factor") / 1000 * v("gpt3_pue")
    np.testing.assert_allclose(_mean(ds, "gpt3_energy_kwh"), kwh, rtol=1e-12)
    assert round(_mean(ds, "gpt3_energy_kwh") / 1e6, 2) == round(1287 / 1e3, 2)   # his 1,287 MWh, to his 14.8 days
    np.testing.assert_allclose(_mean(ds, "gpt3_co2_kg"), kwh * v("gpt3_grid_g_per_kwh") / 1000, rtol=1e-12)
    assert round(1287 * v("gpt3_grid_g_per_kwh") / 1000) == 552      # his 552 t is 1,287 MWh x 429 g/kWh
    assert abs(_mean(ds, "gpt3_co2_kg") / 552e3 - 1) < 0.003           # ours from his inputs: 553 t


def test_luccioni_scenario_is_her_bloom_arithmetic():
    base = simulate.load(PRIORS / "training-runs.toml")
    ds = base.with_scenario("luccioni_bloom").run(samples=500, seed=0)

    def v(name):
        return point_value(base, name, "luccioni_bloom")
    kwh = v("bloom_gpu_hours") * v("bloom_gpu_power_w") / 1000
    np.testing.assert_allclose(_mean(ds, "bloom_accelerator_energy_kwh"), kwh, rtol=1e-12)
    assert round(kwh / 1e3) == 433                                     # 433 MWh
    np.testing.assert_allclose(_mean(ds, "bloom_co2_kg"), kwh * v("bloom_grid_g_per_kwh") / 1000, rtol=1e-12)
    assert round(_mean(ds, "bloom_co2_kg") / 1e3) == 25                # "25 t"


def test_one_off_totals_are_reported_once_and_sum_the_runs():
    model = simulate.load(PRIORS / "training-runs.toml")
    ds = model.run(samples=2_000, seed=3, keep=2_000)
    assert all(model.outputs[o].aggregate == "once" for o in model.outputs)
    assert "energy_kwh_monthly" not in ds and "energy_kwh_daily" not in ds
    runs = sum(ds[f"{run}_energy_kwh_total_samples"].values for run in ("gpt3", "bloom", "gpt4"))
    np.testing.assert_allclose(ds["energy_kwh_total_samples"].values, runs, rtol=1e-12)


# ---- data centres by region ---------------------------------------------------------------------------

def test_iea_scenario_grows_each_region_to_its_2030_figure():
    base = simulate.load(PRIORS / "data-centres-regions-2024-2030.toml")
    model = base.with_scenario("iea_base")
    ds = model.run(samples=500, seed=0)
    values = base.scenarios["iea_base"].values
    regions = base.dimensions["region"].labels
    world, shares, growth = point_value(base, "world_2024_twh", "iea_base"), values["region_share"], values["growth_per_year"]
    # month resolution: each month is the daily rate at its middle times its days
    year = month_values(model.period, model.profile.day_share(model.period))["decimal_year"]
    days = ds["month"].dt.days_in_month.values
    per_region_kwh = [world * 1e9 * s * (1 + g) ** (year - 2024.5) / 365.25 * days for s, g in zip(shares, growth)]
    np.testing.assert_allclose(ds["energy_kwh_monthly_mean"].values, sum(per_region_kwh), rtol=1e-9)
    np.testing.assert_allclose(ds["us_energy_kwh_monthly_mean"].values, per_region_kwh[regions.index("united_states")],
                               rtol=1e-9)
    in_year = {y: (year >= y) & (year < y + 1) for y in (2024, 2030)}
    regional_2030_twh = [float(kwh[in_year[2030]].sum()) / 1e9 for kwh in per_region_kwh]
    # the rates are the IEA's (2030 / 2024)^(1/6) - 1 of each region: the year totals land on its figures
    # to within the growth inside a year and 2024's leap day (0.3%)
    iea_2024 = [world * s for s in shares]
    np.testing.assert_allclose(regional_2030_twh, [t * (1 + g) ** 6 for t, g in zip(iea_2024, growth)], rtol=3e-3)
    assert [round(t) for t in regional_2030_twh] == [round(t * (1 + g) ** 6) for t, g in zip(iea_2024, growth)]
    assert [round(t) for t in regional_2030_twh] == [426, 277, 113, 101, 29]   # the IEA's published 2030 figures
    assert round(sum(regional_2030_twh)) in (945, 946)                # IEA's 945 (its regions sum to 946)


# ---- Mistral Large 2 life cycle -----------------------------------------------------------------------

def test_mistral_scenario_is_its_published_split():
    base = simulate.load(PRIORS / "mistral-large-2-lca.toml")
    ds = base.with_scenario("mistral_2025").run(samples=500, seed=0)

    def v(name):
        return point_value(base, name, "mistral_2025")
    total_kg = v("total_co2_t") * 1000
    np.testing.assert_allclose(_mean(ds, "co2_total_kg"), total_kg, rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "embodied_co2_kg"), total_kg * (1 - v("operational_share")), rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "co2_kg") + _mean(ds, "embodied_co2_kg"), total_kg, rtol=1e-12)
    assert round(_mean(ds, "embodied_co2_kg") / 1e6, 2) == 2.96            # 14.5% of 20.4 kt
    np.testing.assert_allclose(_mean(ds, "water_l"), v("total_water_m3") * 1000, rtol=1e-12)
    np.testing.assert_allclose(_mean(ds, "co2_g_per_response"), v("co2_per_response_g"), rtol=1e-12)


def test_mistral_response_cannot_be_electricity_alone():
    """As electricity on the French grid, the operational part of 1.14 g would need well over the 5.5 Wh of
    a long frontier-model chat answer (Jegham et al.) in nearly every draw."""
    model = simulate.load(PRIORS / "mistral-large-2-lca.toml")
    n = 5_000
    ds = model.run(samples=n, seed=2, keep=n)
    x = _inputs(ds)
    implied = x["co2_per_response_g"] * x["operational_share"] / x["grid_intensity_g_per_kwh"] * 1000
    np.testing.assert_allclose(ds["implied_wh_per_response_monthly_samples"].values[:, 0], implied, rtol=1e-12)
    assert np.mean(implied > 5.5) > 0.95
