"""Progress reporting for fit: a tqdm bar in notebooks, one line per epoch headless."""
from course.callbacks import Callback


def epoch_line(e: dict, epochs: int) -> str:
    return (f"epoch {e['epoch']:>2}/{epochs}  train loss {e['train_loss']:.4f}  acc {e['train_acc']:.2%}  "
            f"valid loss {e['valid_loss']:.4f}  acc {e['valid_acc']:.2%}  "
            f"{e['seconds']:.1f}s  {e['images_per_s']:,.0f} img/s")


class EpochPrinter(Callback):
    """Headless runs: one compact line per epoch on stdout."""

    def after_epoch(self, trainer):
        print(epoch_line(trainer.history.final, trainer.epochs), flush=True)


class ProgressBar(Callback):
    """A tqdm.auto bar over all steps (a widget in JupyterLab), its postfix the latest loss.

    ``file`` redirects a terminal bar (benchmarks pass a null stream)."""

    def __init__(self, file=None):
        self.file = file

    def before_fit(self, trainer):
        from tqdm.auto import tqdm
        self.bar = tqdm(total=trainer.epochs * trainer.steps_per_epoch, unit="batch", leave=True,
                        file=self.file)

    def after_batch(self, trainer):
        self.bar.update(1)

    def after_epoch(self, trainer):
        e = trainer.history.final
        self.bar.set_postfix_str(f"epoch {e['epoch']}: loss {e['train_loss']:.3f}, "
                                 f"valid acc {e['valid_acc']:.1%}", refresh=True)

    def after_fit(self, trainer):
        self.bar.close()
