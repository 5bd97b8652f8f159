"""Published arithmetic, redone: where a source's own numbers add up, and where they do not.

Each check takes the source's published inputs (a :class:`Published` each: value, unit, source)
and returns a :class:`Note` with the arithmetic written out and a verdict computed from it, so
changing an input changes the note. The figures and their sources are those of the project's
research notes (``anchors-2026.md``: Jegham et al. 2025, the GSF SCI-for-AI draft, Google 2025,
Oviedo et al. 2025, de Vries-Gao 2025, LBNL 2024, Mistral 2025, IEA 2025).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..plots.labels import format_number

AGREES = 0.10          # within 10% the arithmetic is read as adding up (published figures are rounded)


@dataclass(frozen=True)
class Published:
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Note:
    title: str
    claim: str                  # what the source says, in its words
    lines: tuple                # the arithmetic, one step a line
    verdict: str
    adds_up: bool
    sources: tuple              # every input's source


def _n(value) -> str:
    return format_number(value, 3)


def _agrees(a: float, b: float) -> bool:
    return abs(a / b - 1) <= AGREES


def _sources(inputs: dict) -> tuple:
    return tuple(dict.fromkeys(p.source for p in inputs.values()))


# ---- the checks ------------------------------------------------------------------------------------

JEGHAM = "Jegham et al., 'How Hungry is AI?', https://arxiv.org/abs/2505.09598 (S; annual MWh S2)"


def jegham_annual(short_query_wh=Published(0.42, "Wh/query", JEGHAM),
                  queries_per_day=Published(700e6, "queries/day", JEGHAM),
                  annual_low_mwh=Published(391_509, "MWh/year", JEGHAM),
                  annual_high_mwh=Published(463_269, "MWh/year", JEGHAM)) -> Note:
    """GPT-4o's annual electricity from the short-query figure times the query count."""
    inputs = locals().copy()
    annual_gwh = short_query_wh.value * queries_per_day.value * 365 / 1e9
    low_gwh, high_gwh = annual_low_mwh.value / 1e3, annual_high_mwh.value / 1e3
    per_query = [v * 1e9 / (queries_per_day.value * 365) for v in (low_gwh, high_gwh)]
    adds_up = low_gwh * (1 - AGREES) <= annual_gwh <= high_gwh * (1 + AGREES)
    lines = (f"{_n(short_query_wh.value)} Wh x {_n(queries_per_day.value / 1e6)} M queries/day x 365 = "
             f"{_n(annual_gwh)} GWh/year",
             f"published: {_n(low_gwh)}-{_n(high_gwh)} GWh/year, {_n(low_gwh / annual_gwh)}-{_n(high_gwh / annual_gwh)}x that",
             f"the annual total implies {_n(per_query[0])}-{_n(per_query[1])} Wh per query")
    verdict = ("adds up" if adds_up else
               f"does not add up: the annual total needs {_n(per_query[0])}-{_n(per_query[1])} Wh per query, not "
               f"{_n(short_query_wh.value)} Wh (a mix of prompt lengths, not the short query)")
    return Note("Jegham et al.: short GPT-4o query x 700 M a day vs their annual total",
                f"{_n(short_query_wh.value)} Wh per short query, {_n(queries_per_day.value / 1e6)} M queries a day, "
                f"{_n(low_gwh)}-{_n(high_gwh)} GWh a year", lines, verdict, adds_up, _sources(inputs))


SCI = ("GSF SCI for AI draft worked examples, https://github.com/Green-Software-Foundation/sci-ai "
       "(issues #68, #69, #98-#100, #144; PRs #73, #106, #107, #108) (S; arithmetic I)")


def _printed_check(title, quantity, total, per, printed, unit_out, scale, scale_name) -> Note:
    computed = total.value / per.value * scale
    adds_up = _agrees(computed, printed.value)
    factor = computed / printed.value
    lines = (f"{_n(total.value)} {total.unit} / {_n(per.value)} {per.unit} x {_n(scale)} = "
             f"{_n(computed)} {unit_out} per {scale_name}",
             f"printed: {_n(printed.value)} {unit_out} per {scale_name}")
    verdict = "adds up" if adds_up else f"does not add up: the printed figure is off by {_n(factor)}x"
    return Note(title, f"{quantity}: {_n(printed.value)} {unit_out} per {scale_name}", lines, verdict, adds_up,
                _sources({"total": total, "per": per, "printed": printed}))


