"""A report given the data set's situations (``annotated=``, made once per data set) equals the report that
reads them itself; an annotation of another table is refused with what was expected."""

from __future__ import annotations

import warnings

import pytest

from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.errors import ReportError
from strategist.rally.model import situation_annotation
from strategist.report import build_report
from strategist.report.match import select_match


@pytest.fixture(scope="module")
def table():
    return load_rallies(demo_path()).table


def test_the_populations_situations_are_the_tables_outside_the_match(table):
    """The population's situations taken from the table's annotation equal those read from the population."""
    match_id = list(dict.fromkeys(table["match_id"]))[2]
    md = select_match(table, match_id, annotated=situation_annotation(table))
    given = md._shared["annotated_population"]
    assert (given["match_id"] != match_id).all() and len(given) == len(md.population)
    assert given.equals(situation_annotation(md.population))


def test_a_report_with_the_data_sets_situations_is_the_same_report(table):
    """Every number of the report is the same with the annotation given and without it."""
    match_id = list(dict.fromkeys(table["match_id"]))[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = build_report(table, match_id).to_dict()
        shared = build_report(table, match_id, annotated=situation_annotation(table)).to_dict()
    for key in ("summary", "decisions", "opponent", "minimax", "win_probability"):
        assert shared[key] == alone[key], key


def test_an_annotation_of_another_table_is_refused(table):
    """Rows that do not match the table's strokes: one error naming the argument and the expected rows."""
    short = situation_annotation(table).iloc[:100]
    with pytest.raises(ReportError, match=rf"annotated: expected situation_annotation\(\) of the table's "
                                          rf"{len(table)} strokes, got 100 rows"):
        select_match(table, annotated=short)
    with pytest.raises(ReportError, match="got list"):
        select_match(table, annotated=[1, 2, 3])
