"""The figures of the articles this project grew out of (research/seed-figures.md), each either held
by a shipped model (a published figure, a scenario or a parameter's source) or with a sentence on
why no model reproduces it. The atlas lists them; tests check every pointer resolves."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedFigure:
    figure: str          # as the articles quote it
    source: str          # the source the article names
    model: str = ""      # the model file's stem that holds it ("" when none does)
    kind: str = ""       # "reference" (a label), "scenario" (a name) or "parameter" (a name)
    name: str = ""
    why_not: str = ""    # when no model holds it: why


SEED_FIGURES = (
    SeedFigure("ChatGPT visits, January 2023: 590 million", "Ludvigsen, Towards Data Science, 1 Mar 2023",
               "chatgpt-2023-01", "scenario", "ludvigsen_high"),
    SeedFigure("ChatGPT electricity, January 2023: 'as much as 175,000 people'", "Ludvigsen, 1 Mar 2023",
               "chatgpt-2023-01", "scenario", "ludvigsen_high"),
    SeedFigure("Earlier ChatGPT footprint: about 24 kgCO2e a day on 16 A100 GPUs", "Ludvigsen, Dec 2022",
               why_not="A guess at a December 2022 deployment of 16 GPUs, before any period a shipped model covers; "
                       "16 x 0.4 kW x 24 h = 154 kWh a day, so 24 kg means about 0.16 kg/kWh: a clean grid, not a "
                       "measurement of ChatGPT."),
    SeedFigure("GPT-3 training: 1,287 MWh; 552 tCO2", "Patterson et al. 2021, via MIT News / Wired",
               "training-runs", "scenario", "patterson_gpt3"),
    SeedFigure("GPT-4 training: about 50 GWh", "MIT Technology Review, 20 May 2025",
               "training-runs", "reference", "MIT Technology Review: GPT-4 training, about 50 GWh"),
    SeedFigure("Training energy of GPT-3, Gopher, OPT, BLOOM (BLOOM 433 MWh, 25 t)", "AI Index 2023, from Luccioni et al. 2022",
               "training-runs", "scenario", "luccioni_bloom",
               why_not="GPT-3 and BLOOM are reproduced (scenarios patterson_gpt3, luccioni_bloom); Gopher's and OPT's "
                       "inputs (GPU-hours, power, grid) were not in the text retrieved, so they are not modelled."),
    SeedFigure("Llama 3.1 8B text response: 57 J GPU, about 114 J total", "MIT Technology Review, May 2025",
               "generation-media", "reference", "MIT TR: Llama 3.1 8B response"),
    SeedFigure("Llama 3.1 405B text response: 3,353 J GPU, about 6,706 J total", "MIT Technology Review, May 2025",
               "generation-media", "reference", "MIT TR: Llama 3.1 405B response"),
    SeedFigure("Stable Diffusion 3 Medium image: 1,141 J GPU, about 2,282 J total, 4,402 J at 50 steps",
               "MIT Technology Review, May 2025", "generation-media", "reference", "MIT TR: SD3 Medium image"),
    SeedFigure("CogVideoX 5-second video: about 3.4 MJ", "MIT Technology Review, May 2025",
               "generation-media", "reference", "MIT TR: 5-second CogVideoX video"),
    SeedFigure("One ChatGPT query: about 0.3 Wh", "Epoch AI, Feb 2025",
               "query-types-2025", "reference", "Epoch AI: one ChatGPT (GPT-4o) query"),
    SeedFigure("One ChatGPT query: about 5x a web search", "MIT News, Jan 2025 (Bashir, Olivetti et al.)",
               why_not="A ratio to a web search whose energy (0.3 Wh, Google 2009) no shipped model holds; 5 x 0.3 Wh = "
                       "1.5 Wh is a 2023-vintage query, inside Ludvigsen's 1.7-2.6 Wh only at its low end and 4-6x the "
                       "2025 figures (0.24-0.42 Wh)."),
    SeedFigure("Cooling water: about 2 L per kWh", "MIT News, Jan 2025",
               "generation-media", "parameter", "wue_onsite_l_per_kwh"),
    SeedFigure("US data centres' electricity 48% more carbon-intensive than the US average", "Harvard study via MIT TR",
               "generation-media", "parameter", "grid_intensity_g_per_kwh"),
    SeedFigure("North American data centres: 2,688 MW (end 2022) to 5,341 MW (end 2023)", "MIT News, Jan 2025",
               why_not="Capacity of all North American data centres (a market report), not AI and not energy: 5,341 MW "
                       "x 8,760 h = 46.8 TWh a year at full load, about a quarter of LBNL's 176 TWh for US data centres "
                       "in 2023, so it counts a subset (likely colocation); no shipped model covers that subset."),
    SeedFigure("World data centres: 460 TWh in 2022, close to 1,050 TWh in 2026", "MIT News, Jan 2025, citing OECD/IEA",
               "ai-fleet-2023-2028", "reference", "OECD/IEA via MIT News: all data centres, world, 2026 (projection)"),
    SeedFigure("US data centres about 200 TWh in 2024; AI alone could reach 22% of US household use by 2028",
               "MIT Technology Review, May 2025, citing LBNL",
               "data-centres-regions-2024-2030", "reference", "MIT Technology Review (LBNL): US data centres about 200 TWh in 2024",
               why_not="The 200 TWh is compared on our US output; the 22% is of US households' electricity (about "
                       "1,500 TWh, EIA), i.e. about 330 TWh for US AI alone in 2028, which no model splits out of all "
                       "US data centres (compared instead: LBNL's 325-580 TWh for all of them)."),
    SeedFigure("Data-centre GPUs shipped: 3.85 M in 2023 (2.67 M in 2022)", "TechInsights via MIT News, Jan 2025",
               "ai-fleet-2023-2028", "parameter", "shipped"),
    SeedFigure("Cooling optimisation: about 12.7% energy saved over 3 months", "DeepMind 2022 (BCOOLER), via AI Index 2023",
               why_not="A saving on cooling at some Google sites, not a quantity of AI's use: it moves PUE, and the "
                       "shipped PUE priors (1.08-1.45) already span more than 12.7% of overhead."),
)
