"""Fuzz the data loaders: random bytes, fuzzed CSVs in every layout, plain and gzip-compressed.

A load either returns a valid canonical table (numbers within their bounds) or raises a StrategistError.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategist.data.load import load_rallies
from strategist.data.schema import validate
from strategist.errors import StrategistError

from .strategies import LAYOUT_COLUMNS, csv_text, gzipped

FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
_NAMES = {"shuttleset": "strokes.csv", "slam-pbp": "2099-test-points.csv", "mcp": "charting-points.csv",
          "canonical": "rallies.csv"}


def _load_checked(path, strict: bool) -> None:
    try:
        result = load_rallies(path, strict=strict)
    except StrategistError:
        return
    table = result.table
    validate(table, where=str(path))
    assert len(table) > 0
    for column, low in (("set", 1), ("rally", 1), ("stroke", 1), ("hitter_score", 0), ("opponent_score", 0),
                        ("serve_number", 1)):
        values = table[column].dropna().to_numpy(dtype=np.int64)
        assert (values >= low).all() and (values <= 10 ** 9).all(), (column, values.min(), values.max())
    assert table.groupby("rally_id").size().max() <= 1000


@FUZZ
@given(prefix=st.sampled_from([b"", b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b"match_id,set\n", b"\x1f\x8b"]),
       data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".csv.gz"]), compress=st.booleans(),
       strict=st.booleans())
def test_random_bytes(tmp_path_factory, prefix, data, suffix, compress, strict):
    path = tmp_path_factory.mktemp("bytes") / f"strokes{suffix}"
    path.write_bytes(gzipped(prefix + data) if compress else prefix + data)
    _load_checked(path, strict)


@FUZZ
@given(case=st.sampled_from(sorted(LAYOUT_COLUMNS)).flatmap(lambda lay: st.tuples(st.just(lay), csv_text(lay))),
       compress=st.booleans(), strict=st.booleans())
def test_fuzzed_csv_in_each_layout(tmp_path_factory, case, compress, strict):
    layout, data = case
    name = _NAMES[layout] + (".gz" if compress else "")
    path = tmp_path_factory.mktemp(layout) / name
    path.write_bytes(gzipped(data) if compress else data)
    _load_checked(path, strict)


@FUZZ
@given(data=csv_text("shuttleset"), strict=st.booleans())
def test_fuzzed_shuttleset_set_folder(tmp_path_factory, data, strict):
    root = tmp_path_factory.mktemp("sets")
    match = root / "set" / "Ann_Bea_Open"
    match.mkdir(parents=True)
    (match / "set1.csv").write_bytes(data)
    (root / "set" / "match.csv").write_text("id,video,winner,loser\n1,Ann_Bea_Open,Ann,Bea\n")
    _load_checked(root / "set", strict)
