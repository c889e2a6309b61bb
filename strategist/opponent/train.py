"""Training the neural opponent model: optimizers of :mod:`strategist.optim`, schedule, EMA, early stopping,
atomic checkpoints that resume exactly, and DDP under ``torchrun``.

Recipe: every stroke of every training rally is a target (its shot given the strokes before it); one step
is a batch of ``batch_size`` whole rallies (the global batch: under DDP each of the N processes takes its
1/N share and the loss is normalised by the global number of strokes, so N processes take the same steps
as one). The learning rate warms up linearly over ``warmup`` of ``max_steps`` and then follows a cosine
(or stays flat and decays linearly over the last 20 %: ``schedule="wsd"``) down to ``final_lr_ratio``.
Gradients are clipped to norm ``clip``. Inputs are hidden at random (``mask_rallies``, ``mask_strokes``:
:func:`~strategist.opponent.neural.mask_inputs`). Every ``eval_every`` steps the EMA of the weights is scored
on the validation matches: the log-loss with the inputs as recorded and with only shots and hitters known,
weighed ``1 - valid_hidden_weight`` and ``valid_hidden_weight``; training stops after ``patience``
evaluations without improvement, and the best EMA weights are the model. Its temperature is then fitted on
the validation matches (inputs as recorded) and applied where those matches agree on it (``_calibrate``).

Resuming: the step count is the only position in the data (the order of an epoch is a permutation drawn
from ``seed`` and the epoch), and the random state of step s is seeded from ``seed`` and s, so a run
resumed from the checkpoint of step s takes exactly the steps s+1, s+2, ... an uninterrupted run takes.
An interrupt (Ctrl-C) writes a checkpoint of the last completed step before it stops.

Past one machine: ``torchrun --nproc_per_node=N -m strategist train --model neural ...`` runs the same
training under DDP (gloo on CPU, NCCL on GPUs); ``batch_size`` stays the global batch.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from strategist.errors import CheckpointError, ConfigurationError, OpponentModelError
from strategist.opponent.checkpoint import (check_vocabulary, flatten_state, read_tensors, save_model,
                                            sport_definition, unflatten_state, write_tensors)
from strategist.opponent.checkpoint_schema import check, check_tensors, train_meta_spec
from strategist.opponent.base import positions_in_rally
from strategist.opponent.neural import (Encoder, NeuralConfig, NeuralModel, _softmax, batch_of, encode_table,
                                        choose_temperature, hide_all, mask_inputs, to_tensors)
from strategist.opponent.split import select, split_matches

OPTIMIZERS = ("soap", "shampoo", "muon", "kfac", "adamw")
#: Default learning rate of each optimizer on this model: the best of its 3-value grid in
#: benchmarks/bench_opponent.py (results/opponent.json, ``best_lr``; tested equal).
DEFAULT_LR = {"adamw": 3e-3, "soap": 3e-3, "shampoo": 3e-3, "muon": 0.01, "kfac": 0.01}
#: The default optimizer, by the rule of benchmarks/bench_opponent.py: one of ours that reaches AdamW's best
#: validation loss on every seed in at most 0.8x AdamW's time (CPU time of the training thread), else AdamW.
#: AdamW: Shampoo needs fewer steps (300-500 against 500-600) but costs more per step, 1.04x AdamW's time in
#: the median of 3 seeds, Muon 1.25x (the committed run; an earlier run measured in wall-clock on a loaded
#: machine gave Shampoo 0.71x, the waits for a core counted). Ours stay selectable (``optimizer="shampoo"``...).
DEFAULT_OPTIMIZER = "adamw"
TRAIN_STATE = "train_state"
#: The temperature is applied when this interval of its bootstrap over the validation matches excludes 1 ...
CALIBRATION_LEVEL = 0.9
#: ... fitted on at least this many validation matches.
CALIBRATION_MIN_MATCHES = 3
TRAIN_FORMAT = "strategist-opponent-train-state"


def resolve_device(device: str | None = None) -> torch.device:
    """``device`` when given, else CUDA when present, else the CPU."""
    if device:
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise ConfigurationError(f"unknown device {device!r}: {exc}") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigurationError(f"device {device!r} asked for, but CUDA is not available here")
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_optimizer(name: str, net: torch.nn.Module, lr: float | None = None, weight_decay: float = 0.01):
    """One of :data:`OPTIMIZERS` for ``net``, with the settings of the benchmark."""
    from strategist import optim

    name = name.lower()
    if name not in OPTIMIZERS:
        raise ConfigurationError(f"optimizer {name!r}; expected one of {list(OPTIMIZERS)}")
    lr = DEFAULT_LR[name] if lr is None else float(lr)
    if name == "adamw":
        return torch.optim.AdamW(net.parameters(), lr=lr, betas=(0.9, 0.999), weight_decay=weight_decay)
    if name == "soap":
        return optim.SOAP(net.parameters(), lr=lr, betas=(0.95, 0.95), weight_decay=weight_decay,
                          precondition_frequency=10)
    if name == "shampoo":
        return optim.Shampoo(net.parameters(), lr=lr, betas=(0.9, 0.999), weight_decay=weight_decay,
                             precondition_frequency=10, start_preconditioning_step=10)
    if name == "muon":
        return optim.build_muon_optimizer(net, lr=lr, momentum=0.95, adamw_lr=0.15 * lr, adamw_betas=(0.9, 0.999),
                                          adamw_weight_decay=weight_decay)
    return optim.KFAC(net, lr=lr, loss_type="cross_entropy", momentum=0.9, damping=1e-2, factor_decay=0.95,
                      inverse_every=10, kl_clip=None, fallback="adamw", fallback_lr=0.1 * lr,
                      fallback_weight_decay=weight_decay)


def lr_multiplier(step: int, total: int, warmup: float, schedule: str, final: float) -> float:
    """Factor of the base lr at ``step`` (1-based): linear warm-up, then cosine or warmup-stable-decay."""
    warm = max(1, int(round(warmup * total)))
    if step <= warm:
        return step / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    if schedule == "cosine":
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))
    if schedule == "wsd":
        decay_from = 0.8
        if progress <= decay_from:
            return 1.0
        return 1 - (1 - final) * (progress - decay_from) / (1 - decay_from)
    raise ConfigurationError(f"schedule {schedule!r}; expected 'cosine' or 'wsd'")


class Progress:
    """A one-line progress bar on stderr: step, loss, validation loss, steps per second."""

    def __init__(self, total: int, enabled: bool = True, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.last = 0.0
        self.first_step: int | None = None

    def show(self, step: int, loss: float, val: float | None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.first_step is None:
            self.first_step = step - 1
        if not force and now - self.last < 0.5:
            return
        self.last = now
        done = int(30 * step / max(1, self.total))
        speed = (step - self.first_step) / max(1e-9, now - self.start)
        val_text = f" val {val:.4f}" if val is not None else ""
        self.stream.write(f"\r[{'#' * done}{'.' * (30 - done)}] {step}/{self.total} loss {loss:.4f}{val_text} "
                          f"{speed:.1f} step/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _rank_and_world() -> tuple[int, int]:
    """(this process's rank, the number of processes) under ``torch.distributed``; (0, 1) without it."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed(device: torch.device) -> bool:
    """Join the process group ``torchrun`` describes (WORLD_SIZE > 1); False when not launched that way."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return True


def data_fingerprint(train: pd.DataFrame, valid: pd.DataFrame) -> str:
    text = json.dumps([sorted(map(str, train["match_id"].unique())), len(train),
                       sorted(map(str, valid["match_id"].unique())), len(valid)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def epoch_batches(lengths: torch.Tensor, batch: int, seed: int, epoch: int, bucket: int = 16) -> list:
    """The batches of an epoch: a permutation drawn from (seed, epoch), cut into chunks of ``bucket`` batches
    whose rallies are sorted by length (less padding), the batches then shuffled; the rest is dropped."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(len(lengths), generator=gen)
    usable = (len(order) // batch) * batch if len(order) >= batch else len(order)
    order = order[:usable]
    batches = []
    for s in range(0, usable, batch * bucket):
        chunk = order[s:s + batch * bucket]
        chunk = chunk[torch.sort(lengths[chunk], stable=True).indices]
        batches += list(chunk.split(batch))
    shuffle = torch.randperm(len(batches), generator=gen)
    return [batches[i] for i in shuffle]


def _loss_sum(net, b):
    """Summed cross-entropy of batch ``b`` and its logits."""
    logits = net(b)
    mask = b["target"] >= 0
    valid = logits[mask]
    return F.cross_entropy(valid, b["target"][mask], reduction="sum"), valid


def _hide_at_random(b: dict, cfg: NeuralConfig) -> dict:
    """Batch ``b`` with inputs hidden (:func:`~strategist.opponent.neural.mask_inputs`) and players dropped to
    the unknown-player embedding (``player_dropout``), by the global random state: drawn for the global batch,
    every process draws the same."""
    b = mask_inputs(b, cfg.mask_rallies, cfg.mask_strokes)
    if cfg.player_dropout > 0:
        b = dict(b)
        for key in ("player", "opponent"):
            b[key] = b[key] * (torch.rand(b[key].shape, device=b[key].device) >= cfg.player_dropout)
    return b


def _share(b: dict, world: int, rank: int) -> dict:
    """This process's rallies of the global batch ``b``, trimmed to the longest of them."""
    if world == 1:
        return b
    rows = torch.arange(len(b["lengths"]), device=b["lengths"].device).chunk(world)[rank]
    t = int(b["lengths"][rows].max())
    return {k: (v[rows, :t] if v.dim() > 1 else v[rows]) for k, v in b.items()}


@torch.inference_mode()
def evaluate_loss(net, data: dict, batch: int = 256) -> float:
    """Mean log-loss over every stroke of ``data`` (encoded, on the net's device)."""
    net.eval()
    total, count = 0.0, 0
    n = len(data["lengths"])
    for s in range(0, n, batch):
        idx = torch.arange(s, min(s + batch, n), device=data["lengths"].device)
        loss, valid = _loss_sum(net, batch_of(data, idx))
        total += float(loss)
        count += valid.shape[0]
    return total / max(1, count)


@dataclass
class _Run:
    """What one training run holds: the data, the network and its optimizer, the EMA and the progress."""

    cfg: NeuralConfig
    dev: torch.device
    rank: int
    world: int
    net: torch.nn.Module
    wrapped: torch.nn.Module
    optimizer: object
    base_lrs: list
    train_data: dict
    valid_data: dict
    hidden_valid_data: dict
    ema: dict
    eval_net: torch.nn.Module
    best_weights: dict
    state: dict
    fingerprint: str
    epochs: dict = field(default_factory=dict)
    running: float | None = None


def train(model: NeuralModel, table: pd.DataFrame, *, valid: pd.DataFrame | None = None, out=None,
          device: str | None = None, progress: bool = False, resume: bool = True, max_steps: int | None = None,
          time_budget: float | None = None, split: dict | None = None, log=None, threads: int | None = None,
          _interrupt_at: int | None = None) -> NeuralModel:
    """Train ``model`` on ``table`` (early stopping on ``valid``; by default the validation matches of
    ``table`` under the split rule), then fit its temperature on ``valid``. ``out``: directory of checkpoints
    (resumed from when ``resume``). ``max_steps`` overrides the configuration's for this run (the model's
    ``config`` is not changed). ``time_budget``: stop after this many seconds of training. ``log``: a callable
    receiving each evaluation record. ``threads``: CPU threads of torch (one is fastest on a busy machine).
    Returns the model with the best EMA weights."""
    cfg = replace(model.config)
    if threads:
        torch.set_num_threads(int(threads))
    if max_steps is not None:
        cfg.max_steps = int(max_steps)
    if cfg.optimizer.lower() not in OPTIMIZERS:
        raise ConfigurationError(f"optimizer {cfg.optimizer!r}; expected one of {list(OPTIMIZERS)}")
    dev = resolve_device(device)
    launched = init_distributed(dev)
    rank, world = _rank_and_world()
    if dev.type == "cuda" and world > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
        torch.cuda.set_device(dev)
    train_frame, valid_frame = _frames(model, table, valid)
    run = _start(model, cfg, dev, rank, world, train_frame, valid_frame)
    out = Path(out) if out is not None else None
    if out is not None and resume and (out / f"{TRAIN_STATE}.json").is_file():
        run.state, run.best_weights = _load_train_state(out, model, cfg, run.optimizer, run.ema, run.fingerprint)
    main = rank == 0
    bar = Progress(cfg.max_steps, enabled=progress and main)

    def checkpoint():
        if out is not None and main:
            _save_train_state(out, model, cfg, run.optimizer, run.ema, run.best_weights, run.state, run.fingerprint)

    try:
        _loop(run, bar, checkpoint, time_budget, log if main else None, _interrupt_at)
    except KeyboardInterrupt:
        checkpoint()
        bar.close()
        raise
    bar.close()
    if run.state["stopped"] is None:
        run.state["stopped"] = "max steps"
    checkpoint()
    run.net.load_state_dict(run.best_weights)
    run.net.eval()
    model.fitted_ = True
    calibration = _calibrate(model, valid_frame, cfg.seed) if cfg.calibrate else None
    state = run.state
    model.metrics_ = {"valid_loss": state["best"], "best_step": state["best_step"], "steps": state["step"],
                      "max_steps": cfg.max_steps, "train_seconds": round(state["train_seconds"], 3),
                      "train_cpu_seconds": round(state["train_cpu_seconds"], 3),
                      "stopped": state["stopped"], "device": str(dev.type), "world_size": world,
                      "calibration": calibration, "curve": state["curve"]}
    model.split_ = split or {"train": sorted(map(str, train_frame["match_id"].unique())),
                             "valid": sorted(map(str, valid_frame["match_id"].unique()))}
    if out is not None and main:
        save_model(model, out)
    if launched:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return model


def _frames(model: NeuralModel, table: pd.DataFrame, valid: pd.DataFrame | None):
    """The training and validation rally frames (validation: ``valid``, else the split rule's matches)."""
    if valid is None:
        parts = split_matches(table, test_fraction=0.0, valid_fraction=0.1)
        train_t, valid = select(table, parts.train), select(table, parts.valid)
    else:
        train_t = table
    train_frame = model._check_table(train_t)
    valid_frame = model._check_table(valid) if len(valid) else None
    if valid_frame is None:
        raise OpponentModelError("no validation matches for early stopping (need at least 2 matches)")
    return train_frame, valid_frame


def _start(model, cfg, dev, rank, world, train_frame, valid_frame) -> _Run:
    """Build the network, its optimizer, the encoded data and a fresh run state."""
    torch.manual_seed(cfg.seed)
    model.build(train_frame["hitter"].astype(str).unique(), Encoder.position_norm(train_frame))
    model.evidence_ = model.count_evidence(train_frame)
    model.temperature_ = 1.0
    model.to(dev)
    net = model.net
    train_data = to_tensors(encode_table(model._encoder, train_frame), dev)
    valid_data = to_tensors(encode_table(model._encoder, valid_frame), dev)
    if min(cfg.batch_size, len(train_data["lengths"])) % world:
        raise ConfigurationError(f"batch_size {min(cfg.batch_size, len(train_data['lengths']))} is not divisible "
                                 f"by the {world} processes")
    optimizer = make_optimizer(cfg.optimizer, net, cfg.lr, cfg.weight_decay)
    wrapped = net
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        wrapped = DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None)
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()}
    state = {"step": 0, "best": math.inf, "best_step": 0, "since_best": 0, "curve": [], "train_seconds": 0.0,
             "train_cpu_seconds": 0.0, "stopped": None}
    return _Run(cfg=cfg, dev=dev, rank=rank, world=world, net=net, wrapped=wrapped, optimizer=optimizer,
                base_lrs=[g["lr"] for g in optimizer.param_groups], train_data=train_data, valid_data=valid_data,
                hidden_valid_data=hide_all(valid_data),
                ema=ema, eval_net=copy.deepcopy(net), best_weights={k: v.clone() for k, v in ema.items()},
                state=state, fingerprint=data_fingerprint(train_frame, valid_frame))


