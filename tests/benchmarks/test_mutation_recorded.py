"""Rerunning the survivors a mutation run recorded: a survivor a test now kills moves to killed (or timeout),
one still alive stays, one the equivalence file now covers counts as equivalent, and a mutant whose name now
makes another change refuses the rerun (the module changed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import mutation  # noqa: E402

MODULE = "strategist/x.py"
CHANGES = {"m_1": "-a = 1\n+a = 2", "m_2": "-b = 1\n+b = 2", "m_3": "-c = 1\n+c = 2", "m_4": "-d = 1\n+d = 2"}


def _row():
    return {"module": MODULE, "mutants": 10, "killed": 5, "timeout": 0, "survived": 4, "no_tests": 0,
            "suspicious": 0, "equivalent": 1, "not_checked": 0, "score": 5 / 9, "date": "2026-01-01",
            "survivors": [{"mutant": n, "verdict": "survived", "change": c} for n, c in CHANGES.items()],
            "equivalent_mutants": [], "stale_equivalent_entries": []}


def _scratch(tmp_path, codes):
    meta = tmp_path / "mutants" / (MODULE + ".meta")
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    return tmp_path


def test_killed_survivors_move_and_the_rest_of_the_row_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(mutation, "_diffs", lambda scratch, module, names: {n: CHANGES[n] for n in names})
    equivalent = {"mutants": {"m_4": {"mutant": "m_4", "added": ["d = 2"], "reason": "by hand"}}, "rules": []}
    scratch = _scratch(tmp_path, {"m_1": 1, "m_2": 0, "m_3": 36, "m_4": 0, "other": 1})
    out = mutation.rerun_recorded(_row(), scratch, MODULE, equivalent)
    assert [s["mutant"] for s in out["survivors"]] == ["m_2"]
    assert (out["killed"], out["timeout"], out["survived"], out["equivalent"]) == (6, 1, 1, 2)
    assert out["mutants"] == 10 and out["score"] == pytest.approx(7 / 8)
    assert out["recorded_rerun"]["rerun"] == 4 and out["recorded_rerun"]["killed"] == 2


def test_a_survivor_that_now_makes_another_change_refuses_the_rerun(tmp_path, monkeypatch):
    moved = dict(CHANGES, m_3="-e = 1\n+e = 2")
    monkeypatch.setattr(mutation, "_diffs", lambda scratch, module, names: {n: moved[n] for n in names})
    scratch = _scratch(tmp_path, {n: 1 for n in CHANGES})
    with pytest.raises(ValueError, match="m_3"):
        mutation.rerun_recorded(_row(), scratch, MODULE, {"mutants": {}, "rules": []})
