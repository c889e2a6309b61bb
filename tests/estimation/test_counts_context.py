"""Contexts of decision points (strategist.estimation.counts): how text, mappings and tuples are read, what is
refused, and how a context describes itself."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.errors import EstimationError
from strategist.estimation.counts import Context, parse_context, split_kind


@pytest.mark.parametrize("context, text", [
    (Context(), "all strokes"),
    (Context(phase="rally"), "phase rally"),
    (Context(side="left"), "left court"),
    (Context(serve=2), "serve 2"),
    (Context(previous="lob"), "after lob"),
    (Context(first=4, last=4), "stroke 4"),
    (Context(first=3), "stroke >= 3"),
    (Context(first=2, last=5), "strokes 2-5"),
    (Context(last=5), "strokes 1-5"),
    (Context(previous="smash", first=1, last=2, phase="rally", side="right", serve=1),
     "phase rally, right court, serve 1, after smash, strokes 1-2"),
])
def test_a_context_describes_each_of_its_parts_in_order(context, text):
    """describe() names phase, side, serve, previous shot and stroke range, in that order, joined by commas."""
    assert context.describe() == text


def test_nothing_or_a_context_is_returned_as_a_context():
    """None gives the empty context; a Context is returned as it is."""
    assert parse_context() == Context() and parse_context(None) == Context()
    ctx = Context(previous="lob", first=2)
    assert parse_context(ctx) is ctx


def test_text_items_split_on_commas_and_semicolons_with_spaces_trimmed():
    """'k=v' items are split on ',' and ';', empty items skipped, keys and values stripped; only the first '='
    splits an item."""
    ctx = parse_context("  phase = Rally ;; previous =  lob , stroke= 2 - 5 ,side = LEFT; serve = 1 ")
    assert ctx == Context(previous="lob", first=2, last=5, phase="rally", side="left", serve=1)
    assert parse_context("previous=a=b").previous == "a=b"
    assert parse_context("") == Context()


@pytest.mark.parametrize("spec", ["previous", "phase=rally, stroke"])
def test_a_text_item_without_equals_is_refused(spec):
    """An item that is not key=value is an error naming the item."""
    with pytest.raises(EstimationError, match="is not key=value"):
        parse_context(spec)


@pytest.mark.parametrize("spec", [3, ["phase", "rally"], ("stroke", 2)])
def test_a_context_of_another_type_is_refused(spec):
    """Only None, a Context, text or a dict is a context."""
    with pytest.raises(EstimationError, match="is not understood"):
        parse_context(spec)


def test_unknown_keys_are_refused():
    with pytest.raises(EstimationError, match=r"unknown context keys \['shot'\]"):
        parse_context({"shot": "lob", "phase": "rally"})


@pytest.mark.parametrize("stroke, first, last", [
    ("4", 4, 4), (" 4 ", 4, 4), ("2-5", 2, 5), ("2 - 5", 2, 5), ("3+", 3, None), ("3 +", 3, None),
    ("3-", 3, None), ("12-12", 12, 12), (7, 7, 7), (np.int64(6), 6, 6), ((2, 9), 2, 9), ([3, None], 3, None),
    ((1, "4"), 1, 4),
])
def test_stroke_ranges_in_every_form(stroke, first, last):
    """A stroke is one number, a range a-b, an open range a+ or a-, an integer, or a (first, last) pair."""
    ctx = parse_context({"stroke": stroke})
    assert (ctx.first, ctx.last) == (first, last)


@pytest.mark.parametrize("stroke", ["0", "5-3", (0, 2), (4, 3), "x", "2-5-7", "+3", True, (1, 2, 3)])
def test_empty_or_unreadable_stroke_ranges_are_refused(stroke):
    """Strokes count from 1 and a range may not end before it starts; a bool is not a stroke number."""
    with pytest.raises(EstimationError, match="stroke"):
        parse_context({"stroke": stroke})


def test_a_range_ending_where_it_starts_is_one_stroke():
    assert parse_context({"stroke": (1, 1)}) == Context(first=1, last=1)
    assert parse_context({"stroke": "1"}) == Context(first=1, last=1)


def test_phase_is_read_in_lower_case_and_checked():
    assert parse_context({"phase": " SERVE "}).phase == "serve"
    assert parse_context("phase=Return").phase == "return"
    with pytest.raises(EstimationError, match="phase"):
        parse_context({"phase": "volley"})


def test_serve_numbers_are_read_and_checked():
    """A serve is a whole number >= 1 (text or number); anything else is refused."""
    assert parse_context({"serve": " 2 "}).serve == 2
    assert parse_context({"serve": 1}).serve == 1
    for bad in ("0", "-1", "first", "1.5"):
        with pytest.raises(EstimationError, match="serve number"):
            parse_context({"serve": bad})


def test_side_and_previous_are_trimmed_and_empty_means_any():
    """side is lower-cased; previous keeps its letter case; an empty value is no condition."""
    ctx = parse_context({"side": " Ad ", "previous": " Net Shot "})
    assert (ctx.side, ctx.previous) == ("ad", "Net Shot")
    assert parse_context({"side": "", "previous": ""}) == Context()
    assert parse_context({"previous": None, "side": None, "stroke": None}) == Context()


@pytest.mark.parametrize("kind, allowed, expected", [
    ("group:track2", ("shot", "group"), ("group", "track2")),
    (" Group : tactic ", ("shot", "group"), ("group", "tactic")),
    ("shot", ("shot", "group"), ("shot", None)),
    ("reply:", ("reply",), ("reply", None)),
    ("reply:a:b", ("reply",), ("reply", "a:b")),
])
def test_split_kind_separates_the_kind_from_its_detail(kind, allowed, expected):
    """The kind before the first ':' (trimmed, lower case) and the detail after it (None when empty)."""
    assert split_kind(kind, allowed, "rows") == expected


def test_split_kind_refuses_a_kind_not_allowed():
    with pytest.raises(EstimationError, match="rows 'area:x' is not one of"):
        split_kind("area:x", ("shot", "group"), "rows")
