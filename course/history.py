"""What a training run measured: one dict per epoch and per-step series (a plain record).

    history.epochs      # [{"epoch": 1, "train_loss": ..., "valid_acc": ..., "seconds": ...}, ...]
    history.steps       # {"lr": [...], "momentum": [...], "loss": [...]}, one value per step
    history.final, history.series("valid_acc"), history.best("valid_acc")
    history.plot(), history.plot_schedule()   # drawn by course.viz.training
"""

__all__ = ["History"]


class History:
    """One dict per epoch and per-step series (lr, momentum, loss)."""

    def __init__(self):
        self.epochs: list[dict] = []
        self.steps: dict[str, list] = {"lr": [], "momentum": [], "loss": []}

    @property
    def final(self) -> dict:
        return self.epochs[-1] if self.epochs else {}

    def series(self, key: str) -> list:
        return [e[key] for e in self.epochs]

    def best(self, key: str = "valid_acc") -> float:
        return max(self.series(key))

    def plot(self, **kwargs):
        # imported when asked: a History is data, pyplot is loaded only to draw it
        from course.viz.training import plot_history
        return plot_history(self, **kwargs)

    def plot_schedule(self, **kwargs):
        from course.viz.training import plot_schedule
        return plot_schedule(self, **kwargs)

    def __repr__(self):
        if not self.epochs:
            return "History(empty)"
        f = self.final
        return (f"History({len(self.epochs)} epochs; final train loss {f['train_loss']:.4f}, "
                f"valid loss {f['valid_loss']:.4f}, valid acc {f['valid_acc']:.2%})")