def _loop(run: _Run, bar: Progress, checkpoint, time_budget, log, interrupt_at) -> None:
    """Steps until the budget, early stopping or a non-finite loss; evaluations and checkpoints on schedule."""
    cfg, state = run.cfg, run.state
    state.setdefault("train_cpu_seconds", 0.0)            # a training state saved before it was counted
    step_timer, cpu_timer = time.perf_counter(), time.thread_time()
    while state["step"] < cfg.max_steps and state["stopped"] is None:
        step = state["step"] + 1
        value = _step(run, step)
        state["step"] = step
        run.running = value if run.running is None else 0.95 * run.running + 0.05 * value
        state["train_seconds"] += time.perf_counter() - step_timer
        state["train_cpu_seconds"] += time.thread_time() - cpu_timer
        if not math.isfinite(value):
            state["stopped"] = "non-finite loss"
        if step % cfg.eval_every == 0 or step == cfg.max_steps or state["stopped"]:
            record = _evaluate(run, step)
            if log is not None:
                log(record)
            bar.show(step, run.running, record["valid_loss"], force=True)
        else:
            bar.show(step, run.running, state["curve"][-1]["valid_loss"] if state["curve"] else None)
        if time_budget is not None and state["train_seconds"] >= time_budget and not state["stopped"]:
            state["stopped"] = "time budget"
        if step % cfg.checkpoint_every == 0 or state["stopped"]:
            checkpoint()
        if interrupt_at is not None and step == interrupt_at:
            raise KeyboardInterrupt
        step_timer, cpu_timer = time.perf_counter(), time.thread_time()


