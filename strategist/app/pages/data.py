"""Data: the demo by default; an upload in any supported layout, or a file or folder on this machine."""

import pandas as pd
import streamlit as st

from strategist.app import common
from strategist.data.detect import LAYOUTS
from strategist.errors import StrategistError

st.title("Data")
st.caption("Which rallies the advice rests on. The built-in demo is used until you choose other data.")

SOURCES = ["Built-in demo", "Upload a file", "A file or folder on this machine"]
current = common.data_key()
if current != common.DEMO and "data_source" not in st.session_state:   # e.g. after a reload: show what is in use
    st.session_state["data_source"] = SOURCES[2]
    st.session_state.setdefault("data_path", current[1])
if "data_note" in st.session_state:
    st.warning(st.session_state.pop("data_note"))
source = st.radio("Source", SOURCES, horizontal=True, key="data_source")
with common.guard():
    if source == "Built-in demo":
        common.set_data_key(common.DEMO)
    elif source == "Upload a file":
        upload = st.file_uploader(f"A rally data file (CSV or CSV.GZ, at most {common.MAX_UPLOAD_MB} MB)",
                                  type=["csv", "gz"], key="upload")
        if upload is not None:
            key = common.save_upload(upload.name, upload.getvalue())
            try:
                common.load(key)  # a bad file stops here with its message; the data in use stay as they were
            except StrategistError as exc:  # name the file as the user knows it, not its temporary copy
                raise common.PageError(str(exc).replace(key[1], upload.name)) from None
            common.set_data_key(key)
    else:
        path = st.text_input("Path of a data file or folder", key="data_path",
                             placeholder="../shared/data/badminton_shuttleset/strokes.csv.gz")
        if path.strip():
            key = common.path_key(path.strip())
            common.load(key)
            common.set_data_key(key)

with common.guard():
    result = common.loaded()
    table = result.table
    st.subheader(f"In use: {common.data_label(common.data_key())}")
    c = st.columns(5)
    c[0].metric("Sport", result.sport.name)
    c[1].metric("Strokes", f"{len(table):,}")
    c[2].metric("Rallies", f"{table['rally_id'].nunique():,}")
    c[3].metric("Matches", f"{table['match_id'].nunique():,}")
    c[4].metric("Players", f"{len(common.players(result))}")
    st.caption(f"Layout: {LAYOUTS[result.layout].description}")
    report = result.rejections
    st.subheader("What was skipped, and why")
    if report.ok and not report.notes:
        st.success(f"Nothing skipped: every one of {report.rows_read:,} rows was kept.")
    else:
        st.write(f"{report.rallies_rejected:,} rallies skipped ({report.rows_rejected:,} of {report.rows_read:,} rows).")
        if report.counts:
            rows = []
            for reason, n in sorted(report.counts.items(), key=lambda kv: -kv[1]):
                example = report.examples.get(reason, [])
                rows.append({"reason": reason, "rallies": n, "first example": str(example[0]) if example else ""})
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        for note in report.notes:
            st.info(note)
    per = table.groupby("hitter").agg(strokes=("stroke", "size"), matches=("match_id", "nunique"))
    st.subheader("Players")
    st.dataframe(per.sort_values("strokes", ascending=False), width="stretch")
