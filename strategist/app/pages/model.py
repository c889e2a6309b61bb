"""Model: train or load an opponent model (optimizer, progress, device); the Advisor then uses it."""

import inspect
import time

import streamlit as st

from strategist.app import common

st.title("Opponent model")
OPTIMIZERS = ["SOAP", "Shampoo", "Muon", "KFAC", "AdamW"]

with common.guard():
    result = common.loaded()
    player, opponent = common.choose_players(result)
    adv = common.current_advisor(player, opponent)
    st.write(f"In use for {player} v {opponent}: **{adv.model_label}**")
    try:
        import strategist.opponent as opponent_pkg
    except ImportError:
        opponent_pkg = None
    fit = getattr(opponent_pkg, "fit_model", None)
    load = getattr(opponent_pkg, "load_model", None)
    try:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        device_text = f"{device} (torch {torch.__version__})"
    except ImportError:
        device_text = "cpu (torch not installed)"
    st.metric("Device", device_text)
    if fit is None:
        st.warning("Fallback: training and loading opponent models needs strategist.opponent.fit_model / "
                   "load_model, which this installation does not have. The Advisor uses its built-in frequency "
                   "prediction (the opponent's shots in each decision state, shrunk toward all players).")
    kinds = list(getattr(opponent_pkg, "MODEL_KINDS", ("frequency", "markov", "neural")))
    with st.form("train"):
        st.subheader("Train")
        kind = st.selectbox("Model", kinds, key="model_kind")
        optimizer = st.selectbox("Optimizer (neural model)", OPTIMIZERS, key="model_optimizer")
        epochs = st.number_input("Epochs (neural model)", 1, 200, 5, key="model_epochs")
        submitted = st.form_submit_button("Train", disabled=fit is None)
    if submitted and fit is not None:
        bar = st.progress(0.0, text="Training ...")
        kw = {}
        params = inspect.signature(fit).parameters
        accepts = lambda name: name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
        if kind == "neural":
            if accepts("optimizer"):
                kw["optimizer"] = optimizer
            if accepts("epochs"):
                kw["epochs"] = int(epochs)
            if accepts("device"):
                kw["device"] = device_text.split(" ")[0]
        if accepts("progress"):
            kw["progress"] = lambda done, total=1.0, *a, **k: bar.progress(min(float(done) / float(total or 1), 1.0))
        started = time.perf_counter()
        model = fit(kind, result.table, **kw)
        bar.progress(1.0, text=f"Trained in {time.perf_counter() - started:.1f} s")
        model_id = f"{kind}-{optimizer}-{int(epochs)}-{time.time():.0f}"
        common.MODELS[model_id] = model
        st.session_state["model_key"] = model_id
        st.success(f"The Advisor now uses the {kind} model.")
    st.subheader("Load")
    folder = st.text_input("Folder of a saved model", key="model_folder")
    if st.button("Load", key="model_load", disabled=load is None) and folder.strip():
        model = load(folder.strip())
        model_id = f"loaded:{folder.strip()}"
        common.MODELS[model_id] = model
        st.session_state["model_key"] = model_id
        st.success(f"Loaded {getattr(model, 'kind', 'a model')} from {folder.strip()}.")
    if st.session_state.get("model_key") and st.button("Back to the default model", key="model_default"):
        st.session_state.pop("model_key")
        st.rerun()
