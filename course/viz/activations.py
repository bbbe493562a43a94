"""Pictures of activation statistics recorded by ``course.hooks.ActivationStats`` (lecture 06).

plot_layer_stats(stats, layer)   mean, std and share near zero of one layer over the batches
plot_all_layers(stats)           the same three statistics, every layer on one set of axes
color_dim(stats, layer)          the "colourful dimension": one histogram per batch, stacked as columns
compare_color_dim(runs, layer)   colourful dimension of several runs side by side
"""
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_layer_stats", "plot_all_layers", "color_dim", "compare_color_dim",
           "compare_layer_stats"]

_TITLES = ("mean", "standard deviation", "share near zero")


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(y) < window:
        return y
    return np.convolve(y, np.ones(window) / window, mode="valid")


def plot_layer_stats(stats, layer=-1, axes=None, label=None, smooth: int = 1):
    """Three panels for one layer: mean, std, share of activations with |x| <= eps."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(12, 3), constrained_layout=True)
    name = stats.names[stats.index(layer)]
    series = (stats.mean(layer), stats.std(layer), stats.near_zero(layer))
    for ax, title, y in zip(axes, _TITLES, series):
        ax.plot(_smooth(y, smooth), label=label)
        ax.set_title(f"{title} ({name})", fontsize=10)
        ax.set_xlabel("batch")
    axes[2].set_ylim(-0.02, 1.02)
    return axes


def compare_layer_stats(runs: dict, layer=-1, smooth: int = 1):
    """``runs = {"no BN, lr 0.06": stats_a, "BN + one-cycle": stats_b}``: one line per run."""
    _, axes = plt.subplots(1, 3, figsize=(12, 3), constrained_layout=True)
    for label, stats in runs.items():
        plot_layer_stats(stats, layer, axes=axes, label=label, smooth=smooth)
    axes[0].legend(fontsize=8)
    return axes


def plot_all_layers(stats, smooth: int = 1):
    """Every watched layer on the same three panels, so depth can be read from the colours."""
    _, axes = plt.subplots(1, 3, figsize=(12, 3), constrained_layout=True)
    cmap = plt.get_cmap("viridis")
    n = len(stats.names)
    for i, name in enumerate(stats.names):
        series = (stats.mean(i), stats.std(i), stats.near_zero(i))
        for ax, y in zip(axes, series):
            ax.plot(_smooth(y, smooth), color=cmap(i / max(1, n - 1)), label=name)
    for ax, title in zip(axes, _TITLES):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("batch")
    axes[2].set_ylim(-0.02, 1.02)
    axes[2].legend(fontsize=7, title="layer", title_fontsize=7)
    return axes


def color_dim(stats, layer=-1, ax=None, title=None):
    """Histogram over time: column t is the histogram of the layer's activations at batch t.

    Counts are shown as log(1 + count): a bell curve's log is a parabola, much wider, so the
    whole distribution gets colour instead of only its peak. The bottom row is the bin at zero:
    a bright bottom band means most activations are (near) zero.
    """
    hist = stats.hist(layer)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
    lo, hi = stats.hist_range
    ax.imshow(np.log1p(hist.T), origin="lower", aspect="auto", cmap="viridis",
              extent=(0, max(1, len(hist)), lo, hi), interpolation="nearest")
    ax.set_xlabel("batch")
    ax.set_ylabel("activation value")
    ax.set_title(title or f"colourful dimension: {stats.names[stats.index(layer)]}", fontsize=10)
    return ax


def compare_color_dim(runs: dict, layer=-1):
    """The colourful dimension of the same layer in several runs, side by side."""
    _, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3), constrained_layout=True,
                           squeeze=False)
    for ax, (label, stats) in zip(axes[0], runs.items()):
        color_dim(stats, layer, ax=ax, title=f"{label}: {stats.names[stats.index(layer)]}")
    return axes[0]
