"""The events of a training run, fastai style: subclass ``Callback`` and override what you need.

    class Spy(Callback):
        def after_epoch(self, trainer):
            print(trainer.history.final["valid_loss"])

    fit(model, data, callbacks=[Spy()])

This module imports nothing of the course: the trainer (``course.trainer``), the observers
(``course.progress``, ``course.viz.training``) and the callbacks of the other modules all
depend on it, never on each other.
"""

__all__ = ["Callback", "EVENTS"]

EVENTS = ("before_fit", "before_epoch", "before_batch", "after_batch", "after_epoch", "after_fit")


class Callback:
    """Override any of the six events; each receives the ``Trainer``, in ``order`` (low first).

    What the trainer exposes: ``model``, ``data``, ``optimizer``, ``history``, ``epoch``,
    ``epochs``, ``step``, ``steps_per_epoch``, ``xb``, ``yb``, ``loss``, ``training``, ``device``.

    What a callback may do:

    - observe: read any of the above (progress bar, live plot, activation and gradient
      statistics record and never change the run);
    - change the batch: in ``before_batch`` replace ``trainer.xb`` / ``trainer.yb`` (e.g.
      ``course.transforms.AugmentTrainingBatches`` augments every training batch);
    - change the model's mode or parameters between steps (e.g.
      ``course.models.transfer.FrozenBatchNorm`` puts BatchNorm layers back in eval mode in
      ``before_batch``, after ``fit`` set the whole model to train mode).

    Callbacks that change the run say so in their docstring. The loop itself (forward,
    loss, backward, optimizer and schedule steps) is the trainer's and is not replaced.
    """
    order = 0

    def before_fit(self, trainer): pass
    def before_epoch(self, trainer): pass
    def before_batch(self, trainer): pass
    def after_batch(self, trainer): pass
    def after_epoch(self, trainer): pass
    def after_fit(self, trainer): pass
