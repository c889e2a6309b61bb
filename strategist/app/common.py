"""What the app's pages share: the data in use, the chosen players, the Advisor and the match log.

The data sets and what does not depend on the session (the loaded table and its prepared strokes, the opponent
model, each pair's Advisor — whose rally game every page reads — and its scouting report) live in one
:class:`~strategist.app.datasets.DatasetCache` per server, bounded in bytes and shared by every page and
session. Errors reach the page as one line (``st.error``), never as a traceback: :func:`guard`.
"""

from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from strategist.app import datasets, paths
from strategist.app.datasets import DEMO, SHUTTLESET
from strategist.app.text import md, pct  # noqa: F401 - the pages' formatting helpers
from strategist.app.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB  # noqa: F401
from strategist.errors import StrategistError

__all__ = ["DEMO", "SHUTTLESET", "PageError", "guard", "data_key", "set_data_key", "load", "loaded", "players",
           "choose_players", "current_advisor", "matchlog", "scouting", "strokes", "data_label", "md", "pct"]


class PageError(StrategistError):
    """A problem the page reports in one line."""


@contextmanager
def guard():
    """Show a strategist error (or an OS or value error) as one line on the page, never a traceback."""
    try:
        yield
    except StrategistError as exc:
        st.error(md(exc))
    except (OSError, ValueError, KeyError) as exc:  # e.g. a file that vanished; still one line
        st.error(md(f"{type(exc).__name__}: {exc}"))


@st.cache_resource
def server_setup() -> None:
    """Once per server: numpy's and scipy's BLAS on one thread (:mod:`strategist._blas`; the pages' games are
    small, and the server's sessions share the cores)."""
    from strategist._blas import one_blas_thread

    one_blas_thread()


# -- data --------------------------------------------------------------------------------------------------------
@st.cache_resource
def cache() -> datasets.DatasetCache:
    """The server's data sets (one cache for every session); old uploads are cleaned from then on, hourly."""
    from strategist.app.uploads import clean_every

    clean_every()
    return datasets.DatasetCache()


def load(key: tuple):
    """The LoadResult of a data key, loaded once per server."""
    return cache().get(key)


def derived(key: tuple, name, make):
    """What is computed from the data set ``key`` alone (e.g. a pair's Advisor), once per server."""
    return cache().derived(key, name, make)


def data_key() -> tuple:
    """The data in use: chosen in this session, else named by the page's address (``?data=``, so a reload
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
        for name in ("player", "opponent", "live_match", "match_box", "prep_state"):
            st.session_state.pop(name, None)
        for name in ("player", "opponent", "match"):
            if name in st.query_params:
                del st.query_params[name]
    _remember_in_address(key)


def _key_from_address() -> tuple:
    wanted = st.query_params.get("data")
    if not wanted:
        return DEMO
    try:
        return datasets.key_of(wanted)
    except paths.PathRefused:
        st.session_state["data_note"] = paths.REFUSAL + " The built-in demo is in use."
        return DEMO


def _remember_in_address(key: tuple) -> None:
    if key == DEMO:
        if "data" in st.query_params:
            del st.query_params["data"]
    elif st.query_params.get("data") != datasets.address_of(key):
        st.query_params["data"] = datasets.address_of(key)


def path_key(text: str) -> tuple:
    """The key of a path a visitor typed (refused outside the data roots, always with the same message)."""
    return datasets.key_of(text)


def data_label(key: tuple) -> str:
    return datasets.label_of(key)


def loaded():
    """The LoadResult in use (the demo unless another was chosen)."""
    return load(data_key())


# -- players -----------------------------------------------------------------------------------------------------
def players(result) -> list[str]:
    """Players by strokes played, most first."""
    return [str(p) for p in result.table["hitter"].value_counts().index]


def opponents_of(result, player: str) -> list[str]:
    """The player's opponents in the data (most strokes first), then everyone else."""
    table = result.table
    counts = table.loc[table["hitter"] == player, "opponent"].value_counts()
    others = [str(p) for p in counts.index]
    return others + [p for p in players(result) if p not in others and p != player]


def _pick(name: str, options: list[str]) -> str:
    wanted = st.session_state.get(name) or st.query_params.get(name)   # the address: kept over a reload
    return wanted if wanted in options else options[0]


