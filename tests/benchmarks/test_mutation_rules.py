"""The mutation report's equivalence rules: a change of letter case inside SQL is equivalent only where SQLite
cannot tell it (keywords, pragmas, names), never in a quoted literal, a plain string or a CREATE."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import mutation  # noqa: E402

RULES = tomllib.loads((ROOT / "benchmarks" / "mutation_equivalent.toml").read_text())["rule"]


def _diff(removed: str, added: str) -> str:
    return f"-{removed}\n+{added}"


@pytest.mark.parametrize("removed, added, equivalent", [
    ('con.execute("PRAGMA synchronous=FULL")', 'con.execute("pragma synchronous=full")', True),
    ('con.execute("BEGIN IMMEDIATE")', 'con.execute("begin immediate")', True),
    ('row = con.execute("SELECT value FROM meta WHERE key=\'schema_version\'")',
     'row = con.execute("select value from meta where key=\'schema_version\'")', True),
    ('return "m.seq DESC, m.rowid DESC" if "seq" in have else "m.updated DESC"',
     'return "m.seq desc, m.rowid desc" if "seq" in have else "m.updated DESC"', True),
    # a plain string beside the SQL: "SEQ" is another column name to look for
    ('return "m.seq DESC, m.rowid DESC" if "seq" in have else "m.updated DESC"',
     'return "m.seq DESC, m.rowid DESC" if "SEQ" in have else "m.updated DESC"', False),
    # a stored literal's case matters
    ('con.execute("INSERT OR IGNORE INTO meta VALUES (\'application\', \'strategist match log\')")',
     'con.execute("INSERT OR IGNORE INTO META VALUES (\'APPLICATION\', \'STRATEGIST MATCH LOG\')")', False),
    # a definition stores the names as written
    ('con.execute("CREATE TABLE t (a TEXT); SELECT 1")', 'con.execute("create table t (a text); select 1")', False),
    ('con.execute("ROLLBACK")', 'con.execute("XXROLLBACKXX")', False),
    ('con.execute("ROLLBACK")', 'con.execute("ROLLBACK")', False),
])
def test_sql_letter_case_rules(removed, added, equivalent):
    assert (mutation.rule_for(_diff(removed, added), RULES) is not None) is equivalent


def test_the_report_shows_mutants_a_stopped_run_left_untested_and_scores_the_rest():
    module = {"mutants": 10, "killed": 5, "timeout": 1, "survived": 1, "no_tests": 0, "equivalent": 1,
              "not_checked": 2, "score": 6 / 7, "survivors": [], "stale_equivalent_entries": [], "date": "d"}
    text = mutation.markdown({"strategist/x.py": module}, {"mutmut": "3", "command": "c", "date": "d"})
    row = next(line for line in text.splitlines() if line.startswith("| `strategist/x.py`"))
    assert row.split(" | ")[7:9] == ["2", "85.7 %"]                    # not run, then 6 of the 7 judged
    total = next(line for line in text.splitlines() if line.startswith("| **all**"))
    assert total.split(" | ")[7:9] == ["2", "85.7 %"]


def test_rejudging_moves_a_survivor_an_entry_now_covers_and_lists_an_entry_that_names_another_change():
    """A survivor whose name and added lines match an equivalence entry becomes equivalent (the score leaves
    it out); an entry whose name now belongs to another change is reported stale and the survivor stays; an
    equivalent whose entry is gone is a survivor again."""
    recorded = {"module": "m.py", "mutants": 10, "killed": 6, "timeout": 1, "survived": 3, "no_tests": 0,
                "suspicious": 0, "equivalent": 0, "not_checked": 0, "score": 0.7,
                "survivors": [{"mutant": "m.x_f__mutmut_1", "verdict": "survived", "change": "-    a = 1\n+    a = 2"},
                              {"mutant": "m.x_f__mutmut_2", "verdict": "survived", "change": "-    b = 1\n+    b = 3"},
                              {"mutant": "m.x_f__mutmut_3", "verdict": "survived", "change": "-    c = 1\n+    c = 0"}],
                "equivalent_mutants": [], "stale_equivalent_entries": []}
    equivalent = {"mutants": {"m.x_f__mutmut_1": {"added": ["a = 2"], "reason": "why"},
                              "m.x_f__mutmut_2": {"added": ["b = 4"], "reason": "another change"}},
                  "rules": []}
    out = mutation.rejudge(recorded, equivalent)
    assert [s["mutant"] for s in out["survivors"]] == ["m.x_f__mutmut_2", "m.x_f__mutmut_3"]
    assert out["survived"] == 2 and out["equivalent"] == 1
    assert out["score"] == round(7 / 9, 4)                              # killed + timeout over the rest
    assert out["stale_equivalent_entries"] == ["m.x_f__mutmut_2"]
    assert out["equivalent_mutants"] == [{"mutant": "m.x_f__mutmut_1", "change": "-    a = 1\n+    a = 2",
                                          "reason": "why"}]
    assert recorded["survived"] == 3 and len(recorded["survivors"]) == 3  # the record itself is left as it was
    # an entry taken out of the file: the mutant it covered is a survivor again
    again = mutation.rejudge(out, {"mutants": {}, "rules": []})
    assert again["equivalent"] == 0 and again["survived"] == 3 and again["score"] == 0.7
    assert sorted(s["mutant"] for s in again["survivors"]) == ["m.x_f__mutmut_1", "m.x_f__mutmut_2",
                                                                "m.x_f__mutmut_3"]