def _step(run: _Run, step: int) -> float:
    """One optimizer step (the batch of ``step`` in its epoch, the schedule's lr, clipping, EMA); its loss."""
    cfg, world = run.cfg, run.world
    n_rallies = len(run.train_data["lengths"])
    batch = min(cfg.batch_size, n_rallies)
    per_epoch = max(1, n_rallies // batch)
    epoch, k = divmod(step - 1, per_epoch)
    if epoch not in run.epochs:
        run.epochs.clear()
        run.epochs[epoch] = epoch_batches(run.train_data["lengths"].cpu(), batch, cfg.seed, epoch)
    idx = run.epochs[epoch][k].to(run.dev)
    b = batch_of(run.train_data, idx)
    n_global = int((b["target"] >= 0).sum())
    torch.manual_seed(cfg.seed * 7_919 + step)
    b = _share(_hide_at_random(b, cfg), world, run.rank)
    mult = lr_multiplier(step, cfg.max_steps, cfg.warmup, cfg.schedule, cfg.final_lr_ratio)
    for group, lr in zip(run.optimizer.param_groups, run.base_lrs):
        group["lr"] = lr * mult
    net, optimizer = run.net, run.optimizer
    net.train()
    optimizer.zero_grad(set_to_none=True)
    if cfg.optimizer.lower() == "kfac":
        with optimizer.capture():
            loss_sum, valid_logits = _loss_sum(run.wrapped, b)
        loss = loss_sum * (world / n_global)
        optimizer.backward(loss, valid_logits)
    else:
        loss_sum, _ = _loss_sum(run.wrapped, b)
        loss = loss_sum * (world / n_global)
        loss.backward()
    if cfg.clip > 0:
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip)
    optimizer.step()
    net.weights_changed()
    with torch.no_grad():
        decay = min(cfg.ema, (1 + step) / (10 + step)) if cfg.ema > 0 else 0.0
        for name, value in net.state_dict().items():
            if value.dtype.is_floating_point:
                run.ema[name].mul_(decay).add_(value.detach(), alpha=1 - decay)
            else:
                run.ema[name].copy_(value)
    return float(loss.detach()) / world


