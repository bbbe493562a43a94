"""How large the gradient is at every depth of a network, during training or for one batch.

    norms = GradientNorms()                         # a course.train Callback
    fit(model, data, epochs=2, callbacks=[norms])
    norms.names                                     # ["stem.0.0", "stages.0.0.residual.0.0", ...] in depth order
    norms.per_layer()                               # mean L2 norm of each layer's weight gradient
    gradient_norms(model, x, y)                     # the same for a single batch, without training
    plot_gradient_norms({"plain": plain_norms, "residual": res_norms})

Only weights of convolutions and dense layers on the main path are followed (names with
"shortcut" or "downsample" are skipped), so layer i of a plain net and of its residual twin
are the same convolution. The recording happens after the backward pass and before the next
``zero_grad``, where every ``.grad`` holds the gradient of the last batch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course.callbacks import Callback

__all__ = ["GradientNorms", "tracked_layers", "gradient_norms", "plot_gradient_norms"]

SKIP = ("shortcut", "downsample")


def tracked_layers(model: nn.Module, skip=SKIP) -> list[tuple[str, nn.Module]]:
    """(name, layer) of every Conv2d / Linear on the main path, in definition (= depth) order."""
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, (nn.Conv2d, nn.Linear)) and not any(s in name for s in skip)]


def _weight_grad_norms(layers) -> list[float]:
    return [float(m.weight.grad.norm()) if m.weight.grad is not None else 0.0 for _, m in layers]


class GradientNorms(Callback):
    """Records the L2 norm of every tracked layer's weight gradient, every ``every`` steps."""
    order = 5

    def __init__(self, every: int = 1, skip=SKIP):
        self.every, self.skip = every, skip
        self.names: list[str] = []
        self.steps: list[int] = []
        self.norms: list[list[float]] = []   # one row per recorded step, one column per layer

    def before_fit(self, trainer):
        self._layers = tracked_layers(trainer.model, self.skip)
        self.names = [name for name, _ in self._layers]

    def after_batch(self, trainer):
        # trainer.step was already advanced; the gradients are those of the batch just done
        if (trainer.step - 1) % self.every == 0:
            self.steps.append(trainer.step - 1)
            self.norms.append(_weight_grad_norms(self._layers))

    def per_layer(self, first_steps: int | None = None) -> torch.Tensor:
        """Mean gradient norm of each layer over the recorded steps (or the first few of them)."""
        rows = self.norms[:first_steps] if first_steps else self.norms
        if not rows:
            raise ValueError("no gradients recorded yet: pass this callback to fit(...)")
        return torch.tensor(rows).mean(dim=0)


def gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn=None,
                   skip=SKIP) -> tuple[list[str], torch.Tensor]:
    """Names and weight-gradient norms of the tracked layers for one batch (the model is not updated)."""
    loss_fn = loss_fn or F.cross_entropy
    layers = tracked_layers(model, skip)
    model.zero_grad(set_to_none=True)
    was_training = model.training
    model.train()
    try:
        loss_fn(model(x), y).backward()
        norms = torch.tensor(_weight_grad_norms(layers))
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return [n for n, _ in layers], norms


def plot_gradient_norms(runs: dict, first_steps: int | None = None, ax=None, title=None):
    """Gradient norm against depth, one line per run (GradientNorms, a tensor or a list of norms)."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for label, run in runs.items():
        values = run.per_layer(first_steps) if isinstance(run, GradientNorms) else torch.as_tensor(run)
        ax.plot(range(1, len(values) + 1), values.numpy(), marker="o", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("weight gradient L2 norm")
    ax.set_title(title or "Gradient norm per layer")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
