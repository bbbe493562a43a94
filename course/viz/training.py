"""Pictures of a training run, drawn from a History (training code never draws)."""
import io

import matplotlib.pyplot as plt

from course.train import Callback


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

    Outside a notebook the figure is still rendered (``last_png``), e.g. for benchmarks."""
    order = 10

    def before_fit(self, trainer):
        from course.config import in_notebook
        self.handle, self.last_png, self.redraws = None, None, 0
        if in_notebook():
            from IPython.display import display
            self.handle = display(_placeholder(), display_id=True)

    def after_epoch(self, trainer):
        fig = plot_history(trainer.history)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        self.last_png, self.redraws = buffer.getvalue(), self.redraws + 1
        if self.handle is not None:
            from IPython.display import Image
            self.handle.update(Image(data=self.last_png))


def _placeholder():
    from IPython.display import HTML
    return HTML("<i>training: the plot appears after the first epoch</i>")
