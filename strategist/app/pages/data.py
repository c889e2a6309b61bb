"""Data: the demo by default, ShuttleSet built in; uploaded files (strokes with their match list, or a zip of a
folder), or a file or folder inside the data folders this server allows."""

import re

import pandas as pd
import streamlit as st

from strategist.app import common, paths, uploads
from strategist.app.text import md, plural
from strategist.data.detect import LAYOUTS
from strategist.errors import StrategistError
from strategist.scout.text import rally_words

SOURCES = ["Built-in demo", "ShuttleSet (94 real matches)", "Upload files", "A file or folder on this server"]
BUILT_IN = {SOURCES[0]: common.DEMO, SOURCES[1]: common.SHUTTLESET}


def _choose_upload() -> None:
    generation = st.session_state.get("upload_generation", 0)     # a new uploader lets go of the files it held
    files = st.file_uploader(
        f"Rally data: one file, several files together (strokes and their match list, e.g. ShuttleSet's "
        f"strokes.csv.gz with matches_shuttleset.csv, and the sport file of your own shot labels, .toml or "
        f".json) or a zip of a folder; CSV, CSV.GZ, ZIP, TOML or JSON, at most {common.MAX_UPLOAD_MB} MB each "
        f"and {uploads.MAX_FILES} files", type=["csv", "gz", "zip", "toml", "json"],
        accept_multiple_files=True, key=f"upload{generation or ''}")
    if not files:
        return
    if len(files) > uploads.MAX_FILES:
        raise common.PageError(f"{len(files)} files: at most {uploads.MAX_FILES} may be uploaded together")
    named = [(f.name, f.getvalue()) for f in files]
    folder = uploads.save_uploads(named)
    stored = [p for p in folder.iterdir() if p.name != uploads.LABEL_FILE]
    target = stored[0] if len(stored) == 1 and stored[0].is_file() else folder
    try:
        key = common.path_key(str(target))
        common.load(key)  # a bad file stops here with its message; the data in use stay as they were
    except StrategistError as exc:  # name the files as the visitor knows them, not their stored copies
        uploads.discard(folder)
        message = str(exc).replace(str(target), " + ".join(n for n, _ in named)).replace(str(folder), "the upload")
        raise common.PageError(message) from None
    common.set_data_key(key)
    st.session_state["upload_generation"] = generation + 1    # the data are on disk: free the session's copy
    st.rerun()


def _choose_path() -> None:
    text = st.text_input("Path of a data file or folder (inside the data folders below)", key="data_path",
                         placeholder="/srv/rallies/badminton_shuttleset")
    if text.strip():
        key = common.path_key(text.strip())
        common.load(key)
        common.set_data_key(key)


def _choose() -> None:
    current = common.data_key()
    if "data_source" not in st.session_state:   # e.g. after a reload: show what is in use
        chosen = {v: k for k, v in BUILT_IN.items()}.get(current)
        st.session_state["data_source"] = chosen or SOURCES[3]
        if chosen is None and not current[1].startswith(str(paths.upload_root())):
            st.session_state.setdefault("data_path", current[1])
    if "data_note" in st.session_state:
        st.warning(st.session_state.pop("data_note"))
    source = st.radio("Source", SOURCES, horizontal=True, key="data_source")
    with common.guard():
        if source in BUILT_IN:
            common.set_data_key(BUILT_IN[source])
        elif source == "Upload files":
            _choose_upload()
        else:
            _choose_path()
    with st.expander("Data folders"):
        st.caption("Paths typed here or named in the address (?data=) are opened only inside these folders: the "
                   "data built in, the upload folder, and those the operator lists in STRATEGIST_DATA_ROOTS or "
                   "in .streamlit/secrets.toml (data_roots).")
        st.text("\n".join(str(p) for p in paths.data_roots()))


def _as_uploaded(text: str) -> str:
    """``text`` with the server's upload folders left out: a visitor reads the names of the files they sent."""
    root = str(paths.upload_root())
    return re.sub(re.escape(root) + r"[/\\][^/\\]+[/\\]", "", text)


def _skipped(report, words: tuple = ("rally", "rallies")) -> None:
    st.subheader("What was skipped, and why")
    if report.ok and not report.notes:
        st.success(f"Nothing skipped: every one of {report.rows_read:,} rows was kept.")
        return
    st.write(f"{plural(report.rallies_rejected, *words)} skipped ({report.rows_rejected:,} of "
             f"{report.rows_read:,} rows).")
    if report.counts:
        rows = [{"reason": reason, words[1]: n,
                 "first example": _as_uploaded(str((report.examples.get(reason) or [""])[0]))}
                for reason, n in sorted(report.counts.items(), key=lambda kv: -kv[1])]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for note in report.notes:
        st.info(md(note))


def _in_use() -> None:
    result = common.loaded()
    table = result.table
    st.subheader(f"In use: {md(common.data_label(common.data_key()))}")
    c = st.columns(5)
    c[0].metric("Sport", result.sport.name)
    c[1].metric("Strokes", f"{len(table):,}")
    words = rally_words(result.sport)
    c[2].metric(words[1].capitalize(), f"{table['rally_id'].nunique():,}")
    c[3].metric("Matches", f"{table['match_id'].nunique():,}")
    c[4].metric("Players", f"{len(common.players(result))}")
    st.caption(f"Layout: {LAYOUTS[result.layout].description}")
    if result.sport.extends is not None:
        st.caption(f"Shot labels: your own ({len(result.sport.shots)} shots: "
                   f"{md(', '.join(result.sport.shots))}), on the rules of {result.sport.extends}")
    _skipped(result.rejections, words)
    per = table.groupby("hitter", observed=True).agg(strokes=("stroke", "size"), matches=("match_id", "nunique"))
    st.subheader("Players")
    st.dataframe(per.sort_values("strokes", ascending=False).rename_axis("player"), width="stretch")


def render() -> None:
    st.title("Data")
    st.caption("The data the advice rests on. The built-in demo is used until you choose other data.")
    _choose()
    with common.guard():
        _in_use()


render()
