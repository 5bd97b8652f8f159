"""The atlas: every figure it shows is the Dataset's quantile and percentile, its arithmetic notes are
computed from the published inputs, every seed figure points at something a model holds, the CLI
writes it (or refuses bad input with exit status 2), and the page works offline in headless Chromium."""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

import simulate
from simulate.cli import main
from simulate.plots.labels import format_number, percentile_of, unit_for_series
from simulate.report import arithmetic
from simulate.report.atlas import model_rows, status_of, write_atlas
from simulate.report.seed_figures import SEED_FIGURES
from tests.helpers import PRIORS, ROOT
from tests.report.test_browser import ARGS, CHROMIUM, _missing_browser

SMALL = ("google-gemini-2025", "frontier-queries-2025")
SAMPLES = 4_000


@pytest.fixture(scope="module")
def atlas_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("atlas")
    write_atlas(out, [PRIORS / f"{s}.toml" for s in SMALL], samples=SAMPLES, seed=2)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("stem", SMALL)
def test_every_atlas_figure_is_the_datasets_quantile_and_percentile(stem):
    model, ds, rows = model_rows(PRIORS / f"{stem}.toml", SAMPLES, 2)
    assert len(rows) == len(model.references)
    for row in rows:
        assert row.band, row.label                                  # one-day models: every figure is compared
        draws = ds[f"{row.output}_monthly_samples"].values[:, 0]
        np.testing.assert_allclose(row.band, np.quantile(draws, [0.05, 0.5, 0.95]), rtol=1e-12)
        quantiles = ds[f"{row.output}_monthly"].sel(quantile=[0.05, 0.5, 0.95]).values[:, 0]
        np.testing.assert_allclose(row.band, quantiles, rtol=0.02, atol=1e-12)   # the Dataset's own quantiles
        assert row.percentiles == tuple(percentile_of(draws, v) for v in row.numbers)
        ref = next(r for r in model.references if r.label == row.label)
        assert row.numbers == ref.total()                           # per-query figures compared as published


@pytest.mark.slow
def test_the_page_shows_each_band_and_no_remote_resource(atlas_dir):
    text = (atlas_dir / "index.html").read_text()
    for stem in SMALL:
        _, _, rows = model_rows(PRIORS / f"{stem}.toml", SAMPLES, 2)
        for row in rows:
            factor, unit = unit_for_series(list(row.band) + list(row.numbers), row.unit)   # the page's display unit
            low, mid, high = (format_number(v / factor) for v in row.band)
            assert f"{mid} {unit} [{low} to {high}]" in text, row.label
    # nothing is loaded from elsewhere: no script, stylesheet, font or image source, remote or local
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    assert not re.search(r"\b(src|srcset)\s*=", text) and "@import" not in text
    assert set(re.findall(r"url\(([^)]*)\)", text)) <= {f"#{i}" for i in re.findall(r'id="([^"]+)"', text)}  # SVG-internal
    assert "Jegham" in text and "does not add up" in text
    assert (atlas_dir / "atlas_per_query.png").stat().st_size > 10_000


def test_status_tags_are_read_from_the_source_text():
    assert status_of("Elsworth et al. 2025, https://arxiv.org/abs/2508.15734 (S)") == "S"
    assert status_of("x (0.24 Wh, 33x: S; split, 0.023 g: S2 via https://example.org)") == "S, S2"
    assert status_of("I: 1.21 x 0.7 x 11.3 kW x 300 tokens / (3.6 x 0.34 Wh)") == "I"
    assert status_of("NVIDIA H100 datasheet") == "not given"


# ---- the arithmetic notes are computed --------------------------------------------------------------

def test_jeghams_note_follows_its_inputs():
    note = arithmetic.jegham_annual()
    assert not note.adds_up
    assert "107 GWh/year" in note.lines[0]                    # 0.42 Wh x 700 M x 365
    assert "1.53-1.81 Wh per query" in note.lines[2]
    default = arithmetic.jegham_annual.__defaults__
    # at the per-query energy their annual total implies, the same arithmetic adds up
    implied = replace(default[0], value=default[2].value * 1e6 / (default[1].value * 365))
    changed = arithmetic.jegham_annual(short_query_wh=implied)
    assert changed.adds_up and changed.lines != note.lines and changed.verdict == "adds up"


