"""ShuttleSet badminton strokes -> canonical table.

Two layouts: the combined ``strokes.csv(.gz)`` (columns ``match_id`` and ``set`` in front) and the upstream
per-set files ``set/<match>/set<k>.csv`` with ``set/match.csv``. Shot labels (Chinese or English) go
through the badminton definition. Player names come from the match files (``matches_*.csv`` or
``match.csv`` next to the data: ``video`` = match id, ``winner`` = A, ``loser`` = B) or from ``winner`` /
``loser`` columns of the strokes file; failing both, ``player A`` / ``player B`` with a note (A is the
match winner there, so never a feature).

Score before rally r = score after rally r-1 (``roundscore_*`` already include the rally's point); 0-0 for
rally 1; where rally r-1 is missing from the data, the score after r less the point r's winner won (NA if
r's winner is unknown). Winner = ``getpoint_player`` (NA when no row records it); server = hitter of the
rally's first stroke; the server serves from the right court when their score is even. Positions and
landing points in metres (``*_x_m``, ``*_y_m``) come through the match's homography from the
``homography*.csv`` files beside the data (:mod:`strategist.data.court`); the demo's rows
(``source`` strategist_demo) are in court units already; other matches keep them NA. A rally that breaks
the order of play (:mod:`strategist.data.order`: a serve after its start, one player hitting twice in a row,
more than 1,000 strokes) is rejected.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.data import court
from strategist.data.cells import blank, int_range, to_code, to_flag, to_float, to_int, to_label
from strategist.data.checks import RallyChecks
from strategist.data.order import check_order
from strategist.data.readcsv import ReadLimits, header, read_strings
from strategist.data.rejections import RejectionReport
from strategist.data.schema import conform, empty_table
from strategist.errors import DataFormatError
from strategist.sports import get_sport

LAYOUT = "shuttleset"
LAYOUT_SETS = "shuttleset-sets"

#: Columns a per-set file must have (the combined file adds ``match_id`` and ``set``).
REQUIRED = ("rally", "ball_round", "roundscore_A", "roundscore_B", "player", "type", "getpoint_player")
OPTIONAL = ("lose_reason", "landing_area", "landing_height", "player_location_area", "opponent_location_area",
            "player_location_x", "player_location_y", "opponent_location_x", "opponent_location_y",
            "landing_x", "landing_y", "backhand", "aroundhead", "flaw")
#: Columns read (others are ignored); ``time`` and ``frame_num`` only help tell repeated rows apart.
READ = ("match_id", "set") + REQUIRED + OPTIONAL + ("winner", "loser", "time", "frame_num", "source")
_MATCH_FILES = ("matches*.csv", "matches*.csv.gz", "match.csv")
_SET_FILE = re.compile(r"^set(\d+)\.csv(\.gz)?$")


# -- entry points ------------------------------------------------------------------------------------------
def load_strokes(paths, *, strict: bool = False, limits: ReadLimits | None = None
                 ) -> tuple[pd.DataFrame, RejectionReport]:
    """Load one or more combined ShuttleSet strokes files (``strokes.csv.gz`` layout); ``limits`` caps each."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    report = RejectionReport()
    tables = []
    for path in paths:
        raw, too_long = read_strings(path, READ, limits=limits)
        _require(raw, ("match_id", "set") + REQUIRED, path)
        names = _names_from_frame(raw) or match_names(_match_files(path.parent))
        tables.append(strokes_to_table(raw, names, path=path, strict=strict, report=report, source=LAYOUT,
                                       too_long=[(row, fields, _key_of(fields)) for row, fields in too_long],
                                       mappings=_court_mappings([path.parent], report)))
    return (pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]), report


