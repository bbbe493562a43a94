"""Forward hooks, fastai style: the plumbing (``Hooks``, ``eval_mode``) and ``ActivationStats``.

    with Hooks(modules, fn) as hooks, eval_mode(model), torch.no_grad():
        model(x)                                   # fn(module, inputs, output) runs per module
    hooks.stored                                   # what fn returned, one entry per module

``count_macs`` and ``layer_table`` (course.complexity), ``capture`` (course.viz.features) and
``ActivationStats`` below all look inside a model through ``Hooks``.

Activation statistics per layer, recorded while a model trains::

    stats = ActivationStats(layers=nn.ReLU)        # or None: every layer with parameters
    history = fit(model, data, callbacks=[stats])  # hooks go on in before_fit, off in after_fit
    stats.mean(-1), stats.std(-1), stats.near_zero(-1), stats.hist(-1)   # numpy, one row per batch

Or without ``fit``::

    with ActivationStats(layers="all").watch(model) as stats:
        model(x)

Each training batch adds, per layer, three numbers and a ``bins``-long histogram, computed
on the device without building a graph and moved to the CPU in small blocks: memory grows
by a few hundred bytes per layer and batch, never by an activation tensor. The plots are in
``course.viz.activations``.
"""
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from course.callbacks import Callback

__all__ = ["Hooks", "eval_mode", "ActivationStats", "select_layers", "layer_summary"]


class Hooks:
    """A forward hook on each of ``modules``; removed by ``remove()`` or on leaving ``with``.

    ``fn(module, inputs, output)`` runs after each module's forward pass; what it returns is
    kept in ``stored`` (one entry per module, the latest call's). Exceptions raised by ``fn``
    propagate (``capture`` uses one to stop the forward pass early).
    """

    def __init__(self, modules, fn):
        self.modules = list(modules)
        self.stored = [None] * len(self.modules)
        self._handles = [m.register_forward_hook(self._keeper(i, fn)) for i, m in enumerate(self.modules)]

    def _keeper(self, index: int, fn):
        def hook(module, inputs, output):
            self.stored[index] = fn(module, inputs, output)
        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def __len__(self):
        return len(self.modules)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