def _evaluate(run: _Run, step: int) -> dict:
    """Score the EMA weights on the validation matches; keep the best; count evaluations without progress."""
    state = run.state
    run.eval_net.load_state_dict(run.ema)
    recorded = evaluate_loss(run.eval_net, run.valid_data)
    weight = run.cfg.valid_hidden_weight
    hidden = evaluate_loss(run.eval_net, run.hidden_valid_data) if weight > 0 else None
    val = recorded if hidden is None else (1 - weight) * recorded + weight * hidden
    record = {"step": step, "seconds": round(state["train_seconds"], 4),
              "cpu_seconds": round(state["train_cpu_seconds"], 4), "train_loss": run.running,
              "valid_loss": val, "valid_loss_recorded_inputs": recorded, "valid_loss_shots_only": hidden}
    state["curve"].append(record)
    if val < state["best"] - 1e-5:
        state.update(best=val, best_step=step, since_best=0)
        run.best_weights = {k: v.clone() for k, v in run.ema.items()}
    else:
        state["since_best"] += 1
        if state["since_best"] > run.cfg.patience:
            state["stopped"] = "early stopping"
    return record


def _calibrate(model: NeuralModel, valid_frame: pd.DataFrame, seed: int = 0) -> dict:
    """Fit ``model.temperature_`` on the validation strokes that have one before them in their rally (the
    scored strokes of :mod:`strategist.opponent.evaluate`), applied where the validation matches agree on it
    (:func:`~strategist.opponent.neural.choose_temperature`); log-loss and ECE there before and after."""
    from strategist.opponent.evaluate import scores

    model.temperature_ = 1.0
    frame, logits = model.logits_table(valid_frame)
    scored = positions_in_rally(frame) >= 1
    targets = model.vocabulary.shot_codes(frame["shot"])[scored]
    logits = logits[scored]
    if len(targets) == 0:
        return {"temperature": 1.0, "n": 0, "applied": False, "reason": "no validation stroke to fit it on"}
    choice = choose_temperature(logits, targets, frame["match_id"].to_numpy()[scored], CALIBRATION_LEVEL,
                                CALIBRATION_MIN_MATCHES, seed)
    temperature = choice["temperature"]
    before = scores(_softmax(logits), targets)
    after = scores(_softmax(logits / temperature), targets)
    model.temperature_ = temperature
    return {**choice, "n": int(len(targets)), "valid_log_loss_before": before["log_loss"],
            "valid_log_loss_after": after["log_loss"], "valid_ece_before": before["ece"], "valid_ece_after": after["ece"]}