def test_sci_notes_give_the_factor_they_are_off_by():
    consumer = arithmetic.sci_consumer()
    total, tokens, printed = arithmetic.sci_consumer.__defaults__
    factor = total.value * 1e3 / tokens.value * 1e6 / printed.value
    assert f"off by {format_number(factor)}x" in consumer.verdict and round(factor) == 1000
    fix = arithmetic.sci_vision_fix()
    assert "off by 10.0x" in fix.verdict
    corrected = arithmetic.sci_consumer(printed_g=replace(printed, value=total.value * 1e3 / tokens.value * 1e6))
    assert corrected.adds_up


def test_every_check_at_its_published_inputs_has_arithmetic_and_sources():
    notes = arithmetic.notes()
    assert len(notes) == len(arithmetic.CHECKS)
    assert {n.title for n in notes if n.adds_up} >= {"Google: 33x energy and 1.4x cleaner energy vs 44x carbon"}
    for n in notes:
        assert n.lines and n.sources and all(s.strip() for s in n.sources)
        assert ("adds up" in n.verdict) == n.adds_up or n.verdict.startswith(("not the same", "GW is", "cannot"))


# ---- seed figures -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_every_seed_figure_is_held_by_a_model_or_says_why_not():
    models = {}
    for f in SEED_FIGURES:
        if not f.model:
            assert f.why_not.strip(), f.figure
            continue
        model = models.setdefault(f.model, simulate.load(PRIORS / f"{f.model}.toml"))
        if f.kind == "reference":
            assert f.name in [r.label for r in model.references], f.figure
        elif f.kind == "scenario":
            assert f.name in model.scenarios, f.figure
        else:
            assert f.kind == "parameter" and f.name in {p.name for p in model.parameters.values()}, f.figure
    seed_md = (ROOT.parent.parent / "shared" / "research" / "seed-figures.md")
    if seed_md.exists():        # the project's research notes: one atlas row per table row
        table = [line for line in seed_md.read_text().splitlines() if line.startswith("| ") and "---" not in line]
        assert len(SEED_FIGURES) == len(table) - 1


# ---- the command ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_writes_the_atlas_and_links_reports_in_its_folder(tmp_path, capsys):
    (tmp_path / "google-gemini-2025").mkdir()
    (tmp_path / "google-gemini-2025" / "index.html").write_text("<p>report</p>")
    assert main(["atlas", "--out", str(tmp_path), "--priors", str(PRIORS / "google-gemini-2025.toml"),
                 "--samples", "2000"]) == 0
    text = (tmp_path / "index.html").read_text()
    assert 'href="google-gemini-2025/index.html"' in text
    assert (tmp_path / "google-gemini-2025" / "index.html").read_text() == "<p>report</p>"   # left alone
    assert "wrote" in capsys.readouterr().out


def test_cli_refuses_a_missing_model_file_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "atlas"
    assert main(["atlas", "--out", str(out), "--priors", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "priors" in err and "nope.toml" in err and "Fix:" in err and "Traceback" not in err
    assert not out.exists()


# ---- in a real browser ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("width", (1400, 414))
def test_atlas_in_a_real_browser(atlas_dir, width):
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    url = (atlas_dir / "index.html").resolve().as_uri()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            requests, problems = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(url, wait_until="load")
            assert [u for u in requests if u != url] == []           # nothing leaves the page
            assert problems == []
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], widths
            svg = page.evaluate("[...document.querySelectorAll('main > figure > svg')].map("
                                "s => [s.getAttribute('aria-label'), s.getBoundingClientRect().width])")
            assert len(svg) == 1 and svg[0][0] and svg[0][1] > 0.8 * min(width, 1100) - 40
            rows = page.evaluate("document.querySelectorAll('main table tbody tr').length")
            n_refs = sum(len(simulate.load(PRIORS / f"{s}.toml").references) for s in SMALL)
            assert rows == n_refs + len(SEED_FIGURES)
        finally:
            browser.close()