@contextmanager
def eval_mode(model: nn.Module):
    """The model in eval mode inside the block, its own mode restored after (even on error)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _is_leaf(module: nn.Module) -> bool:
    return next(module.children(), None) is None


def select_layers(model: nn.Module, layers=None) -> list[tuple[str, nn.Module]]:
    """(name, module) pairs to watch.

    ``None``: leaf modules that own parameters (convolutions, linear layers, batch norms);
    ``"all"``: every leaf module, parameter-free ones (ReLU, pooling) included;
    a module class or tuple of classes: the modules of those types (``nn.ReLU``);
    a list of modules or of names: exactly those.
    """
    named = [(n, m) for n, m in model.named_modules() if n]
    if layers is None:
        return [(n, m) for n, m in named if _is_leaf(m) and any(True for _ in m.parameters(recurse=False))]
    if layers == "all":
        return [(n, m) for n, m in named if _is_leaf(m)]
    if isinstance(layers, type) or (isinstance(layers, tuple) and all(isinstance(t, type) for t in layers)):
        found = [(n, m) for n, m in named if isinstance(m, layers)]
        if not found:
            raise ValueError(f"the model has no layer of type {layers}")
        return found
    by_name, by_id = dict(named), {id(m): n for n, m in named}
    picked = []
    for item in layers:
        if isinstance(item, str):
            picked.append((item, by_name[item]))
        elif id(item) in by_id:
            picked.append((by_id[id(item)], item))
        else:
            raise ValueError(f"{item!r} is not a layer of this model")
    return picked


def layer_summary(out: torch.Tensor, bins: int, hist_range: tuple, eps: float) -> torch.Tensor:
    """[mean, std, share with |x| <= eps, histogram...] of one activation, as one small tensor."""
    x = out.detach().float().flatten()
    near = (x.abs() <= eps).float().mean()
    hist = torch.histc(x, bins=bins, min=hist_range[0], max=hist_range[1])
    return torch.cat([torch.stack([x.mean(), x.std(), near]), hist])


class ActivationStats(Callback):
    """Mean, standard deviation, share near zero and a histogram of each watched layer's output.

    layers       which layers (see ``select_layers``); ``nn.ReLU`` shows what the next layer receives
    bins, hist_range   the histogram (activations outside the range are not counted)
    eps          "near zero" means |x| <= eps
    every        record one training batch in ``every`` (long runs)
    flush_every  move the summaries to the CPU every so many recorded batches (one sync, not one per layer)
    Only forward passes in training mode are recorded: evaluation batches are not mixed in.
    """

    def __init__(self, layers=None, bins: int = 40, hist_range=(0.0, 10.0), eps: float = 0.05,
                 every: int = 1, flush_every: int = 50):
        self.layers, self.bins, self.hist_range = layers, bins, tuple(hist_range)
        self.eps, self.every, self.flush_every = eps, max(1, every), max(1, flush_every)
        self.names: list[str] = []
        self._hooks: Hooks | None = None
        self._pending: list[list[torch.Tensor]] = []
        self._blocks: list[list[np.ndarray]] = []
        self._calls = 0

    # --- attaching --------------------------------------------------------------------------
    def attach(self, model: nn.Module) -> "ActivationStats":
        """Put one forward hook on each watched layer (and forget earlier records)."""
        self.remove()
        chosen = select_layers(model, self.layers)
        self.names = [n for n, _ in chosen]
        self._pending = [[] for _ in chosen]
        self._blocks = [[] for _ in chosen]
        self._calls = 0
        self._index = {id(module): i for i, (_, module) in enumerate(chosen)}
        self._hooks = Hooks((module for _, module in chosen), self._record)
        return self

    def remove(self) -> None:
        """Take the hooks off and move what is still on the device to the CPU."""
        if self._hooks is not None:
            self._hooks.remove()
        self._flush()

    @property
    def attached(self) -> bool:
        return self._hooks is not None and self._hooks.attached

    @contextmanager
    def watch(self, model: nn.Module):
        self.attach(model)
        try:
            yield self
        finally:
            self.remove()

    def _record(self, module, inputs, output):
        if not module.training or not torch.is_tensor(output):
            return
        index = self._index[id(module)]
        if index == 0:
            self._calls += 1  # one forward pass of the model = one call of its first watched layer
        if (self._calls - 1) % self.every:
            return
        with torch.no_grad():
            self._pending[index].append(layer_summary(output, self.bins, self.hist_range, self.eps))
        if index == len(self._pending) - 1 and len(self._pending[index]) >= self.flush_every:
            self._flush()

    def _flush(self) -> None:
        for i, pending in enumerate(self._pending):
            if pending:
                self._blocks[i].append(torch.stack(pending).cpu().numpy())
                self._pending[i] = []

    # --- the Callback interface of course.train.fit ------------------------------------------
    def before_fit(self, trainer):
        self.attach(trainer.model)

    def after_epoch(self, trainer):
        self._flush()

    def after_fit(self, trainer):
        self.remove()

    # --- reading -----------------------------------------------------------------------------
    def index(self, layer) -> int:
        """A layer's position from its index (negative allowed) or its name."""
        if isinstance(layer, str):
            return self.names.index(layer)
        return range(len(self.names))[layer]

    def table(self, layer) -> np.ndarray:
        """steps x (3 + bins): mean, std, near-zero share, histogram, one row per recorded batch."""
        i = self.index(layer)
        self._flush()
        blocks = self._blocks[i]
        return np.concatenate(blocks) if blocks else np.zeros((0, 3 + self.bins), dtype=np.float32)

    def mean(self, layer) -> np.ndarray:
        return self.table(layer)[:, 0]

    def std(self, layer) -> np.ndarray:
        return self.table(layer)[:, 1]

    def near_zero(self, layer) -> np.ndarray:
        return self.table(layer)[:, 2]

    def hist(self, layer) -> np.ndarray:
        """steps x bins counts over ``hist_range``."""
        return self.table(layer)[:, 3:]

    @property
    def n_steps(self) -> int:
        return len(self.table(0)) if self.names else 0

    def nbytes(self) -> int:
        """Memory held by the records (for the no-leak test and for the curious)."""
        held = sum(b.nbytes for blocks in self._blocks for b in blocks)
        return held + sum(t.numel() * t.element_size() for p in self._pending for t in p)

    def final(self, window: int = 10) -> dict:
        """Per layer, the statistics averaged over the last ``window`` recorded batches."""
        out = {}
        for name in self.names:
            t = self.table(name)[-window:]
            out[name] = {"mean": float(t[:, 0].mean()), "std": float(t[:, 1].mean()),
                         "near_zero": float(t[:, 2].mean())}
        return out

    def __repr__(self):
        return f"ActivationStats({len(self.names)} layers, {self.n_steps if self.names else 0} batches)"
