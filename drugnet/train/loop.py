"""Seeded mini-batch training with warmup + cosine LR, gradient clipping and early stopping on
validation."""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from drugnet.inference.forward import InputFn, predict_raw, resolve_device
from drugnet.train.losses import positive_class_weights, task_loss
from drugnet.train.metrics import selection_score
from drugnet.train.settings import TrainSettings

log = logging.getLogger("drugnet.train")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch RNGs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _batches(indices: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = indices[rng.permutation(len(indices))]
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if len(chunks) > 1 and len(chunks[-1]) < 2:  # BatchNorm cannot train on a single molecule
        chunks = chunks[:-1]
    return chunks


@dataclass
class TrainResult:
    """Best-epoch weights are loaded into ``model``; ``history`` holds one dict per epoch."""

    model: nn.Module
    best_epoch: int
    best_val: float
    history: list[dict] = field(default_factory=list)


def _lr_lambda(warmup_steps: int, total_steps: int, floor: float = 0.05) -> Callable[[int], float]:
    def fn(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return fn


def fit(
    model: nn.Module,
    make_inputs: InputFn,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    task: str,
    settings: TrainSettings,
    seed: int = 0,
    device: str | torch.device = "auto",
    threads: int | None = None,
    stop_epoch: int | None = None,
) -> TrainResult:
    """Train ``model`` on rows ``train_idx`` of ``y`` (float32 ``[n, T]``, NaN missing, standardized
    for regression).

    ``settings``: AdamW (``lr``, ``weight_decay``), linear warmup for ``warmup_epochs`` then cosine
    decay per step, gradient-norm clipping ``grad_clip``, early stopping after ``patience`` epochs
    without improvement of the validation score (mean ROC-AUC or -RMSE); the best weights
    are restored. Without validation rows it trains all ``epochs`` (or ``stop_epoch``, with the
    learning-rate schedule still laid out over ``epochs``, as a refit replays a selection run) and
    keeps the last weights.
    Logs ``epoch train_loss val_metric lr seconds`` each epoch.
    """
    if threads:
        torch.set_num_threads(int(threads))
    device = resolve_device(device) if isinstance(device, str) else device
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    model.to(device)
    y_t = torch.tensor(np.asarray(y, dtype=np.float32))
    pos_weight = None
    if task == "classification" and settings.pos_weight:
        pos_weight = positive_class_weights(y_t[torch.as_tensor(train_idx)]).to(device)
    epochs, batch_size = settings.epochs, settings.batch_size
    steps_per_epoch = max(1, len(_batches(train_idx, batch_size, np.random.default_rng(0))))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(settings.warmup_epochs * steps_per_epoch, epochs * steps_per_epoch)
    )
    patience = epochs if settings.patience is None else settings.patience
    clip = settings.grad_clip
    best_val, best_epoch, best_state, history = -math.inf, 0, None, []
    for epoch in range(1, min(epochs, stop_epoch or epochs) + 1):
        start = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for idx in _batches(train_idx, batch_size, rng):
            batch = make_inputs(idx).to(device)
            target = y_t[torch.as_tensor(idx)].to(device)
            loss = task_loss(task, model(batch), target, pos_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        val = (
            selection_score(task, y[val_idx], predict_raw(model, make_inputs, val_idx, device))
            if len(val_idx)
            else float("nan")
        )
        seconds = time.perf_counter() - start
        lr = optimizer.param_groups[0]["lr"]
        row = {
            "epoch": epoch,
            "train_loss": total / max(count, 1),
            "val_metric": val,
            "lr": lr,
            "seconds": seconds,
        }
        history.append(row)
        log.info(
            "epoch %d train_loss %.4f val_metric %.4f lr %.2e seconds %.2f",
            epoch,
            row["train_loss"],
            val,
            lr,
            seconds,
        )
        if not math.isnan(val) and val > best_val:
            best_val, best_epoch = val, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif best_state is not None and epoch - best_epoch >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch, best_val = len(history), float("nan")
    model.eval()
    return TrainResult(model, best_epoch, best_val, history)
