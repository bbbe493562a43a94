"""ActivationStats: what it records, that it sees ReLU when asked, that it leaks nothing."""
import gc
import weakref

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

matplotlib.use("Agg")

from course.hooks import ActivationStats, select_layers  # noqa: E402
from course.models.lenet import simple_cnn  # noqa: E402

torch.set_num_threads(1)


class TinyData:
    """The slice of course.data.Dataset that fit() uses, without loading MNIST."""

    def __init__(self, n=256, seed=0):
        from course.data import Dataset
        g = torch.Generator().manual_seed(seed)
        x = torch.rand(n, 1, 28, 28, generator=g)
        y = torch.randint(0, 2, (n,), generator=g)
        self.ds = Dataset("tiny", x, y, x[:64], y[:64], classes=["a", "b"])


def test_select_layers_kinds():
    model = simple_cnn()
    with_params = [n for n, _ in select_layers(model)]
    assert with_params == ["0.0", "1.0", "2.0", "3.0", "4.0"]  # the five convolutions
    relus = select_layers(model, nn.ReLU)
    assert len(relus) == 4 and all(isinstance(m, nn.ReLU) for _, m in relus)
    everything = [n for n, _ in select_layers(model, "all")]
    assert "0.1" in everything and "5" in everything  # ReLU and Flatten: no parameters
    picked = select_layers(model, [model[1][0], "2.1"])
    assert [n for n, _ in picked] == ["1.0", "2.1"]
    with pytest.raises(ValueError):
        select_layers(model, nn.BatchNorm2d)


def test_records_match_direct_computation():
    torch.manual_seed(0)
    model = simple_cnn()
    x = torch.randn(32, 1, 28, 28)
    stats = ActivationStats(layers=nn.ReLU, bins=20, hist_range=(0, 4), eps=0.05)
    with stats.watch(model):
        model(x)
        model(x)
    assert stats.names == ["0.1", "1.1", "2.1", "3.1"] and stats.n_steps == 2
    relu_out = model[0](x).detach()
    assert stats.mean(0)[0] == pytest.approx(relu_out.mean().item(), rel=1e-5)
    assert stats.std(0)[0] == pytest.approx(relu_out.std().item(), rel=1e-5)
    assert stats.near_zero(0)[0] == pytest.approx((relu_out.abs() <= 0.05).float().mean().item(), rel=1e-5)
    hist = stats.hist(0)
    assert hist.shape == (2, 20)
    expected = torch.histc(relu_out, bins=20, min=0, max=4).numpy()
    assert np.allclose(hist[0], expected)
    # ReLU outputs are >= 0, so a large share sits at exactly zero
    assert stats.near_zero("0.1")[0] > 0.2
    assert stats.index(-1) == 3 and stats.index("2.1") == 2


def test_eval_mode_passes_are_not_recorded_and_every_skips():
    model = simple_cnn()
    x = torch.randn(8, 1, 28, 28)
    stats = ActivationStats(every=3)
    with stats.watch(model):
        for _ in range(7):
            model(x)
        model.eval()
        model(x)
    assert stats.n_steps == 3  # batches 1, 4, 7


def test_hooks_removed_and_no_activation_kept_alive():
    model = simple_cnn()
    stats = ActivationStats(layers="all", flush_every=4)
    stats.attach(model)
    assert all(len(m._forward_hooks) == 1 for _, m in select_layers(model, "all"))
    out = model(torch.randn(16, 1, 28, 28, requires_grad=True))
    ref = weakref.ref(out)  # the Flatten output is also a watched activation
    del out
    gc.collect()
    assert ref() is None, "the recorder keeps a reference to an activation"
    for _ in range(9):
        model(torch.randn(16, 1, 28, 28))
    stats.remove()
    assert not stats.attached
    assert all(len(m._forward_hooks) == 0 for m in model.modules())
    for name in stats.names:
        table = stats.table(name)
        assert isinstance(table, np.ndarray) and table.shape == (10, 3 + stats.bins)


def test_memory_per_batch_is_small_and_constant():
    model = simple_cnn()
    stats = ActivationStats(layers="all", flush_every=10)
    x = torch.randn(64, 1, 28, 28)
    with stats.watch(model):
        for _ in range(20):
            model(x)
        first = stats.nbytes()
        for _ in range(20):
            model(x)
    per_batch = first / 20
    assert stats.nbytes() == pytest.approx(2 * first, rel=0.05)
    # one float32 row of 3 + 40 numbers per layer and batch, not an activation (64 x 4 x 14 x 14)
    assert per_batch <= len(stats.names) * (3 + stats.bins) * 4 * 1.01
    assert per_batch < 64 * 4 * 14 * 14 * 4 / 10


def test_works_as_fit_callback_and_detaches_after():
    from course.train import fit
    data = TinyData().ds
    model = simple_cnn()
    stats = ActivationStats(layers=nn.ReLU)
    history = fit(model, data, epochs=2, lr=1e-2, batch_size=64, callbacks=[stats], quiet=True,
                  device="cpu", seed=0)
    steps = len(history.steps["loss"])
    assert steps == 8
    assert stats.n_steps == steps  # evaluation passes are not mixed in
    assert all(len(m._forward_hooks) == 0 for m in model.modules())
    final = stats.final(window=3)
    assert set(final) == set(stats.names) and 0 <= final["0.1"]["near_zero"] <= 1


def test_plots_draw():
    import matplotlib.pyplot as plt

    from course.viz.activations import color_dim, compare_color_dim, compare_layer_stats, plot_all_layers, plot_layer_stats
    model = simple_cnn()
    stats = ActivationStats(layers=nn.ReLU)
    with stats.watch(model):
        for _ in range(5):
            model(torch.randn(8, 1, 28, 28))
    axes = plot_layer_stats(stats, -1)
    assert len(axes) == 3 and len(axes[0].lines) == 1 and len(axes[0].lines[0].get_ydata()) == 5
    assert len(plot_all_layers(stats)[0].lines) == 4
    ax = color_dim(stats, 0)
    assert ax.images[0].get_array().shape == (stats.bins, 5)
    assert len(compare_color_dim({"a": stats, "b": stats}, -1)) == 2
    assert len(compare_layer_stats({"a": stats, "b": stats})[1].lines) == 2
    plt.close("all")


def test_hooks_store_what_fn_returns_and_come_off_even_on_error():
    from course.hooks import Hooks, eval_mode
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with Hooks([model[0], model[2]], lambda m, i, o: tuple(o.shape)) as hooks:
        model(torch.zeros(5, 3))
        assert hooks.stored == [(5, 4), (5, 2)] and hooks.attached and len(hooks) == 2
    assert not hooks.attached and all(not m._forward_hooks for m in model)

    def fail(m, i, o):
        raise KeyError("stop")

    model.train()
    with pytest.raises(KeyError):
        with Hooks([model[1]], fail), eval_mode(model):
            assert not model.training
            model(torch.zeros(1, 3))
    assert model.training and not model[1]._forward_hooks  # mode restored, hook removed


def test_every_hook_user_goes_through_hooks():
    """ActivationStats, count_macs, layer_table and capture register no hook of their own."""
    import inspect

    import course.complexity
    import course.hooks
    import course.viz.features
    users = [course.complexity.count_macs, course.complexity.layer_table, course.viz.features.capture,
             course.hooks.ActivationStats]
    assert all("register_forward_hook" not in inspect.getsource(u) for u in users)
    assert inspect.getsource(course.hooks).count("register_forward_hook") == 1