def _save_train_state(out: Path, model, cfg, optimizer, ema, best_weights, state, fingerprint) -> None:
    skeleton, opt_tensors = flatten_state(optimizer.state_dict(), "opt")
    tensors = {**{f"net.{k}": v for k, v in model.net.state_dict().items()},
               **{f"ema.{k}": v for k, v in ema.items()},
               **{f"best.{k}": v for k, v in best_weights.items()}, **opt_tensors}
    meta = {"format": TRAIN_FORMAT, "vocabulary": model.vocabulary.to_json(),
            "config": cfg.to_json(), "data": fingerprint, "optimizer": skeleton,
            "state": state, "players": model.players, "norm": model.norm}
    definition = sport_definition(model.sport)
    if definition is not None:
        meta["sport_definition"] = definition
    write_tensors(out, TRAIN_STATE, tensors, meta)


def _load_train_state(out: Path, model, cfg, optimizer, ema, fingerprint):
    """The run state and best weights of ``out``'s training state, loaded into ``model``, ``optimizer`` and
    ``ema``; its JSON and tensors are checked first (:mod:`strategist.opponent.checkpoint_schema`)."""
    tensors, meta = read_tensors(out, TRAIN_STATE)
    where = out / f"{TRAIN_STATE}.json"
    meta = check(train_meta_spec(TRAIN_FORMAT), meta, where)
    check_vocabulary(meta, where, model.sport)
    if meta["data"] != fingerprint:
        raise CheckpointError(f"{out}: the checkpoint was trained on other data; use another --out or resume=False")
    saved_cfg = meta["config"]
    now_cfg = cfg.to_json()
    differ = sorted(k for k in now_cfg if k != "max_steps" and saved_cfg.get(k, now_cfg[k]) != now_cfg[k])
    if differ or meta["players"] != model.players:
        raise CheckpointError(f"{out}: the checkpoint was made with another configuration ({differ or 'players'}); "
                              f"use another --out or resume=False")
    weights = {k: (tuple(v.shape), v.dtype) for k, v in model.net.state_dict().items()}
    expected = {f"{part}.{k}": spec for part in ("net", "ema", "best") for k, spec in weights.items()}
    expected |= {k: (tuple(v.shape), v.dtype) for k, v in tensors.items() if k.startswith("opt.")}
    check_tensors(tensors, expected, out / f"{TRAIN_STATE}.safetensors")
    dev = next(model.net.parameters()).device
    model.net.load_state_dict({k[4:]: v.to(dev) for k, v in tensors.items() if k.startswith("net.")})
    for k in ema:
        ema[k].copy_(tensors[f"ema.{k}"].to(dev))
    best = {k: tensors[f"best.{k}"].to(dev) for k in ema}
    opt_state = unflatten_state(meta["optimizer"], {k: v.to(dev) for k, v in tensors.items()}, where)
    try:
        optimizer.load_state_dict(opt_state)
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError, AttributeError) as exc:
        raise CheckpointError(f"{where}: field 'optimizer': does not fit the {cfg.optimizer} optimizer of this "
                              f"model ({str(exc)[:200]})") from None
    state = meta["state"]
    if state["best_step"] > state["step"]:
        raise CheckpointError(f"{where}: field 'state.best_step': {state['best_step']} is after the last step "
                              f"{state['step']}")
    state["stopped"] = None if state.get("stopped") in ("time budget", "max steps") else state.get("stopped")
    return state, best