def sci_consumer(total_kg=Published(6_500, "kgCO2e", SCI), tokens=Published(50e9, "tokens", SCI),
                 printed_g=Published(0.13, "gCO2e", SCI)) -> Note:
    """The consumer example: kg over tokens, per million tokens."""
    return _printed_check("SCI for AI: consumer example", "consumer score", replace(total_kg, value=total_kg.value * 1e3,
                          unit="g"), tokens, printed_g, "g", 1e6, "1 M tokens")


def sci_provider(total_kg=Published(200_000, "kgCO2e", SCI), flop=Published(5e22, "FLOP", SCI),
                 printed_g_per_1e15=Published(0.004, "gCO2e", SCI)) -> Note:
    """The provider example: printed as 4 g per 1e18 FLOP, i.e. 0.004 g per 1e15 FLOP."""
    return _printed_check("SCI for AI: provider example", "provider score (printed as 4 g per 1e18 FLOP)",
                          replace(total_kg, value=total_kg.value * 1e3, unit="g"), flop, printed_g_per_1e15, "g", 1e15,
                          "1e15 FLOP")


def sci_vision_fix(total_kg=Published(75_000, "kgCO2e", SCI), parameters=Published(2.5e9, "parameters", SCI),
                   merged_fix_kg=Published(3_000, "kgCO2e", SCI)) -> Note:
    """The computer-vision example after the merged fix (PR #106: 30 -> 3,000 kg per billion parameters)."""
    return _printed_check("SCI for AI: computer-vision example after its merged fix",
                          "kg per billion parameters (printed 30, 'fixed' to 3,000)", total_kg, parameters,
                          merged_fix_kg, "kg", 1e9, "billion parameters")


GOOGLE = ("Elsworth et al. 2025, https://arxiv.org/abs/2508.15734 (0.24 Wh, 33x, 44x: S; split, 0.10 Wh, 1.4x: "
          "S2 via https://particle.news/story/google-publishes-per-prompt-energy-water-and-carbon-figures-for-gemini)")


def google_narrow_boundary(full_wh=Published(0.24, "Wh/prompt", GOOGLE),
                           accelerator_share=Published(0.58, "1", GOOGLE),
                           existing_approach_wh=Published(0.10, "Wh/prompt", GOOGLE)) -> Note:
    """Is the 'existing approach' figure the accelerator slice of the full one?"""
    inputs = locals().copy()
    slice_wh = full_wh.value * accelerator_share.value
    adds_up = _agrees(slice_wh, existing_approach_wh.value)
    lines = (f"{_n(accelerator_share.value * 100)}% x {_n(full_wh.value)} Wh = {_n(slice_wh)} Wh on active accelerators",
             f"published 'existing approach': {_n(existing_approach_wh.value)} Wh ({_n(slice_wh / existing_approach_wh.value)}x less)")
    verdict = ("adds up" if adds_up else "does not add up: the narrow figure is not the accelerator slice of the full "
               "one (it counts less than the accelerators' measured share); compare it on the accelerator boundary "
               "knowing that")
    return Note("Google: the 0.10 Wh 'existing approach' vs the accelerator share of 0.24 Wh",
                f"{_n(full_wh.value)} Wh full boundary, {_n(accelerator_share.value * 100)}% on accelerators, "
                f"{_n(existing_approach_wh.value)} Wh on the existing approach", lines, verdict, adds_up, _sources(inputs))


def google_carbon_reduction(energy_factor=Published(33, "1", GOOGLE), intensity_factor=Published(1.4, "1", GOOGLE),
                            carbon_factor=Published(44, "1", GOOGLE)) -> Note:
    """Carbon reduction = energy reduction x carbon-intensity improvement."""
    inputs = locals().copy()
    product = energy_factor.value * intensity_factor.value
    adds_up = _agrees(product, carbon_factor.value)
    lines = (f"{_n(energy_factor.value)}x energy x {_n(intensity_factor.value)}x carbon intensity = {_n(product)}x",
             f"published: {_n(carbon_factor.value)}x; implied intensity gain {_n(carbon_factor.value / energy_factor.value)}x")
    verdict = ("adds up within the rounding of its factors" if adds_up else
               f"does not add up: {_n(product)}x against {_n(carbon_factor.value)}x")
    return Note("Google: 33x energy and 1.4x cleaner energy vs 44x carbon", "33x energy, 44x carbon per median prompt",
                lines, verdict, adds_up, _sources(inputs))


