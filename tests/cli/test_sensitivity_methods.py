"""``simulate sensitivity --method shapley|disclosure``: a table, a Dataset, a figure; exit 2 on bad input."""
from simulate.cli import main
from simulate.results.netcdf import open_results
from tests.analysis.test_disclosure import PRODUCT
from tests.helpers import write_model


def test_disclosure_and_shapley_from_the_command_line(tmp_path, capsys):
    path = write_model(tmp_path, PRODUCT, "product.toml")
    nc, png = tmp_path / "d.nc", tmp_path / "d.png"
    assert main(["sensitivity", str(path), "--output", "energy_kwh", "--method", "disclosure", "--samples", "5000",
                 "--out", str(nc), "--figure", str(png)]) == 0
    text = capsys.readouterr().out
    back = open_results(nc)
    top = str(back["parameter"].values[0])
    assert back.attrs["method"] == "disclosure" and text.splitlines()[4].startswith(top)
    assert "today:" in text and png.stat().st_size > 5000
    assert main(["sensitivity", str(path), "--output", "energy_kwh", "--method", "shapley", "--samples", "20000"]) == 0
    text = capsys.readouterr().out
    assert "Shapley" in text.splitlines()[1] and "exact: all 7 subsets" in text
    assert main(["sensitivity", str(path), "--output", "energy_kwh", "--method", "disclosure", "--daily"]) == 2
    assert "choose a month" in capsys.readouterr().err
