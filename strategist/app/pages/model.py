"""Model: train or load an opponent model (optimizer, progress, device); the Advisor then uses it.

A saved model is loaded only from a folder inside the data roots whose files are regular files below the size
limit (:func:`strategist.app.paths.confine`); anything else gets the one refusal.
"""

import threading
import time

import streamlit as st

from strategist.app import common, paths
from strategist.app.text import md

OPTIMIZERS = ["SOAP", "Shampoo", "Muon", "KFAC", "AdamW"]


def _device() -> str:
    import torch

    return f"{'cuda' if torch.cuda.is_available() else 'cpu'} (torch {torch.__version__})"


def _train(fit, table, kind: str, optimizer: str, budget: float, device_text: str) -> None:
    bar = st.progress(0.0, text="Training ...")
    latest: dict = {}
    outcome: dict = {}
    kw = {}
    if kind == "neural":
        kw = {"optimizer": optimizer.lower(), "time_budget": float(budget), "device": device_text.split(" ")[0],
              "log": lambda entry: latest.update(entry=entry)}

    def work():
        try:
            outcome["model"] = fit(kind, table, **kw)
        except Exception as exc:  # noqa: BLE001 - shown on the page below
            outcome["error"] = exc

    started = time.perf_counter()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        elapsed = time.perf_counter() - started
        share = min(elapsed / float(budget), 0.99) if kind == "neural" else 0.5
        text = f"Training the {kind} model on {device_text.split(' ')[0]}: {elapsed:.0f} s"
        if latest.get("entry"):
            text += f" · {latest['entry']}"[:160]
        bar.progress(share, text=text)
        thread.join(0.5)
    if "error" in outcome:
        raise outcome["error"]
    bar.progress(1.0, text=f"Trained in {time.perf_counter() - started:.1f} s")
    model_id = f"{kind}-{optimizer}-{time.time():.0f}"
    common.MODELS[model_id] = outcome["model"]
    st.session_state["model_key"] = model_id


def _train_form(fit, result, device_text: str) -> None:
    from strategist.opponent import DEFAULT_MODEL, KINDS
    from strategist.opponent.train import DEFAULT_OPTIMIZER

    kinds = list(KINDS)
    # offered first: the kind of the default model (the best of the committed opponent benchmark)
    best = next((k for k in kinds if DEFAULT_MODEL.startswith(k)), kinds[0])

    lowered = [o.lower() for o in OPTIMIZERS]
    with st.form("train"):
        st.subheader("Train")
        kind = st.selectbox("Model", kinds, key="model_kind", index=kinds.index(best),
                            help=f"{best}: the best of the committed opponent benchmark; the app advises with "
                                 f"{common.DEFAULT_MODEL} (fitted from counts: no network to train) until a model is "
                                 "trained or loaded here")
        optimizer = st.selectbox("Optimizer (neural model)", OPTIMIZERS, key="model_optimizer",
                                 index=lowered.index(DEFAULT_OPTIMIZER) if DEFAULT_OPTIMIZER in lowered else 0,
                                 help="the default follows the opponent-model benchmark (benchmarks/OPTIMIZERS.md)")
        budget = st.number_input("Time budget in seconds (neural model)", 5, 3600, 60, key="model_budget")
        submitted = st.form_submit_button("Train")
    if submitted:
        _train(fit, result.table, kind, optimizer, budget, device_text)
        st.success(f"The Advisor now uses the {kind} model.")


def _load_form(load) -> None:
    st.subheader("Load")
    folder = st.text_input("Folder of a saved model (inside the data folders of the Data page)", key="model_folder")
    if st.button("Load", key="model_load") and folder.strip():
        path = paths.confine(folder.strip(), suffixes=paths.MODEL_SUFFIXES)
        if not path.is_dir():
            raise paths.PathRefused()
        model = load(path)
        model_id = f"loaded:{path}"
        common.MODELS[model_id] = model
        st.session_state["model_key"] = model_id
        st.success(f"Loaded the {md(getattr(model, 'kind', 'saved'))} model from {md(path.name)}.")


def render() -> None:
    st.title("Opponent model")
    with common.guard():
        from strategist.opponent import fit_model, load_model

        result = common.loaded()
        player, opponent = common.choose_players(result)
        in_use = st.empty()
        device_text = _device()
        st.metric("Device", device_text)
        _train_form(fit_model, result, device_text)
        _load_form(load_model)
        if st.session_state.get("model_key") and st.button("Back to the default model", key="model_default"):
            st.session_state.pop("model_key")
            st.rerun()
        adv = common.current_advisor(player, opponent)     # after a training or a load: the model now in use
        label = adv.model_label if common.model_key() else f"{common.DEFAULT_MODEL} (the default)"
        in_use.write(f"In use for {md(player)} v {md(opponent)}: **{md(label)}**")


render()
