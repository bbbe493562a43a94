"""The training loop and evaluation: ``Trainer`` runs the steps and calls the callbacks.

    trainer = Trainer(model, data, epochs=3, lr=3e-3, callbacks=[ActivationStats()])
    history = trainer.fit()
    evaluate(model, data)          # {"loss": ..., "acc": ...}

The trainer knows nothing about progress bars or plots: those are callbacks that
``course.train.fit`` adds. Device-aware: the model and the data move to ``pick_device()``
(or ``device=``) once; on CUDA the forward pass runs in mixed precision with channels_last
tensors.
"""
import math
import time
from contextlib import nullcontext

import torch
import torch.nn as nn
import torch.nn.functional as F

from course.device import ensure_threads, pick_device, uses_amp
from course.history import History
from course.hooks import eval_mode

__all__ = ["Trainer", "evaluate", "make_optimizer", "make_schedule", "current_momentum"]


# --- optimizers and schedules ---------------------------------------------------------------
def make_optimizer(optimizer, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer(params, lr)
    name = optimizer.lower()
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {optimizer!r}; use 'adamw', 'adam', 'sgd' or a callable(params, lr)")


def make_schedule(schedule, optimizer, lr: float, total_steps: int):
    """One-cycle: lr warms up to ``lr`` then anneals; momentum moves the opposite way."""
    if schedule in (None, "constant"):
        return None
    if schedule == "onecycle":
        if total_steps < 4:  # too short to warm up and anneal: keep lr constant
            return None
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                   pct_start=max(0.25, 1.5 / total_steps),
                                                   div_factor=25, final_div_factor=1e3)
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    raise ValueError(f"unknown schedule {schedule!r}; use 'onecycle', 'cosine' or 'constant'")


def current_momentum(optimizer) -> float:
    group = optimizer.param_groups[0]
    if "betas" in group:
        return float(group["betas"][0])
    return float(group.get("momentum", 0.0))


# --- evaluation -------------------------------------------------------------------------------
def _model_device(model: nn.Module) -> torch.device:
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


