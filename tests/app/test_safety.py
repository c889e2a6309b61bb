"""What a visitor can type, name in the address or upload: confined to the data roots, one refusal for everything
else, bounded sizes, names escaped; who may use an exposed server."""

from __future__ import annotations

import gzip
import io
import os
import re
import zipfile
from pathlib import Path

import pytest

from strategist.app import access, datasets, paths, uploads
from strategist.app.text import md


@pytest.fixture()
def roots(tmp_path, monkeypatch):
    """An operator root and an upload folder under tmp_path, nothing else configured."""
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv(paths.ROOTS_ENV, str(root))
    monkeypatch.setenv(paths.UPLOADS_ENV, str(tmp_path / "uploads"))
    return root


def _refused(text: str) -> str:
    with pytest.raises(paths.PathRefused) as caught:
        paths.confine(text)
    return str(caught.value)


def test_paths_outside_the_roots_missing_or_special_get_one_identical_refusal(roots, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a,b\n1,2\n")
    fifo = roots / "pipe.csv"
    os.mkfifo(fifo)
    link = roots / "link.csv"
    link.symlink_to(outside)
    messages = {_refused(t) for t in ("/etc/passwd", str(outside), str(roots / ".." / "secret.csv"),
                                      str(roots / "missing.csv"), str(fifo), str(link), "/proc/self/environ",
                                      "/dev/zero", "", "x\x00y", str(tmp_path))}
    assert messages == {paths.REFUSAL}
    assert "root:" not in paths.REFUSAL


def test_a_file_inside_a_root_is_opened_and_size_limits_hold(roots, monkeypatch):
    good = roots / "strokes.csv"
    good.write_text("a,b\n1,2\n")
    assert paths.confine(str(good)) == good.resolve()
    assert paths.confine(str(roots)) == roots.resolve()          # a folder of them
    monkeypatch.setenv("STRATEGIST_MAX_FILE_MB", "1")
    (roots / "big.csv").write_bytes(b"x" * ((1 << 20) + 1))
    assert _refused(str(roots / "big.csv")) == paths.REFUSAL
    assert _refused(str(roots)) == paths.REFUSAL                   # the folder holds a file above the limit


def test_a_folder_holding_a_link_out_of_the_roots_is_refused(roots, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("a\n1\n")
    (roots / "data").mkdir()
    (roots / "data" / "strokes.csv").symlink_to(outside)
    assert _refused(str(roots / "data")) == paths.REFUSAL


def test_the_built_in_data_are_roots_and_keys(roots):
    from strategist.data.shipped import shuttleset_path

    assert datasets.key_of("shuttleset") == datasets.SHUTTLESET and datasets.key_of("demo") == datasets.DEMO
    key = datasets.key_of(str(shuttleset_path()))
    assert key[0] == "path" and Path(key[1]) == shuttleset_path().resolve()


def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as handle:
        handle.write(b"a,b,c\n")
        chunk = b"1,2,3\n" * (1 << 16)
        for _ in range(size // len(chunk)):
            handle.write(chunk)
    return out.getvalue()


def test_a_decompression_bomb_stops_at_the_limit_in_constant_memory(roots, monkeypatch):
    import tracemalloc

    monkeypatch.setenv("STRATEGIST_MAX_DECOMPRESSED_MB", "64")
    monkeypatch.setenv("STRATEGIST_MAX_ROWS", "100000000")
    bomb = roots / "bomb.csv.gz"
    bomb.write_bytes(_bomb(300 << 20))                     # ~300 MB once decompressed, well under 1 MB packed
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    with pytest.raises(paths.TooLarge, match="more than 64 MB once decompressed"):
        paths.check_volume([bomb], label="bomb.csv.gz")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20, peak
    monkeypatch.setenv("STRATEGIST_MAX_DECOMPRESSED_MB", "1000")
    monkeypatch.setenv("STRATEGIST_MAX_ROWS", "1000")
    with pytest.raises(paths.TooLarge, match="more than 1,000 rows"):
        paths.check_volume([bomb])


def test_uploads_keep_files_together_and_a_zip_unpacks_like_its_folder(roots):
    folder = uploads.save_uploads([("strokes.csv", b"a,b\n1,2\n"), ("matches.csv", b"m\n1\n")])
    assert sorted(p.name for p in folder.iterdir() if p.name != uploads.LABEL_FILE) == ["matches.csv", "strokes.csv"]
    assert uploads.upload_names(folder) == ["strokes.csv", "matches.csv"]
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("myfolder/strokes.csv", "a,b\n1,2\n")
        z.writestr("myfolder/../../evil.csv", "x\n")           # a member that climbs out: flattened inside
        z.writestr("/abs/notes.txt", "not data")
    unzipped = uploads.save_uploads([("myfolder.zip", packed.getvalue())])
    names = sorted(str(p.relative_to(unzipped)) for p in unzipped.rglob("*") if p.is_file())
    assert names == [uploads.LABEL_FILE, "evil.csv", "strokes.csv"]
    assert all(p.resolve().is_relative_to(paths.upload_root()) for p in unzipped.rglob("*"))


def test_a_zip_bomb_and_a_broken_zip_are_refused_and_leave_nothing(roots, monkeypatch):
    monkeypatch.setenv("STRATEGIST_MAX_DECOMPRESSED_MB", "8")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.csv", b"1,2,3\n" * (4 << 20))        # 24 MB unpacked
    before = set(paths.upload_root().iterdir())
    with pytest.raises(uploads.UploadError, match="more than 8 MB once unzipped"):
        uploads.save_uploads([("big.zip", packed.getvalue())])
    with pytest.raises(uploads.UploadError, match="not a readable zip"):
        uploads.save_uploads([("broken.zip", b"PK\x03\x04 broken")])
    assert set(paths.upload_root().iterdir()) == before


def test_old_uploads_are_cleaned_and_rejected_ones_discarded(roots):
    import time

    old = uploads.save_uploads([("a.csv", b"a\n1\n")])
    new = uploads.save_uploads([("b.csv", b"b\n1\n")])
    os.utime(old, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    assert uploads.clean_uploads(keep_hours=24) == 1
    assert not old.exists() and new.exists()
    uploads.discard(new)
    assert not new.exists()
    uploads.discard(paths.upload_root().parent)                 # never anything outside the upload root
    assert paths.upload_root().parent.exists()


def test_the_dataset_cache_is_bounded_in_bytes():
    import pandas as pd

    class Result:
        def __init__(self, n):
            self.table = pd.DataFrame({"x": range(n)})

    cache = datasets.DatasetCache(max_bytes=3 * 8_000 + 500)
    for k in range(5):
        cache.get(("path", str(k), 0, 0), loader=lambda key: Result(1000))
    assert cache.keys() == [("path", "2", 0, 0), ("path", "3", 0, 0), ("path", "4", 0, 0)]
    assert cache.total_bytes() <= cache.max_bytes
    calls = []
    cache.derived(("path", "4", 0, 0), "adv", lambda: calls.append(1) or "A")
    assert cache.derived(("path", "4", 0, 0), "adv", lambda: calls.append(1) or "B") == "A" and calls == [1]


NASTY = ("[click](http://evil.example/x) ![img](http://127.0.0.1:9/i.png) <b>bold</b> **star** www.evil.example #h "
         "eve@evil.example")


def test_markdown_escape_leaves_no_link_image_html_or_emphasis():
    escaped = md(NASTY)
    unescaped = re.sub(r"\\(.)", "", escaped)                      # drop every escaped character
    for token in ("[", "](", "![", "<b>", "**", "#"):
        assert token not in unescaped, token
    read = re.sub(r"\\(.)", r"\1", escaped)                        # the text as the renderer reads it
    assert not re.search(r"://|www\.|\w@", read)                    # no bare link for GitHub-style autolinks
    shown = read.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\u2060", "")
    assert shown == NASTY                                         # the text itself is kept


@pytest.mark.parametrize("address, auth, env, expected", [
    ("127.0.0.1", False, {}, "local"), ("localhost", False, {}, "local"), ("::1", False, {}, "local"),
    ("0.0.0.0", False, {}, "refuse"), ("", False, {}, "refuse"), (None, False, {}, "refuse"),
    ("192.0.2.5", True, {}, "login"), ("0.0.0.0", False, {access.ANONYMOUS_ENV: "1"}, "anonymous"),
    ("0.0.0.0", False, {access.ANONYMOUS_ENV: "yes"}, "refuse"),
])
def test_an_exposed_server_needs_a_login_or_an_explicit_opt_out(address, auth, env, expected):
    assert access.mode(address, auth, env) == expected


def test_the_shipped_config_listens_on_loopback_only():
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert access.is_loopback(config["server"]["address"])