def load_sets(paths, *, strict: bool = False, limits: ReadLimits | None = None
              ) -> tuple[pd.DataFrame, RejectionReport]:
    """Load upstream per-set files; each path is a ``set`` folder (with ``match.csv``), a match folder or
    a ``set<k>.csv`` file."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    files = [f for p in paths for f in set_files(p)]
    if not files:
        raise DataFormatError("no set<k>.csv files found; expected set/<match>/set1.csv ...", path=paths[0])
    frames, too_long = [], []
    for file in files:
        raw, long_rows = read_strings(file, READ, limits=limits)
        _require(raw, REQUIRED, file)
        raw.insert(1, "_path", str(file))
        raw["match_id"] = file.parent.name
        raw["set"] = _SET_FILE.match(file.name).group(1).lstrip("0") or "0"
        frames.append(raw)
        set_no = _SET_FILE.match(file.name).group(1)
        too_long += [(row, fields, _key_of({**fields, "match_id": file.parent.name, "set": set_no}), file)
                     for row, fields in long_rows]
    raw = pd.concat(frames, ignore_index=True)
    roots = {f.parent.parent for f in files} | {f.parent for f in files}
    names = _names_from_frame(raw) or match_names([m for root in sorted(roots) for m in _match_files(root)])
    report = RejectionReport()
    table = strokes_to_table(raw, names, path=paths[0], strict=strict, report=report, source=LAYOUT_SETS,
                             too_long=too_long, mappings=_court_mappings(sorted(roots), report))
    return table, report


def set_files(path: Path) -> list[Path]:
    """The per-set files under ``path`` (a set file, a match folder, or a folder of match folders)."""
    if not path.exists():
        raise DataFormatError("no such file or folder", path=path)
    if path.is_file():
        return [path] if _SET_FILE.match(path.name) else []
    own = sorted(p for p in path.iterdir() if p.is_file() and _SET_FILE.match(p.name))
    if own:
        return own
    return sorted(p for d in sorted(path.iterdir()) if d.is_dir()
                  for p in d.iterdir() if p.is_file() and _SET_FILE.match(p.name))


# -- a look-alike strategist does not read ------------------------------------------------------------------
#: Columns of the CoachAI Track-2 (stroke forecasting) files that ShuttleSet itself does not have.
TRACK2_COLUMNS = frozenset({"rally_id", "rally_length"})
TRACK2_GT_COLUMNS = frozenset({"rally_id", "ball_round", "type", "landing_x", "landing_y"})
TRACK2_HINT = ("this is the CoachAI Track-2 layout (anonymous integer player ids, shot types merged to 10 "
               "classes, getpoint_player = the match winner), which strategist does not read; load "
               "ShuttleSet's strokes.csv.gz instead")


def track2_hint(files) -> str | None:
    """:data:`TRACK2_HINT` when any of ``files`` has the header of a CoachAI Track-2 file, else None."""
    for file in files:
        try:
            columns = set(header(file)) if Path(file).is_file() else set()
        except DataFormatError:
            continue
        if TRACK2_COLUMNS <= columns or (TRACK2_GT_COLUMNS <= columns and "player" not in columns):
            return TRACK2_HINT
    return None


# -- player names -----------------------------------------------------------------------------------------
def _match_files(folder: Path) -> list[Path]:
    return sorted({p for pattern in _MATCH_FILES for p in folder.glob(pattern)})


def match_names(files) -> dict[str, tuple[str, str]]:
    """match id -> (name of A = winner, name of B = loser) from ShuttleSet match files (unreadable ones are
    skipped; the caller notes matches left without names)."""
    names: dict[str, tuple[str, str]] = {}
    for file in files:
        try:
            frame, _ = read_strings(file)
        except DataFormatError:
            continue
        if not {"video", "winner", "loser"} <= set(frame.columns):
            continue
        for video, winner, loser in zip(frame["video"], frame["winner"], frame["loser"]):
            if video.strip() and winner.strip() and loser.strip():
                names.setdefault(video.strip(), (winner.strip(), loser.strip()))
    return names


def _names_from_frame(raw: pd.DataFrame) -> dict[str, tuple[str, str]]:
    if not {"winner", "loser", "match_id"} <= set(raw.columns):
        return {}
    firsts = raw.loc[~blank(raw["winner"]) & ~blank(raw["loser"])].drop_duplicates("match_id")
    return {m: (w.strip(), l.strip()) for m, w, l in zip(firsts["match_id"], firsts["winner"], firsts["loser"])}


# -- conversion -------------------------------------------------------------------------------------------
def _require(raw: pd.DataFrame, columns, path) -> None:
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise DataFormatError(f"missing required column(s) {missing}; a ShuttleSet file needs {list(columns)}",
                              path=path, field=missing[0])


def _key_of(fields: dict[str, str]) -> str:
    parts = [fields.get(c, "") for c in ("match_id", "set", "rally")]
    return "|".join(parts) if all(parts) else ""


def _court_mappings(folders, report: RejectionReport) -> dict:
    """Per-match pixel -> metre mappings from the ``homography*.csv`` files in ``folders`` (problems noted)."""
    mappings: dict = {}
    for folder in folders:
        found, problems = court.read_homographies(folder)
        for problem in problems:
            report.note(problem)
        for match_id, mapping in found.items():
            mappings.setdefault(match_id, mapping)
    return mappings


def _parse_fields(raw: pd.DataFrame, checks: RallyChecks, sport) -> dict:
    """Every field of the raw strokes parsed to its type, each bad or missing value marked in ``checks``."""
    for column in ("match_id", "set", "rally", "ball_round", "player", "type", "roundscore_A", "roundscore_B"):
        checks.fail(blank(raw[column]), "missing value", column, "a value on every stroke")
    set_no, bad = to_int(raw["set"], minimum=1)
    checks.fail(bad, "bad set number", "set", int_range(1))
    rally, bad = to_int(raw["rally"], minimum=1)
    checks.fail(bad, "bad rally number", "rally", int_range(1))
    stroke, bad = to_int(raw["ball_round"], minimum=1)
    checks.fail(bad, "bad stroke number", "ball_round", int_range(1))
    is_a = (raw["player"] == "A").to_numpy()
    checks.fail(~is_a & (raw["player"] != "B").to_numpy() & ~blank(raw["player"]), "bad player label", "player",
                "A or B")
    shot, bad = to_label(raw["type"], sport.translate("shuttleset", "shot"))
    checks.fail(bad, "unknown shot type", "type", "a ShuttleSet or English badminton shot label")
    score_a, bad_a = to_int(raw["roundscore_A"], minimum=0)
    checks.fail(bad_a, "bad score", "roundscore_A", int_range(0))
    score_b, bad_b = to_int(raw["roundscore_B"], minimum=0)
    checks.fail(bad_b, "bad score", "roundscore_B", int_range(0))
    point = np.select([(raw["getpoint_player"] == "A").to_numpy(), (raw["getpoint_player"] == "B").to_numpy()],
                      [1, 0], -1)  # 1 = A won, 0 = B won, -1 = not on this row
    checks.fail((point < 0) & ~blank(raw["getpoint_player"]), "bad rally-winner label", "getpoint_player",
                "A, B or blank")
    end, bad = to_label(raw["lose_reason"], dict(sport.labels["shuttleset"]["end"]))
    checks.fail(bad, "unknown lose reason", "lose_reason", f"one of {sorted(sport.labels['shuttleset']['end'])}")
    error = raw["lose_reason"].map(dict(sport.labels["shuttleset"]["error"])).astype("string")
    areas = {}
    for column in ("landing_area", "player_location_area", "opponent_location_area"):
        areas[column], bad = to_code(raw[column], sport.areas)
        checks.fail(bad, "bad court area", column, "an area code 1-16 or blank")
    # landing_height 1 / 2: the shuttle above / below net height where it landed or was taken (the next
    # strokes say so: after 1 come clears, drops and smashes, after 2 lifts and net shots)
    height, bad = to_label(raw["landing_height"], {"1": "high", "1.0": "high", "2": "low", "2.0": "low"})
    checks.fail(bad, "bad landing height", "landing_height", "1, 2 or blank")
    coords = {}
    for column in ("player_location_x", "player_location_y", "opponent_location_x", "opponent_location_y",
                   "landing_x", "landing_y"):
        coords[column], bad = to_float(raw[column])
        checks.fail(bad, "bad coordinate", column, "a number or blank")
    flags = {}
    for column in ("backhand", "aroundhead", "flaw"):
        flags[column], bad = to_flag(raw[column])
        checks.fail(bad, "bad flag", column, "1, 0 or blank")
    return {"set": set_no, "rally": rally, "stroke": stroke, "is_a": is_a, "shot": shot, "score_a": score_a,
            "score_b": score_b, "bad_a": bad_a, "bad_b": bad_b, "point": point, "end": end, "error": error,
            "areas": areas, "height": height, "coords": coords, "flags": flags}


def strokes_to_table(raw: pd.DataFrame, names: dict[str, tuple[str, str]], *, path, strict: bool,
                     report: RejectionReport, source: str, too_long=(), mappings=None) -> pd.DataFrame:
    """Canonical table from the raw ShuttleSet string table (with ``match_id`` and ``set`` columns)."""
    sport = get_sport("badminton")
    for column in OPTIONAL:
        if column not in raw:
            raw[column] = ""
    has_key = ~(blank(raw["match_id"]) | blank(raw["set"]) | blank(raw["rally"]))
    key = np.where(has_key, (raw["match_id"] + "|" + raw["set"] + "|" + raw["rally"]).to_numpy(dtype=object), "")
    checks = RallyChecks(raw, pd.Series(key), path=path, strict=strict, report=report)
    for item in too_long:
        checks.fail_field_counts([item[:3]], path=item[3] if len(item) > 3 else None)

    f = _parse_fields(raw, checks, sport)
    set_no, rally, stroke, is_a, shot, point = (f[k] for k in ("set", "rally", "stroke", "is_a", "shot", "point"))
    score_a, score_b, bad_a, bad_b = f["score_a"], f["score_b"], f["bad_a"], f["bad_b"]

    code = pd.factorize(key)[0]
    valid = has_key & stroke.notna().to_numpy() & checks.unmarked()
    _rally_consistency(raw, code, valid, stroke, score_a, score_b, point, checks, report)
    check_order(checks, valid & ~checks.copies & checks.unmarked(), code, stroke.fillna(0), is_a, shot, sport,
                fields={"stroke": "ball_round", "hitter": "player", "shot": "type"})
    keep = checks.keep()
    usable = has_key & set_no.notna().to_numpy() & rally.notna().to_numpy() & ~bad_a & ~bad_b
    before_a, before_b, score_notes = _scores_before(code, usable, raw["match_id"], set_no, rally, score_a, score_b,
                                                     point)
    _note_score_steps(score_notes, code, keep, raw, point, report)

    frame = pd.DataFrame({
        "match_id": raw["match_id"], "set": set_no, "rally": rally, "stroke": stroke, "code": code, "is_a": is_a,
        "shot": shot, "point": point, "end": f["end"], "error": f["error"], "before_a": before_a,
        "before_b": before_b, "landing_height": f["height"],
        "in_units": raw["source"].isin(court.COURT_UNIT_SOURCES).to_numpy() if "source" in raw else False,
        **f["areas"], **f["coords"], **f["flags"],
    }).loc[keep]
    frame = frame.sort_values(["match_id", "set", "rally", "stroke"], kind="stable").reset_index(drop=True)
    return _assemble(frame, names, sport, report, source, mappings or {})


def _group_differs(code: np.ndarray, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows (among ``rows``) whose group by ``code`` holds more than one distinct value."""
    out = np.zeros(len(code), bool)
    if rows.any():
        series = pd.Series(values[rows])
        grouped = series.groupby(code[rows])
        out[rows] = (grouped.transform("min") != grouped.transform("max")).to_numpy()
    return out