@torch.no_grad()
def evaluate(model: nn.Module, data, split: str = "test", device=None, batch_size: int = 1024,
             loss_fn=None) -> dict:
    """Mean loss and accuracy of ``model`` on a split, in eval mode (restored afterwards)."""
    device = torch.device(device) if device is not None else _model_device(model)
    model.to(device)
    loss_fn = loss_fn or F.cross_entropy
    total, loss_sum, correct = 0, torch.zeros((), device=device), torch.zeros((), device=device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if uses_amp(device) else nullcontext()
    with eval_mode(model):
        for xb, yb in data.batches(split, batch_size=batch_size, shuffle=False, device=device):
            with autocast:
                out = model(xb)
            _check_outputs(out, data)
            loss_sum += loss_fn(out.float(), yb, reduction="sum")
            correct += (out.argmax(1) == yb).sum()
            total += len(yb)
    return {"loss": loss_sum.item() / total, "acc": correct.item() / total}


def _check_outputs(out: torch.Tensor, data) -> None:
    n_classes = getattr(data, "n_classes", None)
    if n_classes is not None and (out.ndim != 2 or out.shape[1] != n_classes):
        got = out.shape[1] if out.ndim == 2 else tuple(out.shape[1:])
        raise ValueError(f"the model outputs {got} values per image but the data has {n_classes} "
                         f"classes: make the last layer produce {n_classes} outputs "
                         f"(e.g. nn.Linear(..., {n_classes}))")


# --- the training loop ------------------------------------------------------------------------
class Trainer:
    """Runs the loop and calls the callbacks (see ``course.callbacks.Callback`` for what they may do).

    Everything but the model and the data is a keyword argument, with ``fit``'s defaults.
    """

    def __init__(self, model, data, *, epochs: int = 3, lr: float = 3e-3, optimizer="adamw",
                 schedule: str = "onecycle", device=None, batch_size: int = 128,
                 weight_decay: float = 0.0, loss_fn=None, callbacks=(), clip_grad: float | None = None):
        ensure_threads()  # training starts here: a sensible CPU thread count unless one was chosen
        self.device = torch.device(device) if device is not None else pick_device()
        self.model = model.to(self.device)
        self.data = data.to(self.device) if data.device != self.device else data
        self.epochs, self.batch_size, self.clip_grad = epochs, batch_size, clip_grad
        self.loss_fn = loss_fn or F.cross_entropy
        self.valid_split = "valid" if data.valid_x is not None else "test"
        self.amp = uses_amp(self.device)
        if self.amp:
            self.model = self.model.to(memory_format=torch.channels_last)
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no trainable parameters (all requires_grad=False): "
                             "unfreeze at least the last layer before fit()")
        self.optimizer = make_optimizer(optimizer, params, lr, weight_decay)
        self.steps_per_epoch = data.n_batches("train", batch_size)
        self.scheduler = make_schedule(schedule, self.optimizer, lr, epochs * self.steps_per_epoch)
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self.history = History()
        self.epoch = self.step = 0
        self.xb = self.yb = self.loss = None
        self.training = False

    def _emit(self, event: str):
        for cb in self.callbacks:
            getattr(cb, event)(self)

    def _to_input(self, xb):
        if self.amp and xb.ndim == 4:
            return xb.contiguous(memory_format=torch.channels_last)
        return xb

    def train_step(self, xb, yb):
        self.xb, self.yb = self._to_input(xb), yb
        self._emit("before_batch")  # a callback may replace xb / yb here (augmentation)
        with torch.autocast("cuda", dtype=torch.bfloat16) if self.amp else nullcontext():
            out = self.model(self.xb)
        if self.step == 0:
            _check_outputs(out, self.data)
        self.loss = self.loss_fn(out.float(), self.yb)
        self.optimizer.zero_grad(set_to_none=True)
        self.loss.backward()
        if self.clip_grad:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad)
        self._record_step()
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        self.step += 1
        self._emit("after_batch")
        return out

    def _record_step(self):
        self.history.steps["lr"].append(self.optimizer.param_groups[0]["lr"])
        self.history.steps["momentum"].append(current_momentum(self.optimizer))
        self._step_losses.append(self.loss.detach())

    def run_epoch(self):
        self.model.train()
        self.training = True
        self._step_losses = []
        correct = torch.zeros((), device=self.device)
        seen, start = 0, time.perf_counter()
        for xb, yb in self.data.batches("train", self.batch_size, shuffle=True):
            out = self.train_step(xb, yb)
            correct += (out.detach().argmax(1) == self.yb).sum()
            seen += len(self.yb)
        losses = torch.stack(self._step_losses).float()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        train_seconds = time.perf_counter() - start
        self.history.steps["loss"].extend(losses.tolist())
        self.training = False
        valid = evaluate(self.model, self.data, self.valid_split, self.device, loss_fn=self.loss_fn)
        return {"epoch": self.epoch + 1, "train_loss": _mean_of_sizes(losses, seen, self.batch_size),
                "train_acc": correct.item() / seen, "valid_loss": valid["loss"], "valid_acc": valid["acc"],
                "seconds": time.perf_counter() - start, "images_per_s": seen / train_seconds}

    def fit(self) -> History:
        self._emit("before_fit")
        try:
            for epoch in range(self.epochs):
                self.epoch = epoch  # callbacks read it
                self._emit("before_epoch")
                self.history.epochs.append(self.run_epoch())
                self._emit("after_epoch")
        finally:
            self._emit("after_fit")
        return self.history


def _mean_of_sizes(losses: torch.Tensor, seen: int, batch_size: int) -> float:
    """Mean per-image loss from per-batch means (the last batch may be smaller)."""
    sizes = torch.full((len(losses),), float(batch_size))
    sizes[-1] = seen - batch_size * (len(losses) - 1)
    value = float((losses.cpu() * sizes).sum() / seen)
    return value if math.isfinite(value) else float("nan")
