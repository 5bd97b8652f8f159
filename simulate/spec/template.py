"""The model file ``simulate new NAME`` writes: small, valid, and explaining each section as it goes."""
from __future__ import annotations

TEMPLATE = '''\
# {name}: a model file for `simulate`. It runs as it is; replace the numbers and sources with yours.
#
#   simulate check {name}.toml      validate it and list every parameter with its source
#   simulate run {name}.toml        sample it: median and 90% interval of each output per month
#   simulate report {name}.toml --out {name}-report
#
# Every parameter is a distribution with a unit and a source. Units live in names: a name ending in
# _kwh is in kWh, _kg in kg, _w in W, _g_per_kwh in gCO2e/kWh; pue and names ending in _share or
# _fraction are plain numbers. Expressions are checked for units when the file is read: adding kWh
# to queries is an error.

[model]
name = "{name}"
title = "Electricity and CO2 of an AI service (example: replace with yours)"
description = "Queries x energy per query x data-centre overhead, and the grid's carbon intensity."

[period]                          # daily resolution: one day to several years
start = 2025-01-01
end = 2025-03-31

[profile]                         # how a monthly total spreads over its days (Monday first)
weekday_weights = [1, 1, 1, 1, 1, 0.8, 0.8]
source = "assumption: weekend traffic 20% lower"

# ---- parameters: each a distribution, a unit and a source ---------------------------------------

[parameters.queries_per_month]
range = "80e6 to 120e6"           # a 90% interval: lognormal for positive ranges, as in Squiggle
unit = "queries/month"
source = "replace with your source (a URL or a citation)"
rationale = "why this range: e.g. the service's published traffic, plus or minus 20%"

[parameters.energy_per_query_wh]
dist = "lognormal"
p5 = 0.3                          # p5/p95: the 5th and 95th percentiles (p10/p90 and others work too)
p95 = 3
unit = "Wh/query"
source = "replace: e.g. a measured energy per response for a model of the same size"
rationale = "published per-query figures span about a factor of ten"

[parameters.pue]
dist = "pert"                     # min, most likely, max
min = 1.1
mode = 1.2
max = 1.5
unit = "1"
source = "replace: the operator's reported power usage effectiveness"
rationale = "hyperscale sites report 1.1-1.2; colocation runs higher"

[parameters.grid_g_per_kwh]
dist = "uniform"
min = 250
max = 450
unit = "gCO2e/kWh"
source = "replace: the grid intensity of the regions that serve the traffic"
rationale = "location-based average of the likely regions"

# ---- derived quantities: arithmetic over parameters and calendar names -----------------------------
# day_share is the day's share of its month (from [profile]), so a monthly count x day_share is the
# day's count. Available functions: min, max, exp, log, sqrt; sum(x, "dim") over dimensions.

[derived]
queries = {{ expr = "queries_per_month * day_share", unit = "queries", long_name = "queries served" }}
energy_kwh = {{ expr = "queries * energy_per_query_wh / 1000 * pue", long_name = "facility electricity" }}
co2_kg = {{ expr = "energy_kwh * grid_g_per_kwh / 1000", long_name = "location-based CO2e" }}

# ---- outputs: what is reported, and how days aggregate into months ------------------------------

[outputs]
energy_kwh = {{ aggregate = "sum", label = "electricity" }}
co2_kg = {{ aggregate = "sum", label = "CO2e" }}
queries = "sum"

# ---- scenarios: published point values, fixed on top of the priors --------------------------------

[scenarios.low_estimate]
description = "everything at the low end: 0.3 Wh per query, PUE 1.1"
energy_per_query_wh = 0.3
pue = 1.1
'''


def model_template(name: str) -> str:
    """The text of a new model file called ``name`` (see :data:`TEMPLATE`)."""
    return TEMPLATE.format(name=name)
