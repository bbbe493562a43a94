"""Pictures of a training run, drawn from a History (training code never draws)."""
import time

import matplotlib.pyplot as plt

from course.callbacks import Callback
from course.viz.png import png_bytes


def plot_history(history, axes=None, title: str | None = None):
    """Loss and accuracy per epoch, training vs validation, side by side."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    else:
        fig = axes[0].figure
    epochs = history.series("epoch")
    for key, ax in zip(("loss", "acc"), axes):
        ax.clear()
        ax.plot(epochs, history.series(f"train_{key}"), "o-", label="train")
        ax.plot(epochs, history.series(f"valid_{key}"), "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if key == "acc" else "loss")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_schedule(history, axes=None):
    """Learning rate and momentum per step: one-cycle moves them in opposite directions."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    else:
        fig = axes[0].figure
    for key, ax in zip(("lr", "momentum"), axes):
        ax.plot(history.steps[key])
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate" if key == "lr" else "momentum (beta1)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


class LivePlot(Callback):
    """One figure in the notebook, redrawn in place after every epoch (not one per update).

    The figure and its lines are made once; a redraw only moves the lines' data and renders a
    PNG (about 50 ms), at most once per ``min_interval`` seconds and always after the last epoch,
    so drawing never costs more than a few per cent of a run. Outside a notebook the
    figure is still rendered (``last_png``), e.g. for benchmarks."""
    order = 10

    def __init__(self, min_interval: float = 2.0):
        self.min_interval = min_interval  # seconds between redraws; the last epoch is always drawn

    def before_fit(self, trainer):
        from course.config import in_notebook
        self.handle, self.last_png, self.redraws, self.drawn_epochs = None, None, 0, 0
        self._last_draw = time.perf_counter()  # first redraw after min_interval (or at the end)
        self.fig, axes = plt.subplots(1, 2, figsize=(8, 2.8))
        self.lines = {}
        for key, ax in zip(("loss", "acc"), axes):
            for split, style in (("train", "o-"), ("valid", "s-")):
                self.lines[f"{split}_{key}"], = ax.plot([], [], style, label="train" if split == "train" else "validation")
            ax.set_xlabel("epoch")
            ax.set_ylabel("accuracy" if key == "acc" else "loss")
            ax.grid(alpha=0.3)
            ax.legend(loc="upper right" if key == "loss" else "lower right", fontsize=8)  # "best" re-searches every draw
        self.axes = axes
        self.fig.tight_layout()
        plt.close(self.fig)  # drawn only through the PNG below, never as a second figure
        if in_notebook():
            from IPython.display import display
            self.handle = display(_placeholder(), display_id=True)

    def after_epoch(self, trainer):
        # like tqdm's mininterval: short epochs would spend more time drawing than training
        if time.perf_counter() - self._last_draw >= self.min_interval:
            self._draw(trainer.history)

    def after_fit(self, trainer):
        if self.drawn_epochs < len(trainer.history.epochs):  # the final picture is always complete
            self._draw(trainer.history)

    def _draw(self, history):
        epochs = history.series("epoch")
        for key, line in self.lines.items():
            line.set_data(epochs, history.series(key))
        for ax in self.axes:
            ax.relim()
            ax.autoscale_view()
        png = png_bytes(self.fig, close=False, tight=False)  # the same figure is redrawn next time
        self.last_png, self.redraws, self.drawn_epochs = png, self.redraws + 1, len(epochs)
        self._last_draw = time.perf_counter()
        if self.handle is not None:
            from IPython.display import Image
            self.handle.update(Image(data=self.last_png))


def _placeholder():
    from IPython.display import HTML
    return HTML("<i>training: the loss and accuracy plot appears here and updates every few seconds</i>")