def _first_in_group(codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The first true entry of ``mask`` in each run of equal ``codes`` (``codes`` grouped contiguously)."""
    out = np.zeros(len(mask), bool)
    idx = np.flatnonzero(mask)
    if len(idx):
        out[idx[np.r_[True, codes[idx][1:] != codes[idx][:-1]]]] = True
    return out


def _stray_first_strokes(code: np.ndarray, rows: np.ndarray, stroke: np.ndarray) -> np.ndarray:
    """Rows (among ``rows``) that repeat stroke 1 as the last row of a rally, after higher stroke numbers:
    a stray row (ShuttleSet has one). Any other repeated stroke number is left to reject the rally."""
    out = np.zeros(len(code), bool)
    index = np.flatnonzero(rows)
    if not len(index):
        return out
    one = stroke[index] == 1
    frame = pd.DataFrame({"code": code[index], "stroke": stroke[index], "one": one})
    ones = frame.groupby("code")["one"].transform("sum").to_numpy()
    top = frame.groupby("code")["stroke"].transform("max").to_numpy()
    last = ~pd.Series(code[index]).duplicated(keep="last").to_numpy()  # the rally's last row in the file
    # a last row numbered 1 in a rally with two 1s: the other 1 comes before it
    out[index] = last & one & (ones == 2) & (top > 1)
    return out


def _rally_consistency(raw, code, valid, stroke, score_a, score_b, point, checks: RallyChecks,
                       report: RejectionReport) -> None:
    """Rows repeating another row of the same stroke in every column read are dropped, and so is a stray
    stroke-1 row after the last stroke of a rally (both noted); conflicting stroke numbers, a gap in the stroke numbers (a lost row), a score that changes within the rally, or two
    different recorded winners reject the rally."""
    pairs = pd.DataFrame({"code": code, "stroke": stroke.fillna(-1).to_numpy()})
    same_stroke = valid & pairs.duplicated(keep=False).to_numpy()
    copy = np.zeros(len(raw), bool)
    if same_stroke.any():
        content = [c for c in raw.columns if not c.startswith("_")]
        copy[same_stroke] = raw.loc[same_stroke].duplicated(content).to_numpy()
    if copy.any():
        first = int(raw["_row"].to_numpy()[copy][0])
        if checks.strict:
            checks.offer(DataFormatError("row repeats an earlier row of the same stroke; expected one row per "
                                         "stroke", path=checks.path, line=first, field="ball_round"), across=True)
        checks.copies |= copy  # dropped without rejecting the rally: the original row is kept
        report.note(f"{int(copy.sum())} row(s) repeating an earlier row of the same stroke were dropped "
                    f"(first: line {first})")
    stray = _stray_first_strokes(code, valid & ~copy, pairs["stroke"].to_numpy())
    if stray.any():
        lines = raw["_row"].to_numpy()[stray]
        keys = pd.Series(np.asarray(checks.key, dtype=object)[stray])
        shown = ", ".join(f"line {line} ({key})" for line, key in zip(lines[:3], keys[:3]))
        if checks.strict:
            checks.offer(DataFormatError("stray row numbered stroke 1 after the end of its rally; expected one "
                                         "row per stroke", path=checks.path, line=int(lines[0]),
                                         field="ball_round"), across=True)
        checks.copies |= stray  # dropped; the rally keeps its real strokes
        report.note(f"{int(stray.sum())} stray row(s) numbered stroke 1 after the last stroke of their rally were "
                    f"dropped, the rally kept: {shown}{', ...' if len(lines) > 3 else ''}")
    copy = copy | stray
    remaining = same_stroke & ~copy
    conflict = np.zeros(len(raw), bool)
    conflict[remaining] = pairs.loc[remaining].duplicated(keep=False).to_numpy()
    checks.fail(conflict, "duplicate stroke number", "ball_round", "each stroke number once per rally", across=True)
    rows = valid & ~copy & checks.unmarked()
    if rows.any():  # the row after a gap: the first whose stroke number is not its rank in the rally
        index = np.flatnonzero(rows)
        numbers = pairs["stroke"].to_numpy()[index]
        order = np.lexsort((numbers, code[index]))
        index, numbers, codes = index[order], numbers[order], code[index][order]
        starts = np.r_[True, codes[1:] != codes[:-1]]
        rank = np.arange(len(index)) - np.maximum.accumulate(np.where(starts, np.arange(len(index)), 0)) + 1
        first_off = _first_in_group(codes, numbers != rank)
        gap = np.zeros(len(raw), bool)
        gap[index[first_off]] = True
        checks.fail(gap, "strokes missing from the rally", "ball_round", "stroke numbers 1, 2, 3, ... without gaps",
                    across=True)
    rows = valid & ~copy & checks.unmarked()
    for values, column in ((score_a, "roundscore_A"), (score_b, "roundscore_B")):
        checks.fail(_group_differs(code, values.fillna(-1).to_numpy(), rows & values.notna().to_numpy()),
                    "score changes within the rally",
                    column, "the same set score on every row of the rally", across=True)
    checks.fail(_group_differs(code, point, rows & (point >= 0)), "two different rally winners",
                "getpoint_player", "one winner per rally", across=True)


def _note_score_steps(notes: dict, code, keep, raw, point, report: RejectionReport) -> None:
    """Note kept rallies whose recorded winner is not the player the score change credits with the point,
    and those whose score does not change by one point from the rally before."""
    kept = set(code[keep].tolist())
    for name, what in (("contradicts", "whose getpoint_player contradicts the change of score from the rally "
                                       "before (kept; the winner is taken from getpoint_player)"),
                       ("odd_step", "whose score does not change by exactly one point from the rally before "
                                    "(kept)")):
        found = sorted(notes[name] & kept)
        if not found:
            continue
        shown = []
        for c in found[:3]:
            winner = {1: "A", 0: "B"}.get(int(point[code == c].max()), "none")
            row = int(np.flatnonzero(code == c)[0])
            key = "|".join(str(raw[column].iat[row]) for column in ("match_id", "set", "rally"))
            shown.append(f"{key} ({notes['text'].get(c, '?')}, getpoint_player {winner})")
        report.note(f"{len(found)} rallies {what}: e.g. " + "; ".join(shown) + ("; ..." if len(found) > 3 else ""))


def _scores_before(code, usable, match_id, set_no, rally, score_a, score_b, point):
    """Per row: A's and B's set score before its rally (see the module docstring)."""
    n = len(code)
    out_a = np.full(n, np.nan)
    out_b = np.full(n, np.nan)
    if not usable.any():
        return (pd.array(out_a, dtype="Float64").astype("Int64"), pd.array(out_b, dtype="Float64").astype("Int64"),
                {"contradicts": set(), "odd_step": set(), "text": {}})
    rows = np.flatnonzero(usable)
    first = rows[np.unique(code[rows], return_index=True)[1]]  # first row of each rally
    won = pd.Series(point[rows]).groupby(code[rows]).max().reindex(code[first]).to_numpy()  # 1/0/-1
    m = pd.factorize(match_id.to_numpy()[first])[0]
    s = set_no.to_numpy(dtype=float, na_value=np.nan)[first]
    r = rally.to_numpy(dtype=float, na_value=np.nan)[first]
    a = score_a.to_numpy(dtype=float, na_value=np.nan)[first]
    b = score_b.to_numpy(dtype=float, na_value=np.nan)[first]
    order = np.lexsort((r, s, m))
    m, s, r, a, b, won, first = m[order], s[order], r[order], a[order], b[order], won[order], first[order]
    same_set = np.r_[False, (m[1:] == m[:-1]) & (s[1:] == s[:-1])]
    consecutive = same_set & (np.r_[np.nan, r[:-1]] == r - 1)
    prev_a, prev_b = np.r_[np.nan, a[:-1]], np.r_[np.nan, b[:-1]]
    won_a = np.where(won < 0, np.nan, won)
    bef_a = np.where(r == 1, 0, np.where(consecutive, prev_a, a - won_a))
    bef_b = np.where(r == 1, 0, np.where(consecutive, prev_b, b - (1 - won_a)))
    # the score change from the rally before says who won; compare it with the recorded winner
    step_a, step_b = a - np.where(r == 1, 0, prev_a), b - np.where(r == 1, 0, prev_b)
    checkable = (r == 1) | consecutive
    one_point = checkable & (((step_a == 1) & (step_b == 0)) | ((step_a == 0) & (step_b == 1)))
    contradicts = one_point & (won >= 0) & ((step_a == 1) != (won == 1))
    odd_step = checkable & ~one_point & ~(np.isnan(step_a) | np.isnan(step_b))
    bad = (bef_a < 0) | (bef_b < 0)
    bef_a[bad] = np.nan
    bef_b[bad] = np.nan
    per_rally_a = np.full(code.max() + 1, np.nan)
    per_rally_b = np.full(code.max() + 1, np.nan)
    per_rally_a[code[first]] = bef_a
    per_rally_b[code[first]] = bef_b
    out_a[rows] = per_rally_a[code[rows]]
    out_b[rows] = per_rally_b[code[rows]]
    noted = contradicts | odd_step  # the score change, in words, of the rallies a note may show
    score_notes = {"contradicts": set(code[first][contradicts].tolist()), "odd_step": set(code[first][odd_step].tolist()),
                   "text": {int(c): f"{int(pa)}-{int(pb)} -> {int(na)}-{int(nb)}" for c, pa, pb, na, nb in
                            zip(code[first][noted], np.where(r == 1, 0, prev_a)[noted],
                                np.where(r == 1, 0, prev_b)[noted], a[noted], b[noted])
                            if not (np.isnan(pa) or np.isnan(pb) or np.isnan(na) or np.isnan(nb))}}
    return _whole(out_a), _whole(out_b), score_notes


def _metres(frame: pd.DataFrame, mappings: dict, is_a: np.ndarray, rally_of_row: np.ndarray) -> dict:
    """Positions in metres (:mod:`strategist.data.court`): through the match's homography, or the court-unit
    mapping for sources that record court units; matches with neither stay NaN."""
    mappings = dict(mappings)
    for match_id in pd.unique(frame["match_id"].to_numpy()[frame["in_units"].to_numpy()]):
        mappings.setdefault(match_id, court.court_units_mapping(match_id))
    return court.side_positions(mappings, frame["match_id"].to_numpy(dtype=object), rally_of_row, is_a, {
        "hitter": (frame["player_location_x"], frame["player_location_y"]),
        "opponent": (frame["opponent_location_x"], frame["opponent_location_y"]),
        "landing": (frame["landing_x"], frame["landing_y"])})


def _labels(labels: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Text column of ``labels[code]`` per row (code -1: missing), taken in Arrow rather than built from objects."""
    return pd.array(labels, dtype="string").take(codes, allow_fill=True)


def _whole(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole numbers held as floats (NaN = missing) as a nullable integer array, without a pass through Python."""
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _player_codes(frame: pd.DataFrame, names, report: RejectionReport):
    """(names, code of each row's player A, of player B): one list of names (A of each match, then B of each),
    taken into Arrow text at the end; matches without names get 'player A' / 'player B' (noted)."""
    match_codes, match_ids = pd.factorize(frame["match_id"])
    match_ids = [str(m) for m in match_ids]
    unnamed = [m for m in match_ids if m not in names]
    names = dict(names)
    if unnamed:
        for m in unnamed:
            names[m] = ("player A", "player B") if len(match_ids) == 1 else (f"player A [{m}]", f"player B [{m}]")
        report.note(f"no player names for {len(unnamed)} match(es) (no matches_*.csv / match.csv with "
                    f"video, winner, loser next to the data): players are named 'player A' / 'player B'; "
                    f"A is the match winner, so these labels must not be used as features")
    players = pd.array([names[m][0] for m in match_ids] + [names[m][1] for m in match_ids], dtype="string")
    return players, match_codes, match_codes + len(match_ids)


def _note_winners(end, known, first_row, won, is_a, sport, report: RejectionReport) -> None:
    """Notes on rallies without a recorded winner and on lose reasons that contradict the recorded winner."""
    no_winner = int((~known[first_row]).sum())
    if no_winner:
        report.note(f"{no_winner} rallies have no recorded winner: kept, winner NA")
    hitter_should_win = end.isin([e for e, who in sport.endings.items() if who == "hitter"]).to_numpy(dtype=bool)
    disagree = end.notna().to_numpy() & known & (hitter_should_win != ((won == 1) == is_a))
    if disagree.any():
        report.note(f"{int(disagree.sum())} rallies whose lose_reason disagrees with getpoint_player: "
                    f"the winner is taken from getpoint_player")


def _assemble(frame: pd.DataFrame, names, sport, report: RejectionReport, source: str, mappings) -> pd.DataFrame:
    if frame.empty:
        return empty_table()
    players, name_a, name_b = _player_codes(frame, names, report)
    is_a = frame["is_a"].to_numpy()

    code = frame["code"].to_numpy()
    starts = np.r_[True, code[1:] != code[:-1]]  # rallies are contiguous, strokes ascending
    rally_of_row = np.cumsum(starts) - 1
    first_row = np.flatnonzero(starts)
    server_is_a = is_a[first_row][rally_of_row]
    point = frame["point"].to_numpy()
    won = np.full(len(first_row), -1)
    has = point >= 0
    np.maximum.at(won, rally_of_row[has], point[has])
    won = won[rally_of_row]
    known = won >= 0
    winner = np.where(known, np.where(won == 1, name_a, name_b), -1)
    hitter_won = pd.array(np.where(known, (won == 1) == is_a, False), dtype="boolean")
    hitter_won[~known] = pd.NA

    before_a = frame["before_a"].to_numpy(dtype=float, na_value=np.nan)
    before_b = frame["before_b"].to_numpy(dtype=float, na_value=np.nan)
    server_score = np.where(server_is_a, before_a, before_b)
    side = np.where(np.isnan(server_score), -1, np.nan_to_num(server_score) % 2 != 0)

    end = frame["end"]
    _note_winners(end, known, first_row, won, is_a, sport, report)

    table = pd.DataFrame({
        "sport": sport.name, "source": source, "match_id": frame["match_id"], "set": frame["set"],
        "rally": frame["rally"],
        "rally_id": frame["match_id"] + "|" + frame["set"].astype("string") + "|" + frame["rally"].astype("string"),
        "stroke": frame["stroke"], "hitter": players.take(np.where(is_a, name_a, name_b)),
        "opponent": players.take(np.where(is_a, name_b, name_a)), "shot": frame["shot"],
        "wing": _labels(["forehand", "backhand"], frame["backhand"].to_numpy().astype(np.int64)),
        "landing_area": frame["landing_area"], "landing_height": frame["landing_height"],
        "hitter_area": frame["player_location_area"],
        "opponent_area": frame["opponent_location_area"],
        "hitter_x": frame["player_location_x"], "hitter_y": frame["player_location_y"],
        "opponent_x": frame["opponent_location_x"], "opponent_y": frame["opponent_location_y"],
        "server": players.take(np.where(server_is_a, name_a, name_b)), "serve_number": 1,
        "court_side": _labels(list(sport.court_sides), side.astype(np.int64)),
        "hitter_score": _whole(np.where(is_a, before_a, before_b)),
        "opponent_score": _whole(np.where(is_a, before_b, before_a)),
        "winner": players.take(winner, allow_fill=True), "hitter_won": hitter_won,
        "error": frame["error"].where(end == "error"), "end": end,
        "tags": _labels(["around head"], np.where(frame["aroundhead"].to_numpy(), 0, -1)),
        "flagged": frame["flaw"].to_numpy(),
        **_metres(frame, mappings, is_a, rally_of_row),
        # what badminton has not, as missing values of the column's type (conform would fill them row by row)
        "game": _whole(np.full(len(frame), np.nan)), "depth": _labels([], np.full(len(frame), -1)),
        "hitter_games": _whole(np.full(len(frame), np.nan)), "opponent_games": _whole(np.full(len(frame), np.nan)),
    })
    return conform(table, where=str(source))
