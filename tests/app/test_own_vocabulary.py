"""A table tagged with a club's own 10-class vocabulary, uploaded with its sport file, works in the app: the
Data page loads it under that vocabulary, the Model page trains a model on it, Match prep advises in its
labels. The loader reads a folder's sport file the same way (one per folder)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import track2  # noqa: E402
from strategist.data.load import folder_sport_file, load_rallies  # noqa: E402
from track2 import TEN  # noqa: E402
from strategist.errors import DataFormatError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = "strategist/app/pages/"
SPORT_FILE = track2.sport_file_text("club-ten")


@pytest.fixture(scope="module")
def club_csv(tmp_path_factory, shuttleset_strokes) -> Path:
    """Four ShuttleSet matches relabelled to CoachAI Track 2's ten classes, as a canonical CSV."""
    return track2.write(tmp_path_factory.mktemp("club"), shuttleset_strokes, 4, "club-ten")[1]


@pytest.fixture()
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    monkeypatch.setenv("STRATEGIST_DATA_ROOTS", os.pathsep.join([str(tmp_path)]))
    monkeypatch.setenv("STRATEGIST_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("STRATEGIST_MODEL_CACHE", str(tmp_path / "models"))
    return tmp_path


def _clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_a_folder_with_its_sport_file_loads_in_that_vocabulary(club_csv, tmp_path):
    folder = tmp_path / "club"
    folder.mkdir()
    (folder / "strokes.csv").write_bytes(club_csv.read_bytes())
    (folder / "labels.toml").write_text(SPORT_FILE)
    (folder / "parameters.json").write_text(json.dumps({"seed": 1}))     # JSON without 'extends': not a sport
    assert folder_sport_file(folder) == folder / "labels.toml"
    result = load_rallies(folder)
    assert result.sport.name == "club-ten" and set(result.table["shot"]) <= set(TEN)
    (folder / "other.json").write_text(json.dumps({"name": "x", "extends": "badminton"}))
    with pytest.raises(DataFormatError, match="2 sport files"):
        load_rallies(folder)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "parameters.json").write_text(json.dumps({"seed": 1}))
    assert folder_sport_file(plain) is None


def test_the_app_loads_trains_and_advises_on_a_clubs_own_labels(server, club_csv):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.radio(key="data_source").set_value("Upload files").run()
    uploader = at.file_uploader(key="upload")
    uploader.upload("club.csv", club_csv.read_bytes())
    uploader.upload("club.toml", SPORT_FILE.encode())
    uploader.run()
    _clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sport"] == "club-ten"
    assert any("your own (10 shots" in c.value for c in at.caption)

    at.switch_page(PAGES + "model.py").run()
    _clean(at)
    at.selectbox(key="model_kind").set_value("markov")
    next(b for b in at.button if b.label == "Train").click().run()
    _clean(at)
    in_use = [m.value for m in at.markdown if m.value.startswith("In use")]
    assert in_use and "markov" in in_use[0]

    at.switch_page(PAGES + "prep.py").run()
    _clean(at)
    shown = " ".join(m.value for m in at.markdown) + " ".join(str(t.value) for t in at.table) + " ".join(
        str(d.value) for d in at.dataframe)
    assert "push/rush" in shown or "defensive shot" in shown
    # none of ShuttleSet's own labels that the ten classes merge: "rush" and "push" only inside "push/rush"
    assert not re.search(r"(?<![/\w])rush\b|\bpush(?!/)|defensive return", shown.replace("\\", ""))
