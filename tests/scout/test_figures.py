"""Court-map figures: the drawn court has every line of the model, the heat map is the map's counts."""

import numpy as np
import pytest

from strategist.data.court import court_model
from strategist.scout.figures import map_figure, maps_figure, save_maps


def test_a_map_figure_draws_every_court_line_the_net_and_the_counts(shuttle_report):
    court_map = shuttle_report.to_dict()["sections"]["court_maps"]["maps"][0]
    fig = map_figure(court_map, "badminton")
    ax = fig.axes[0]
    court = court_model("badminton")
    drawn = {tuple(np.round(np.r_[line.get_xdata(), line.get_ydata()][[0, 2, 1, 3]], 6)) for line in ax.lines}
    for x0, y0, x1, y1 in court.lines:
        assert tuple(np.round([x0, y0, x1, y1], 6)) in drawn
    assert (-court.net_posts_x, 0.0, court.net_posts_x, 0.0) in drawn
    mesh = ax.collections[0]
    counts = np.asarray(court_map["counts"], float)
    np.testing.assert_allclose(mesh.get_array().filled(0).reshape(counts.shape), counts / counts.sum())
    assert f"n = {court_map['n']:,}" in ax.get_title()


def test_save_maps_writes_one_png_per_map(shuttle_report, tmp_path):
    paths = save_maps(shuttle_report, tmp_path)
    assert len(paths) == len(shuttle_report.section("court_maps")["maps"])
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    fig = maps_figure(shuttle_report.to_dict()["sections"]["court_maps"]["maps"])
    assert len([a for a in fig.axes if a.has_data()]) == len(paths)


@pytest.mark.parametrize("sport", ["badminton", "tennis"])
def test_an_empty_map_still_draws_the_court(sport):
    court = court_model(sport)
    empty = {"title": "nothing (n = 0)", "counts": [[0]], "x_edges": [-1, 1], "y_edges": [-1, 1], "zones": {},
             "half": "receiver", "hitter": "X", "n": 0}
    fig = map_figure(empty, sport)
    assert len(fig.axes[0].lines) == len(court.lines) + 1 and not fig.axes[0].collections
