"""Model: train or load an opponent model (optimizer, progress, device); the Advisor then uses it."""

import threading
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
    kinds = list(getattr(opponent_pkg, "KINDS", None) or ("frequency", "markov", "neural"))
    with st.form("train"):
        st.subheader("Train")
        kind = st.selectbox("Model", kinds, key="model_kind")
        try:
            from strategist.opponent.train import DEFAULT_OPTIMIZER
        except ImportError:
            DEFAULT_OPTIMIZER = "adamw"
        default = [o.lower() for o in OPTIMIZERS].index(DEFAULT_OPTIMIZER) if DEFAULT_OPTIMIZER in \
            [o.lower() for o in OPTIMIZERS] else 0
        optimizer = st.selectbox("Optimizer (neural model)", OPTIMIZERS, index=default, key="model_optimizer",
                                 help="the default follows the opponent-model benchmark (benchmarks/OPTIMIZERS.md)")
        budget = st.number_input("Time budget in seconds (neural model)", 5, 3600, 60, key="model_budget")
        submitted = st.form_submit_button("Train", disabled=fit is None)
    if submitted and fit is not None:
        bar = st.progress(0.0, text="Training ...")
        kw = {}
        if kind == "neural":
            kw = {"optimizer": optimizer.lower(), "time_budget": float(budget),
                  "device": device_text.split(" ")[0]}
            kw["log"] = lambda entry: latest.update(entry=entry)
        latest: dict = {}
        outcome: dict = {}

        def work():
            try:
                outcome["model"] = fit(kind, result.table, **kw)
            except Exception as exc:  # shown on the page below
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
        model = outcome["model"]
        model_id = f"{kind}-{optimizer}-{time.time():.0f}"
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
