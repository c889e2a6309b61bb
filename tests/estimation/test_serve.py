"""Tennis serve game: serve points from the canonical table, win rates, and the Walker–Wooders test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from strategist.data.schema import conform
from strategist.errors import EstimationError
from strategist.estimation.serve import pearson_chi2, serve_points, serve_table, walker_wooders


def _points(spec, seed=0):
    """Serve points from {(server, side, serve): {direction: (serves, win probability)}}."""
    rng = np.random.default_rng(seed)
    rows = []
    for (server, side, serve), directions in spec.items():
        for direction, (n, p) in directions.items():
            won = rng.random(n) < p
            rows += [{"match_id": "m", "server": server, "receiver": "R", "side": side, "serve": serve,
                      "direction": direction, "won": bool(w)} for w in won]
    return pd.DataFrame(rows)


def _exact(server, side, serve, counts):
    """Points with exactly ``won`` of ``n`` won per direction: {direction: (n, won)}."""
    rows = []
    for direction, (n, won) in counts.items():
        rows += [{"match_id": "m", "server": server, "receiver": "R", "side": side, "serve": serve,
                  "direction": direction, "won": k < won} for k in range(n)]
    return pd.DataFrame(rows)


def test_cell_statistic_equals_scipy_chi2_contingency():
    counts = {"wide": (60, 45), "body": (25, 12), "T": (70, 50)}
    points = _exact("S", "deuce", 1, counts)
    result = walker_wooders(points, min_count=1)
    table = np.array([[won, n - won] for n, won in counts.values()])
    ref = stats.chi2_contingency(table, correction=False)
    cell = result.cells.iloc[0]
    assert cell["chi2"] == pytest.approx(ref.statistic, rel=1e-12)
    assert cell["df"] == ref.dof == 2
    assert cell["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert cell["min_expected"] == pytest.approx(ref.expected_freq.min(), rel=1e-12)


def test_server_and_joint_statistics_add_the_cells():
    points = pd.concat([
        _exact("S", "deuce", 1, {"wide": (40, 30), "T": (50, 30)}),
        _exact("S", "ad", 1, {"wide": (30, 20), "body": (20, 10), "T": (40, 31)}),
        _exact("S", "deuce", 2, {"body": (30, 15), "T": (20, 11)}),
        _exact("V", "ad", 2, {"wide": (25, 12), "body": (35, 19)}),
    ], ignore_index=True)
    result = walker_wooders(points, min_count=5)
    per_cell = {tuple(k): (c, d) for k, c, d in zip(result.cells[["server", "side", "serve"]].to_numpy(),
                                                    result.cells["chi2"], result.cells["df"])}
    s = result.servers.set_index("server")
    chi2_s = sum(c for (srv, _, _), (c, _) in per_cell.items() if srv == "S")
    assert s.loc["S", "chi2"] == pytest.approx(chi2_s) and s.loc["S", "df"] == 1 + 2 + 1
    assert s.loc["S", "p_value"] == pytest.approx(stats.chi2.sf(chi2_s, 4))
    assert result.joint["df"] == 5 and result.joint["chi2"] == pytest.approx(sum(c for c, _ in per_cell.values()))
    assert result.joint["cells"] == 4 and result.joint["servers"] == 2


def test_rejects_when_rates_differ_and_not_when_equal():
    differ = _points({("S", "deuce", 1): {"wide": (400, 0.80), "T": (400, 0.55)},
                      ("S", "ad", 1): {"wide": (400, 0.75), "T": (400, 0.55)}}, seed=1)
    assert walker_wooders(differ).servers["p_value"].iloc[0] < 1e-6
    equal = _exact("S", "deuce", 1, {"wide": (100, 70), "body": (50, 35), "T": (80, 56)})
    result = walker_wooders(equal)
    assert result.cells["chi2"].iloc[0] == pytest.approx(0.0, abs=1e-12) and result.servers["p_value"].iloc[0] == 1.0
    # under equal rates the test rejects about as often as its level
    spec = {(f"S{k}", side, 1): {"wide": (120, 0.65), "T": (120, 0.65)} for k in range(150) for side in ("deuce", "ad")}
    sim = walker_wooders(_points(spec, seed=2))
    assert 0.01 <= (sim.servers["p_value"] < 0.05).mean() <= 0.10
    assert sim.uniformity["p_value"] > 0.001


def test_rare_directions_and_degenerate_cells_are_reported():
    points = pd.concat([
        _exact("S", "deuce", 1, {"wide": (40, 30), "body": (3, 1), "T": (50, 30)}),
        _exact("S", "ad", 2, {"body": (30, 15), "T": (4, 2)}),
        _exact("S", "ad", 1, {"wide": (20, 20), "T": (20, 20)}),
    ], ignore_index=True)
    result = walker_wooders(points, min_count=10)
    row = result.cells.iloc[0]
    assert row["directions"] == "wide;T" and row["left_out"] == "body"
    reasons = dict(zip(zip(result.skipped["side"], result.skipped["serve"]), result.skipped["reason"]))
    assert "fewer than two directions" in reasons[("ad", 2)]
    assert "every point won" in reasons[("ad", 1)]


def test_p_values_match_scipy_and_are_uniform_under_the_null():
    # the same win rate in every direction: p-values follow the uniform distribution
    rng = np.random.default_rng(20240601)
    p_values = []
    for _ in range(400):
        serves = rng.integers(40, 120, size=3)
        won = rng.binomial(serves, 0.6)
        chi2, df = pearson_chi2(won, serves)
        ref = stats.chi2_contingency(np.stack([won, serves - won], axis=1), correction=False)
        assert chi2 == pytest.approx(ref.statistic, rel=1e-12) and df == ref.dof
        p_values.append(stats.chi2.sf(chi2, df))
        assert p_values[-1] == pytest.approx(ref.pvalue, rel=1e-10)
    assert stats.kstest(p_values, "uniform").pvalue > 0.01
    assert 0.02 <= np.mean(np.array(p_values) < 0.05) <= 0.09


def test_pearson_chi2_by_hand():
    chi2, df = pearson_chi2([30, 10], [40, 20])
    # expected won: 40·40/60 = 26.667, 20·40/60 = 13.333; lost: 13.333, 6.667
    by_hand = ((30 - 80 / 3) ** 2 / (80 / 3) + (10 - 40 / 3) ** 2 / (40 / 3) + (10 - 40 / 3) ** 2 / (40 / 3)
               + (10 - 20 / 3) ** 2 / (20 / 3))
    assert (chi2, df) == (pytest.approx(by_hand, rel=1e-12), 1)


def test_serve_points_keep_the_serve_in_play():
    rows = []
    base = {"sport": "tennis", "source": "constructed", "match_id": "m", "set": 1, "game": 1, "shot": "serve",
            "hitter": "S", "opponent": "R", "server": "S"}
    # point 1: first serve wide, won; point 2: fault then second serve T, lost; point 3: double fault
    rows.append({**base, "rally": 1, "stroke": 1, "serve_number": 1, "court_side": "deuce", "landing_area": "wide",
                 "winner": "S", "hitter_won": True})
    rows.append({**base, "rally": 2, "stroke": 1, "serve_number": 1, "court_side": "ad", "landing_area": "T",
                 "error": "net", "winner": "R", "hitter_won": False})
    rows.append({**base, "rally": 2, "stroke": 2, "serve_number": 2, "court_side": "ad", "landing_area": "T",
                 "winner": "R", "hitter_won": False})
    rows.append({**base, "rally": 3, "stroke": 1, "serve_number": 1, "court_side": "deuce", "error": "unknown",
                 "winner": "R", "hitter_won": False})
    rows.append({**base, "rally": 3, "stroke": 2, "serve_number": 2, "court_side": "deuce", "error": "unknown",
                 "winner": "R", "hitter_won": False, "end": "double fault"})
    table = conform(pd.DataFrame(rows).assign(rally_id=lambda f: "m|1|" + f["rally"].astype(str)))
    points = serve_points(table)
    assert points[["side", "serve", "direction", "won"]].values.tolist() == [["deuce", 1, "wide", True],
                                                                            ["ad", 2, "T", False]]
    rates = serve_table(points, by=["serve"])
    assert rates["rate"].tolist() == [1.0, 0.0] and rates["share"].tolist() == [1.0, 1.0]


def test_bad_serve_inputs():
    with pytest.raises(EstimationError, match="lacks columns"):
        serve_points(pd.DataFrame({"shot": ["serve"]}))
    badminton = conform(pd.DataFrame({"sport": ["badminton"], "shot": ["smash"], "match_id": ["m"]}))
    with pytest.raises(EstimationError, match="no serves in play"):
        serve_points(badminton)
    points = _exact("S", "deuce", 1, {"wide": (40, 30), "T": (50, 30)})
    with pytest.raises(EstimationError, match="unknown server"):
        walker_wooders(points, server="Nobody")
    with pytest.raises(EstimationError, match="no .* cell"):
        walker_wooders(points, min_count=100)
    with pytest.raises(EstimationError, match="min_count"):
        walker_wooders(points, min_count=0)


@pytest.mark.realdata
def test_walker_wooders_on_slam_point_by_point(shared_data):
    from strategist.data import load
    folder = shared_data / "tennis_slam_pbp"
    table = pd.concat([load.load_rallies(folder / f"2011-{event}-points.csv.gz").table
                       for event in ("wimbledon", "usopen")], ignore_index=True)
    points = serve_points(table)
    wimbledon = points[points["match_id"].str.startswith("2011-wimbledon")]
    rates = serve_table(wimbledon, by=["side", "serve"]).set_index(["side", "serve", "direction"])
    # the README's table: Wimbledon deuce court, first serve: wide .717 (3,319), body .632 (633), T .749 (3,188)
    assert rates.loc[("deuce", 1, "wide"), "serves"] == 3319
    assert rates.loc[("deuce", 1, "wide"), "rate"] == pytest.approx(0.717, abs=5e-4)
    assert rates.loc[("deuce", 1, "body"), "serves"] == 633
    assert rates.loc[("deuce", 1, "T"), "rate"] == pytest.approx(0.749, abs=5e-4)
    result = walker_wooders(points)
    assert result.joint["servers"] > 100 and result.joint["cells"] > 300
    assert ((result.cells["p_value"] >= 0) & (result.cells["p_value"] <= 1)).all()
    murray = result.servers.set_index("server").loc["Andy Murray"]
    cells = result.cells[result.cells["server"] == "Andy Murray"]
    assert murray["chi2"] == pytest.approx(cells["chi2"].sum()) and murray["df"] == cells["df"].sum()
