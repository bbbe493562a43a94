"""Training for the lectures: ``fit`` returns a ``History``; progress and plots are observers.

    history = fit(model, mnist(), epochs=3, lr=3e-3)        # one-cycle AdamW by default
    evaluate(model, data)                                    # {"loss": ..., "acc": ...}

``fit`` composes the run: the loop is ``course.trainer.Trainer``, which knows nothing of
progress bars or plots; ``default_observers`` adds them. In a notebook a tqdm progress bar
and one live plot (updated in place) follow the run; headless it prints one line per
epoch; ``quiet=True`` writes nothing at all (graded cells need a clean stderr).
"""
import torch.nn as nn

from course.callbacks import Callback
from course.config import in_notebook
from course.device import seed_everything
from course.history import History
from course.trainer import Trainer, current_momentum, evaluate, make_optimizer, make_schedule

# Callback, History, evaluate and the trainer's helpers keep their old home here too.
__all__ = ["fit", "default_observers", "evaluate", "History", "Callback", "Trainer",
           "make_optimizer", "make_schedule", "current_momentum"]


def default_observers(quiet: bool = False, plot: bool | None = None) -> list:
    """What follows a run: a tqdm bar (notebook) or one line per epoch, and a live plot in notebooks."""
    if quiet:
        return []
    from course.progress import EpochPrinter, ProgressBar
    notebook = in_notebook()
    observers = [ProgressBar() if notebook else EpochPrinter()]
    if plot if plot is not None else notebook:
        from course.viz.training import LivePlot  # pyplot only when a plot is wanted
        observers.append(LivePlot())
    return observers


def fit(model: nn.Module, data, epochs: int = 3, lr: float = 3e-3, optimizer="adamw",
        schedule: str = "onecycle", device=None, batch_size: int = 128, weight_decay: float = 0.0,
        loss_fn=None, callbacks=(), quiet: bool = False, plot: bool | None = None,
        seed: int | None = None, clip_grad: float | None = None) -> History:
    """Train ``model`` on ``data`` (a course.data.Dataset) and return its History.

    Progress: a tqdm bar and a live plot in notebooks (``plot=False`` turns the plot off),
    one printed line per epoch headless, nothing at all with ``quiet=True``.
    """
    if seed is not None:
        seed_everything(seed)
    trainer = Trainer(model, data, epochs=epochs, lr=lr, optimizer=optimizer, schedule=schedule,
                      device=device, batch_size=batch_size, weight_decay=weight_decay,
                      loss_fn=loss_fn, callbacks=[*callbacks, *default_observers(quiet, plot)],
                      clip_grad=clip_grad)
    return trainer.fit()
