"""course.train.fit / evaluate: History contents, quiet mode, bad input."""
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn

from course.data import Dataset
from course.train import Callback, History, Trainer, evaluate, fit


def blobs(n=400, classes=4, seed=0):
    """A tiny separable image dataset: class k lights up quadrant k."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.3
    for k in range(classes):
        r, c = divmod(k, 2)
        x[y == k, :, r * 4:(r + 1) * 4, c * 4:(c + 1) * 4] += 0.7
    return Dataset("blobs", x[: n * 3 // 4], y[: n * 3 // 4], x[n * 3 // 4:], y[n * 3 // 4:],
                   [f"q{k}" for k in range(classes)], source="test")


def small_cnn(out=4):
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                         nn.Flatten(), nn.Linear(16, out))


def test_fit_learns_and_fills_history(capsys):
    data = blobs()
    history = fit(small_cnn(), data, epochs=4, lr=3e-2, batch_size=32, seed=0)
    assert isinstance(history, History) and len(history.epochs) == 4
    keys = {"epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "seconds", "images_per_s"}
    assert keys <= set(history.final)
    assert history.final["valid_acc"] > 0.9
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    steps = 4 * data.n_batches("train", 32)
    assert len(history.steps["lr"]) == len(history.steps["momentum"]) == len(history.steps["loss"]) == steps
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 4 and out[0].startswith("epoch  1/4"), "headless: one compact line per epoch"


def test_onecycle_schedule_shape():
    history = fit(small_cnn(), blobs(), epochs=3, lr=1e-2, batch_size=32, quiet=True)
    lr, mom = history.steps["lr"], history.steps["momentum"]
    peak = lr.index(max(lr))
    assert 0 < peak < len(lr) - 1, "lr warms up then anneals"
    assert max(lr) == pytest.approx(1e-2, rel=0.05)
    assert lr[-1] < lr[0] < max(lr)
    assert mom[peak] < mom[0] and mom[peak] < mom[-1], "momentum moves opposite to lr"


def test_constant_schedule_and_sgd():
    history = fit(small_cnn(), blobs(), epochs=1, lr=0.05, optimizer="sgd", schedule="constant", quiet=True)
    assert set(history.steps["lr"]) == {0.05} and set(history.steps["momentum"]) == {0.9}


def test_quiet_mode_writes_nothing_anywhere():
    code = textwrap.dedent("""
        import warnings; warnings.simplefilter("default")
        import sys; sys.path.insert(0, "tests")
        from test_train import blobs, small_cnn
        from course.train import fit, evaluate
        fit(small_cnn(), blobs(), epochs=2, lr=1e-2, quiet=True)
        evaluate(small_cnn(), blobs())
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == ""


def test_wrong_number_of_outputs_names_both_numbers():
    with pytest.raises(ValueError, match=r"outputs 7 values per image but the data has 4 classes"):
        fit(small_cnn(out=7), blobs(), epochs=1, quiet=True)
    with pytest.raises(ValueError, match="7 .* 4 classes"):
        evaluate(small_cnn(out=7), blobs())


def test_model_and_data_on_different_devices_are_moved():
    """The data lives on 'meta'-free CPU, the model is asked to train on CPU explicitly:
    fit moves both once; evaluate follows the model's device."""
    model = small_cnn().to(torch.float32)
    data = blobs()
    history = fit(model, data, epochs=1, quiet=True, device="cpu")
    assert next(model.parameters()).device.type == "cpu"
    # the accuracy fit reports is the model's on the test split, measured again independently
    assert history.final["valid_acc"] == evaluate(model, data)["acc"]
    assert history.final["valid_loss"] == pytest.approx(evaluate(model, data)["loss"], rel=1e-6)
    if torch.cuda.is_available():
        fit(model, data, epochs=1, quiet=True, device="cuda")
        assert next(model.parameters()).device.type == "cuda"
        assert evaluate(model, data)["acc"] > 0  # data on CPU, model on CUDA


def test_frozen_model_is_a_clear_error():
    model = small_cnn()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(model, blobs(), epochs=1, quiet=True)


def test_evaluate_restores_training_mode_and_is_deterministic_with_dropout():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 4))
    model.train()
    a, b = evaluate(model, blobs()), evaluate(model, blobs())
    assert a == b and model.training


def test_callbacks_see_every_event_in_order():
    events = []

    class Spy(Callback):
        def before_fit(self, t): events.append("before_fit")
        def after_batch(self, t): events.append("batch")
        def after_epoch(self, t): events.append("epoch")
        def after_fit(self, t): events.append("after_fit")

    data = blobs(64)
    fit(small_cnn(), data, epochs=2, batch_size=16, callbacks=[Spy()], quiet=True)
    n = data.n_batches("train", 16)
    assert events == ["before_fit"] + (["batch"] * n + ["epoch"]) * 2 + ["after_fit"]


def test_unknown_optimizer_and_schedule():
    with pytest.raises(ValueError, match="adamw"):
        fit(small_cnn(), blobs(), epochs=1, optimizer="lion", quiet=True)
    with pytest.raises(ValueError, match="onecycle"):
        fit(small_cnn(), blobs(), epochs=1, schedule="triangle", quiet=True)


@pytest.mark.parametrize("n", [8, 16, 32, 48, 64, 100])
def test_onecycle_survives_very_short_runs(n):
    """1 to 4 steps in all: no ZeroDivisionError inside the scheduler."""
    history = fit(small_cnn(), blobs(n), epochs=1, batch_size=16, quiet=True)
    assert len(history.steps["lr"]) == -(-(n * 3 // 4) // 16)


def test_trainer_takes_keywords_only():
    data = blobs(64)
    with pytest.raises(TypeError):
        Trainer(small_cnn(), data, 2, 1e-2)  # epochs and lr by position: refused
    history = Trainer(small_cnn(), data, epochs=2, batch_size=16, device="cpu").fit()
    assert len(history.epochs) == 2 and history.final["epoch"] == 2


def test_a_callback_may_replace_the_batch():
    """before_batch may swap trainer.xb / yb (augmentation does): the model trains on the new batch."""
    seen = []

    class Blank(Callback):
        def before_batch(self, trainer):
            trainer.xb = torch.zeros_like(trainer.xb)
            trainer.yb = torch.zeros_like(trainer.yb)

    labels = []

    def loss_fn(out, y, **kwargs):
        if not kwargs:  # training steps (evaluation asks for reduction="sum")
            labels.append(y.tolist())
        return torch.nn.functional.cross_entropy(out, y, **kwargs)

    model = small_cnn()
    model.register_forward_pre_hook(lambda m, inputs: seen.append(float(inputs[0].abs().sum()))
                                    if m.training else None)
    fit(model, blobs(64), epochs=2, batch_size=16, loss_fn=loss_fn, callbacks=[Blank()], quiet=True)
    assert len(seen) == 2 * 3 and set(seen) == {0.0}
    assert len(labels) == 2 * 3 and all(set(y) == {0} for y in labels)
