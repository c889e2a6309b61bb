"""``strategist scout``: JSON and text on the shipped data, the default data choice, clear errors, light imports."""

import json
import subprocess
import sys

from strategist.cli.main import main
from tests.scout.conftest import DEMO_OPPONENT, DEMO_PLAYER, OPPONENT, PLAYER


def test_json_on_shuttleset_by_default_for_a_real_opponent(capsys, shuttle_report):
    assert main(["scout", "--player", PLAYER, "--opponent", OPPONENT, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["meta"]["data"] == "shipped ShuttleSet (94 real matches)"
    assert data["summary"] == shuttle_report.to_dict()["summary"]
    assert set(data["sections"]) == {"weaknesses", "court_maps", "serve_return", "pressure", "rally_length", "trends"}


def test_text_on_the_demo_for_a_demo_opponent_with_maps(capsys, tmp_path):
    assert main(["scout", "--player", DEMO_PLAYER, "--opponent", DEMO_OPPONENT, "--maps", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("data: shipped demo (simulated matches)") and f"Scouting {DEMO_OPPONENT}" in out
    pngs = sorted(p.name for p in tmp_path.iterdir())
    assert "scout-landing-all.png" in pngs and len(pngs) == out.count("map: ")


def test_an_unknown_opponent_is_one_clear_error_with_a_suggestion(capsys):
    assert main(["scout", "--player", PLAYER, "--opponent", "CHOU Tien Chenn"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("strategist: error:") and "'CHOU Tien Chen'" in err and err.count("\n") == 1


def test_a_missing_maps_folder_is_refused(capsys, tmp_path):
    assert main(["scout", "--player", PLAYER, "--opponent", OPPONENT, "--maps", str(tmp_path / "no")]) == 2
    assert "--maps" in capsys.readouterr().err


def test_building_the_command_line_imports_no_heavy_module():
    code = ("import sys\nfrom strategist.cli.main import build_parser\nbuild_parser('scout')\n"
            "print(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "strategist.cli.scout_cmd" in loaded
    assert not {"pandas", "numpy", "scipy", "matplotlib", "strategist.scout"} & loaded


def test_the_text_gives_each_filled_section_its_title_and_the_leads_under_it(shuttle_report):
    """A section the data fill is its title alone (no status word), weaknesses and strengths listed under
    their own section, each lead once."""
    text = shuttle_report.to_text()
    lines = text.splitlines()
    assert "assessed" not in text
    titles = [line for line in lines if not line.startswith(" ")][1:]
    assert titles == ["Weaknesses and strengths:", "Court maps:", "Serve and return:", "Pressure and momentum:",
                      "Rally length and tempo:", "Trends:"]
    start, end = lines.index("Weaknesses and strengths:"), lines.index("Court maps:")
    block = lines[start:end]
    assert "  Weaknesses:" in block and "  Strengths:" in block
    for lead in shuttle_report.weaknesses + shuttle_report.strengths:
        assert text.count(lead) == 1 and f"    - {lead}" in block