OVIEDO = ("Oviedo et al. 2025 v1, https://arxiv.org/abs/2509.20241v1 (S); priors S2 via "
          "https://www.themoonlight.io/es/review/energy-use-of-ai-inference-efficiency-pathways-and-test-time-compute")


def oviedo_fleet(median_wh=Published(0.34, "Wh/query", OVIEDO), q1_wh=Published(0.18, "Wh/query", OVIEDO),
                 q3_wh=Published(0.67, "Wh/query", OVIEDO), queries_per_day=Published(1e9, "queries/day", OVIEDO),
                 fleet_gwh_per_day=Published(0.8, "GWh/day", OVIEDO)) -> Note:
    """A billion queries times the mean of a lognormal through the published median and quartiles."""
    inputs = locals().copy()
    sigma = math.log(q3_wh.value / q1_wh.value) / (2 * 0.6744897501960817)
    mean_wh = median_wh.value * math.exp(sigma ** 2 / 2)
    fleet = queries_per_day.value * mean_wh / 1e9
    adds_up = _agrees(fleet, fleet_gwh_per_day.value)
    lines = (f"sigma = ln({_n(q3_wh.value)} / {_n(q1_wh.value)}) / 1.349 = {_n(sigma)}; mean = {_n(median_wh.value)} x "
             f"exp(sigma^2 / 2) = {_n(mean_wh)} Wh",
             f"{_n(queries_per_day.value / 1e9)} B queries x {_n(mean_wh)} Wh = {_n(fleet)} GWh/day; published "
             f"{_n(fleet_gwh_per_day.value)} GWh/day ({_n(fleet_gwh_per_day.value / fleet)}x)")
    verdict = ("adds up" if adds_up else "does not add up from the per-query distribution alone: the fleet figure "
               "carries terms the abstract does not give (model mix, idle capacity)")
    return Note("Oviedo et al.: a billion queries a day vs the per-query distribution",
                f"median {_n(median_wh.value)} Wh (IQR {_n(q1_wh.value)}-{_n(q3_wh.value)}), "
                f"{_n(fleet_gwh_per_day.value)} GWh a day for a billion queries", lines, verdict, adds_up, _sources(inputs))


def oviedo_node_prior(centre=Published(0.7, "1", OVIEDO), p5=Published(0.4, "1", OVIEDO),
                      p95=Published(0.9, "1", OVIEDO)) -> Note:
    """A lognormal's median is the geometric mean of its symmetric percentiles."""
    inputs = locals().copy()
    median = math.sqrt(p5.value * p95.value)
    adds_up = _agrees(median, centre.value) and _agrees(math.log(p95.value / centre.value),
                                                      math.log(centre.value / p5.value))
    lines = (f"lognormal with P5 {_n(p5.value)} and P95 {_n(p95.value)}: median sqrt({_n(p5.value)} x {_n(p95.value)}) = "
             f"{_n(median)}",
             f"log-distances from {_n(centre.value)}: down {_n(math.log(centre.value / p5.value))}, up "
             f"{_n(math.log(p95.value / centre.value))}")
    verdict = ("adds up" if adds_up else f"does not add up: no lognormal has median {_n(centre.value)} and these P5/P95 "
               "(a beta does: this project uses Beta(5.67, 2.73))")
    return Note("Oviedo et al.: node power 'centred at 0.7 P_max' with P5-P95 0.4-0.9",
                "lognormal node power centred at 0.7 P_max, P5-P95 0.4-0.9 P_max", lines, verdict, adds_up,
                _sources(inputs))


DVG = ("de Vries-Gao 2025, Joule (S2 via https://nexusnews.pro/?p=56746); Patterns 7(1):101430, "
       "https://pmc.ncbi.nlm.nih.gov/articles/PMC12827721/ (S)")


def de_vries_gao_power(power_gw=Published(23, "GW", DVG), energy_twh=Published(82, "TWh/year", DVG)) -> Note:
    """23 GW held for a year vs 'up to 82 TWh in 2025'."""
    inputs = locals().copy()
    year_twh = power_gw.value * 8.76
    adds_up = _agrees(year_twh, energy_twh.value)
    lines = (f"{_n(power_gw.value)} GW x 8,760 h = {_n(year_twh)} TWh/year",
             f"published {_n(energy_twh.value)} TWh = {_n(energy_twh.value / 8.76)} GW on average")
    verdict = ("adds up" if adds_up else "not the same quantity: 23 GW is the end-of-2025 power, 82 TWh the year's "
               "energy over a ramp; compare each on its own window")
    return Note("de Vries-Gao: 23 GW vs 82 TWh in 2025", "AI could reach 23 GW by end-2025 and up to 82 TWh in 2025",
                lines, verdict, adds_up, _sources(inputs))