def choose_players(result, where=st.sidebar) -> tuple[str, str]:
    """Player and opponent selectboxes (shared by every page through the session and the address)."""
    key = data_key()
    names = derived(key, "players", lambda: players(result))
    player = _pick("player", names)
    player = where.selectbox("Player", names, index=names.index(player), key="player_box")
    st.session_state["player"] = player
    others = derived(key, ("opponents", player), lambda: opponents_of(result, player))
    opponent = _pick("opponent", others)
    opponent = where.selectbox("Opponent", others, index=others.index(opponent), key="opponent_box")
    st.session_state["opponent"] = opponent
    for name, value in (("player", player), ("opponent", opponent)):
        if st.query_params.get(name) != value:
            st.query_params[name] = value
    return player, opponent


# -- the Advisor ---------------------------------------------------------------------------------------------------
#: Opponent models trained or loaded on the Model page, by id (shared by the sessions of this server).
MODELS: dict = {}
#: The opponent model the app's Advisors use unless one is trained or loaded on the Model page: the Markov model
#: of order 2, as in the post-match report (fitted from counts; the neural model must be trained).
DEFAULT_MODEL = "markov2"


def model_key() -> str | None:
    return st.session_state.get("model_key")


def annotated(key: tuple):
    """The situation of every stroke of the data set (:func:`strategist.rally.model.situation_annotation`), made
    once per data set: the usable strokes below and every report of the data set read it."""
    def make():
        from strategist.rally.model import situation_annotation

        with st.spinner("Reading the situations of every stroke ..."):
            return situation_annotation(load(key).table)

    return derived(key, "annotated", make)


def strokes(key: tuple):
    """The usable strokes of the data set (:func:`strategist.advice.advisor.prepare`), made once per data set and
    shared by every pair's Advisor: a change of player or opponent then only estimates that pair's game."""
    def make():
        from strategist.advice.advisor import prepare

        return prepare(load(key).table, annotated=annotated(key))

    return derived(key, "strokes", make)


def advisor(key: tuple, player: str, opponent: str, model_id: str | None = None):
    """The pair's Advisor (its rally game and opponent model), built once per data set, pair and model."""
    def make():
        from strategist.advice.advisor import Advisor

        model = MODELS.get(model_id) if model_id else default_model(key)
        prepared = strokes(key)
        with st.spinner("Estimating the rally game of the pair ..."):
            return Advisor(load(key), player=player, opponent=opponent, model=model, strokes=prepared)

    return derived(key, ("advisor", player, opponent, model_id), make)


def default_model(key: tuple):
    """The opponent model of :data:`DEFAULT_MODEL`, fitted on the whole data set once per data set."""
    def make():
        from strategist.opponent import fit_model

        with st.spinner("Fitting the opponent model ..."):
            return fit_model(DEFAULT_MODEL, load(key).table)

    return derived(key, "model:" + DEFAULT_MODEL, make)


def current_advisor(player: str, opponent: str):
    return advisor(data_key(), player, opponent, model_key())


def pair_table(adv, name: str, make):
    """A table of Match prep (``strategist.advice.prep``) for the Advisor's pair, computed once per pair."""
    return derived(data_key(), ("prep", name, adv.player, adv.opponent, model_key()), make)


def scouting(key: tuple, player: str, opponent: str):
    """The scouting report of ``opponent`` for ``player`` (:func:`strategist.scout.scout`) as its dict, with the
    match lists beside the data (tournament and year), once per pair; a warning of the report is in its notes."""
    def make():
        import warnings

        from strategist.scout import scout

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # what a warning says is in the report's notes too
            return scout(scout_view(key), player, opponent, matches=match_info(key)).to_dict()

    return derived(key, ("scout", player, opponent), make)


def scout_view(key: tuple):
    """The data set's strokes, rallies and player-rallies as scouting reads them
    (:func:`strategist.scout.rallies.rally_view`), built once per data set."""
    def make():
        from strategist.scout.rallies import rally_view

        return rally_view(load(key).table)

    return derived(key, "scout view", make)


def match_info(key: tuple):
    """Tournament and year per match from the match lists beside the data (an empty table without them), once per
    data set."""
    def make():
        from strategist.scout.matchinfo import read_match_info

        return read_match_info(datasets.source_path(key))

    return derived(key, "match info", make)


# -- match log ---------------------------------------------------------------------------------------------------
def matchlog_path():
    from strategist.matchlog import default_path

    return default_path()


@st.cache_resource(max_entries=4)
def _matchlog(path: str):
    from strategist.matchlog import MatchLog

    return MatchLog(path)


def matchlog():
    return _matchlog(str(matchlog_path()))


def area_name(sport, area) -> str:
    """A landing area in words (``front left``), never a raw code; empty when not recorded."""
    if area is None or area == "" or area != area:
        return ""
    return sport.areas.get(str(area), "an area the sport does not name")
