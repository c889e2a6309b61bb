"""What the app's pages share: the data in use, the chosen players, the Advisor and the match log, cached.

Errors reach the page as one line (``st.error``), never as a traceback: :func:`guard` wraps a page body.
"""

from __future__ import annotations

import hashlib
import tempfile
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from strategist.errors import StrategistError

#: Uploads above this size are refused (the server's own bound is ``server.maxUploadSize`` in .streamlit/config.toml).
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
DEMO = ("demo",)


class PageError(StrategistError):
    """A problem the page reports in one line."""


@contextmanager
def guard():
    """Show a strategist error (or any other exception) as one line on the page, never a traceback."""
    try:
        yield
    except StrategistError as exc:
        st.error(str(exc))
    except (OSError, ValueError, KeyError) as exc:  # e.g. a file that vanished; still one line
        st.error(f"{type(exc).__name__}: {exc}")


# -- data --------------------------------------------------------------------------------------------------------
def data_key() -> tuple:
    """The data in use: chosen in this session, else named by the page's address (``?data=PATH``, so a reload
    keeps the data), else the demo."""
    key = st.session_state.get("data_key")
    if key is None:
        key = _key_from_address()
        st.session_state["data_key"] = key
    _remember_in_address(key)
    return key


def set_data_key(key: tuple) -> None:
    if st.session_state.get("data_key") != key:
        st.session_state["data_key"] = key
        for name in ("player", "opponent"):
            st.session_state.pop(name, None)
    _remember_in_address(key)


def _key_from_address() -> tuple:
    wanted = st.query_params.get("data")
    if not wanted:
        return DEMO
    try:
        return path_key(wanted)
    except PageError:
        st.session_state["data_note"] = f"{wanted} (named in the page's address) is no longer there: the demo is in use"
        return DEMO


def _remember_in_address(key: tuple) -> None:
    if key == DEMO:
        if "data" in st.query_params:
            del st.query_params["data"]
    elif st.query_params.get("data") != key[1]:
        st.query_params["data"] = key[1]


@st.cache_resource(show_spinner="Loading the rally data ...", max_entries=8)
def load(key: tuple):
    """The LoadResult of a data key: ``("demo",)`` or ``("path", path, mtime, size)``."""
    from strategist.data.load import load_rallies

    if key == DEMO:
        from strategist.data.demo import demo_path

        return load_rallies(demo_path())
    return load_rallies(key[1])


def path_key(path: str) -> tuple:
    p = Path(path).expanduser()
    if not p.exists():
        raise PageError(f"{path}: no such file or folder")
    stat = p.stat()
    return ("path", str(p), stat.st_mtime_ns, stat.st_size)


def save_upload(name: str, data: bytes) -> tuple:
    """Keep an uploaded file under the temp folder (by content) and return its data key; bounded in size."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PageError(f"{name}: {len(data) / 1e6:.1f} MB is more than the {MAX_UPLOAD_MB} MB an upload may be")
    if not data:
        raise PageError(f"{name}: the file is empty")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name) or "upload.csv"
    folder = Path(tempfile.gettempdir()) / "strategist-uploads" / hashlib.sha256(data).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe
    if not path.exists():
        path.write_bytes(data)
    return path_key(str(path))


def data_label(key: tuple) -> str:
    return "built-in demo (20 simulated badminton matches)" if key == DEMO else Path(key[1]).name


def loaded():
    """The LoadResult in use (the demo unless another was chosen)."""
    return load(data_key())


# -- players -----------------------------------------------------------------------------------------------------
def players(result) -> list[str]:
    table = result.table
    counts = table["hitter"].value_counts()
    return [str(p) for p in counts.index]


def opponents_of(result, player: str) -> list[str]:
    table = result.table
    counts = table.loc[table["hitter"] == player, "opponent"].value_counts()
    others = [str(p) for p in counts.index]
    return others + [p for p in players(result) if p not in others and p != player]


def choose_players(result, where=st.sidebar) -> tuple[str, str]:
    """Player and opponent selectboxes (shared by every page through the session)."""
    names = players(result)
    player = st.session_state.get("player") or st.query_params.get("player")   # the address: kept over a reload
    if player not in names:
        player = names[0]
    player = where.selectbox("Player", names, index=names.index(player), key="player_box")
    st.session_state["player"] = player
    others = opponents_of(result, player)
    opponent = st.session_state.get("opponent") or st.query_params.get("opponent")
    if opponent not in others:
        opponent = others[0]
    opponent = where.selectbox("Opponent", others, index=others.index(opponent), key="opponent_box")
    st.session_state["opponent"] = opponent
    for name, value in (("player", player), ("opponent", opponent)):
        if st.query_params.get(name) != value:
            st.query_params[name] = value
    return player, opponent


def model_key() -> str | None:
    return st.session_state.get("model_key")


@st.cache_resource(show_spinner="Preparing the games of every decision state ...", max_entries=16)
def advisor(key: tuple, player: str, opponent: str, model_id: str | None = None):
    from strategist.advice.advisor import Advisor

    model = MODELS.get(model_id) if model_id else None
    return Advisor(load(key), player=player, opponent=opponent, model=model)


#: Opponent models trained or loaded on the Model page, by id (shared by the sessions of this server).
MODELS: dict = {}


def current_advisor(player: str, opponent: str):
    return advisor(data_key(), player, opponent, model_key())


# -- match log ---------------------------------------------------------------------------------------------------
def matchlog_path() -> Path:
    from strategist.matchlog import default_path

    return default_path()


@st.cache_resource(max_entries=4)
def _matchlog(path: str):
    from strategist.matchlog import MatchLog

    return MatchLog(path)


def matchlog():
    return _matchlog(str(matchlog_path()))


def shot_phrase(shot: str) -> str:
    return shot


def area_name(sport, area) -> str:
    if area is None or area == "" or area != area:
        return ""
    return sport.areas.get(str(area), str(area))


def pct(p: float) -> str:
    return f"{100 * p:.0f} %"



@st.cache_resource(show_spinner="Solving the rally game ...", max_entries=8)
def rally_game(key: tuple, player: str, opponent: str):
    """(the rally game of the pairing, None) when strategist.rally is installed and it can be built, else
    (None, why not)."""
    from strategist.advice.prep import rally_game_function

    build = rally_game_function()
    if build is None:
        return None, "the rally game (strategist.rally) is not in this installation"
    try:
        return build(load(key).table, player, opponent), None
    except StrategistError as exc:
        return None, f"the rally game could not be built ({exc})"