LBNL = ("Shehabi et al. 2024, LBNL United States Data Center Energy Usage Report (S2 via "
        "https://mercomindia.com/us-data-center-electricity-demand-could-triple-by-2028-berkeley-lab)")


def lbnl_power(low_twh=Published(325, "TWh/year", LBNL), low_gw=Published(74, "GW", LBNL)) -> Note:
    """LBNL's 2028 TWh and GW ranges: average power or capacity?"""
    inputs = locals().copy()
    average_gw = low_twh.value / 8.76
    adds_up = _agrees(average_gw, low_gw.value)
    lines = (f"{_n(low_twh.value)} TWh / 8,760 h = {_n(average_gw)} GW average",
             f"published {_n(low_gw.value)} GW: load factor {_n(average_gw / low_gw.value)}")
    verdict = ("adds up" if adds_up else f"GW is capacity at a load factor of {_n(average_gw / low_gw.value)}, not "
               "average demand: label power and energy apart")
    return Note("LBNL: 325 TWh vs 74 GW in 2028", "US data centres 325-580 TWh, 74-132 GW in 2028", lines, verdict,
                adds_up, _sources(inputs))


MISTRAL = ("Mistral AI life-cycle analysis of Mistral Large 2, 22 Jul 2025 (S2 via "
           "https://www.devsustainability.com/p/mistrals-environmental-impact); France and Sweden grid 36-56 g/kWh (I)")


def mistral_per_response(co2_g=Published(1.14, "gCO2e/response", MISTRAL),
                         grid_g_per_kwh=Published(46, "gCO2e/kWh", MISTRAL),
                         plausible_wh=Published(5.5, "Wh/response", "Jegham et al.: Claude 3.7 Sonnet, long prompt, "
                                                "about 5.5 Wh (S2 via https://brainpool.ai/blog/the-energy-and-greenhouse-"
                                                "gas-footprint-of-llm-inference-data-centers-frontier-models-scaling-and-"
                                                "the-road-to-2030)")) -> Note:
    """If every gram were electricity, how many Wh would a 400-token response take?"""
    inputs = locals().copy()
    wh = co2_g.value / grid_g_per_kwh.value * 1000
    adds_up = wh <= plausible_wh.value
    lines = (f"{_n(co2_g.value)} g / {_n(grid_g_per_kwh.value)} g/kWh = {_n(wh)} Wh per 400-token response",
             f"against about {_n(plausible_wh.value)} Wh for a long answer of a frontier chat model")
    verdict = ("adds up as electricity" if adds_up else
               "cannot be electricity alone: embodied hardware and upstream emissions dominate the per-response figure, "
               "so no energy per query follows from it")
    return Note("Mistral: 1.14 g per response as electricity", "1.14 gCO2e per 400-token Le Chat response",
                lines, verdict, adds_up, _sources(inputs))


IEA = "IEA, Energy and AI (Apr 2025), regional data via Graphic News (S2; sums I)"


def iea_regions(regions_2030=Published((426, 277, 113, 101, 29), "TWh", IEA),
                world_2030=Published(945, "TWh", IEA)) -> Note:
    """The IEA's 2030 regional split sums to its world total."""
    inputs = locals().copy()
    total = sum(regions_2030.value)
    adds_up = abs(total - world_2030.value) <= 0.01 * world_2030.value
    lines = (" + ".join(_n(v) for v in regions_2030.value) + f" = {_n(total)} TWh", f"published world: {_n(world_2030.value)} TWh")
    verdict = "adds up (to rounding)" if adds_up else f"does not add up: {_n(total)} against {_n(world_2030.value)} TWh"
    return Note("IEA: US, China, Europe, Asia-Pacific and rest of world in 2030 vs the world total",
                "945 TWh in 2030, split by region", lines, verdict, adds_up, _sources(inputs))


CHECKS = (jegham_annual, sci_consumer, sci_provider, sci_vision_fix, google_narrow_boundary, google_carbon_reduction,
          oviedo_fleet, oviedo_node_prior, de_vries_gao_power, lbnl_power, mistral_per_response, iea_regions)


def notes() -> list:
    """Every check at its published inputs."""
    return [check() for check in CHECKS]
