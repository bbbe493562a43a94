"""Lectures 05-07 executed headless: every figure they state, their timing, their hygiene;
plus the helpers only they use (course.regularization, course.augment).

Fast mode runs by default (each lecture within 60 s); full mode (the slow tests) checks the
4-minute budget and the comparisons that only hold with the full budget. Timing limits are for a
quiet machine, scaled by COURSE_TIMING_SLACK (tests/nbrun.py's time_limit).
"""
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nbrun import assert_committed_clean, assert_ran_cleanly, execute_notebook, figures, outputs_text, run_once, time_limit

# one worker runs this file, so each lecture is executed once and its run shared by the tests
pytestmark = pytest.mark.xdist_group("lectures_05_07")

ROOT = Path(__file__).resolve().parents[1]
LECTURES = {
    "05": ROOT / "lectures" / "05_lenet.ipynb",
    "06": ROOT / "lectures" / "06_training_deep_cnns.ipynb",
    "07": ROOT / "lectures" / "07_regularization.ipynb",
}
FAST_LIMIT_S, FULL_LIMIT_S = 60, 240


def executed(key: str):
    return run_once(LECTURES[key])


def prose(nb) -> str:
    """The sentences the lecture's course.say cells rendered (Markdown outputs)."""
    return "\n".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells
                     for o in c.get("outputs", []))


# -- hygiene: committed files --------------------------------------------------------------
@pytest.mark.parametrize("key", LECTURES)
def test_committed_without_outputs(key):
    assert_committed_clean(LECTURES[key])
    assert "course.record(" in LECTURES[key].read_text()


# -- every notebook runs cleanly ------------------------------------------------------------
@pytest.mark.parametrize("key", LECTURES)
def test_runs_fast_without_errors(key):
    nb = executed(key)
    text = outputs_text(nb)
    assert "Traceback" not in text
    assert_ran_cleanly(nb, limit_s=time_limit(FAST_LIMIT_S), min_images=4)
    n_questions = [int(n) for n in re.findall(r"Self-check \((\d+) questions\)", text)]
    assert len(n_questions) == 1 and n_questions[0] >= 8
    assert "Русский" in text and "Polski" in text  # the glossary table


# -- lecture 05 ----------------------------------------------------------------------------
def test_lecture_05_figures():
    f = figures(executed("05"))
    assert f["c3_table_shape"] == [6, 16]                   # seed 002
    assert f["c3_connections"] == 60
    assert f["c3_inputs_per_map"] == [3] * 6 + [4] * 9 + [6]
    assert f["c3_gradient_matches_table"] is True
    assert f["lenet1998_c3_params"] == 1_516 and f["c3_params_if_full"] == 2_416
    assert 58_000 <= f["lenet1998_params"] <= 62_000        # "about 60K" (seed 001)
    assert f["lenet1998_params"] == sum(f["lenet1998_layer_params"].values()) == 60_850
    assert f["lenet1998_layer_params"]["c5"] == 48_120
    assert f["lenet_modern_params"] == 61_706
    assert f["lenet_modern_bn_params"] > f["lenet_modern_params"]
    assert f["simple_cnn_first_conv"] == 40                  # seed 003
    assert f["simple_cnn_second_conv"] == 296
    assert f["simple_cnn_third_conv"] == 1_168
    assert f["simple_cnn_params"] == 6_722
    assert f["seed_macs"] == [56_448, 56_448]
    assert f["simple_cnn_macs"] == [7 * 7 * 288, 4 * 4 * 1_152]
    assert f["simple_cnn_macs_no_doubling"] * 2 == f["simple_cnn_macs"][1]
    assert f["no_doubling_ratio"] == 2                       # twofold, not fourfold (issue 13)
    # the hook counts output positions x weights; course.complexity agrees
    assert f["simple_cnn_macs_hooked"] == [14 * 14 * 36, 7 * 7 * 288, 4 * 4 * 1_152, 2 * 2 * 4_608, 576]
    assert f["simple_cnn_macs_total"] == sum(f["simple_cnn_macs_hooked"])
    assert f["hook_count_matches_complexity"] is True
    # the seed counts input positions: 4x too many for 14 -> 7, 49/16 for 7 -> 4
    assert f["seed_overcount"] == [4.0, pytest.approx(49 / 16)]
    assert f["simple_cnn_helper_matches"] is True            # the inline network == simple_cnn()
    assert 0.7 < f["c5_share"] < 0.85                        # "most of them in C5"
    assert f["relu_slopes"] == [0.0, 1.0] and all(s < 0.02 for s in f["tanh_slopes"])
    n37_train, n37_test = f["simple_cnn_37_sizes"]
    assert n37_train >= 800 and n37_test >= 200              # the 3s and 7s of the data
    assert f["simple_cnn_37_acc"] > 0.85                     # 3 vs 7 is easy; seed 003: 99%
    assert f["mlp_params"] == 932_362                       # seed 004
    assert f["cnn_over_mlp_param_ratio"] > 10
    for key in ("lenet1998_acc", "lenet_modern_acc", "mlp_acc"):
        assert 0.3 < f[key] <= 1.0, key                     # all learn, even in fast mode
    text = prose(executed("05"))
    gap = f["lenet_modern_acc"] - f["mlp_acc"]
    expected = "more accurate than" if gap > 0.01 else "about as accurate as" if gap > -0.01 else "less accurate than"
    assert f"the LeNet is {expected} it" in text              # the prose says what was measured


# -- lecture 06 ----------------------------------------------------------------------------
def test_lecture_06_figures():
    f = figures(executed("06"))
    assert f["simple_cnn10_params"] == 30_282
    # near chance (seed 003: stuck at 10%); this diverging run is chaotic, and one clean-clone
    # run climbed to 28%: the claim tested is "far below the batch-norm run"
    assert f["fail_acc"] < 0.35 and f["best_acc"] - f["fail_acc"] > 0.4
    assert f["fail_near_zero_last"] > 0.9                    # because the last ReLU is dead
    assert f["hook_matches_activation_stats"] is True        # the hook by hand == ActivationStats
    # initialization, measured with the same statistics before training
    std, near = f["init_std"], f["init_near_zero"]
    default, kaiming, small, leaky = (std[k] for k in ("PyTorch default", "Kaiming", "too small (std 0.01)",
                                                       "Kaiming + Leaky ReLU"))
    assert all(a > b for a, b in zip(default, default[1:]))  # the default shrinks layer by layer
    assert kaiming[-1] > 0.5 * kaiming[0]                    # Kaiming keeps the spread
    assert kaiming[-1] > 1_000 * small[-1]                   # too small: the spread is gone
    assert near["too small (std 0.01)"][-1] > 0.95
    assert 0.35 < near["Kaiming"][-1] < 0.7                  # ReLU zeroes about half
    assert all(l < k for l, k in zip(near["Kaiming + Leaky ReLU"], near["Kaiming"]))
    assert leaky[-1] > 0.5 * leaky[0]
    # batch norm from scratch computes what nn.BatchNorm2d computes, in both modes
    for key in ("bn_scratch_max_diff_train", "bn_scratch_max_diff_running", "bn_scratch_max_diff_eval"):
        assert f[key] < 1e-5, key
    assert f["big_batch_acc"] < 0.2
    assert f["onecycle_acc"] > f["fail_acc"] + 0.2
    lo, hi = f["onecycle_lr_range"]
    assert hi == pytest.approx(0.06) and lo < hi / 20
    assert f["onecycle_momentum_range"] == pytest.approx([0.85, 0.95])
    assert abs(f["bn_train_mean"]) < 1e-3 and f["bn_train_std"] == pytest.approx(1.0, abs=0.01)
    assert f["bn_running_mean_after_one"] == pytest.approx([0.5] * 3, abs=0.03)
    assert f["bn_eval_mean_early"] > 2                       # running statistics not caught up
    assert abs(f["bn_eval_mean_late"]) < 0.2
    assert f["bn_eval_batch_independent"] is True
    assert f["bn_onecycle_acc"] > f["onecycle_acc"] - 0.05
    assert f["bn_near_zero_last"] < f["fail_near_zero_last"]
    # many zeros with batch norm, but not dead units: few outputs are zero for every image
    assert 0 <= f["bn_dead_units"] < 0.3 and f["bn_dead_units"] < f["fail_dead_units"]
    assert f["best_acc"] > 0.85
    if f["best_source"] == "full":
        assert f["best_acc"] > 0.985
    assert f"reach {f['best_acc']:.1%}" in prose(executed("06"))


# -- lecture 07 ----------------------------------------------------------------------------
def test_lecture_07_figures():
    f = figures(executed("07"))
    assert f["split_sizes"]["train"] == 250 and f["split_sizes"]["valid"] == 250
    # overfitting: validation loss rises after its minimum, far above the training loss
    assert f["overfit_best_epoch"] < 15
    assert f["overfit_final_valid_loss"] > 1.1 * f["overfit_min_valid_loss"]
    assert f["overfit_final_train_loss"] < f["overfit_final_valid_loss"] / 2
    assert f"falls until epoch {f['overfit_best_epoch']} " in prose(executed("07"))
    assert f["dropout_train_share_zero"] == pytest.approx(0.5, abs=0.01)
    assert f["dropout_train_kept_value"] == 2.0
    assert f["dropout_train_mean"] == pytest.approx(1.0, abs=0.02)
    assert f["dropout_eval_identity"] is True
    assert f["dropout_0.5_spread"]["train"] > 0.005 and f["dropout_0.5_spread"]["eval"] == 0
    assert f["dropout_0.0_spread"]["train"] == 0
    # inverted dropout written out == nn.Dropout, element for element
    assert f["inverted_dropout_max_diff"] == 0 and f["inverted_dropout_eval_identity"] is True
    assert f["loop_penalty_matches_helper"] is True
    # SGD: L1 piles weights up near zero, L2 shrinks them; none is exactly zero under subgradient steps
    assert f["sgd_L1_near_zero"] > 3 * f["sgd_none_near_zero"]
    assert f["sgd_L1_near_zero"] > f["sgd_L2_near_zero"]
    assert f["sgd_L2_mean_abs"] < f["sgd_none_mean_abs"]
    assert f["sgd_elastic_net_near_zero"] > f["sgd_L2_near_zero"]
    assert f["sgd_L1_exact_zero"] < 0.01
    # Adam rescales the L2 gradient: near-zero weights pile up; AdamW's decoupled decay does not
    assert f["Adam_L2_near_zero"] > 2 * f["AdamW_near_zero"]
    assert f["Adam_L2_near_zero"] > 2 * f["sgd_L2_near_zero"]
    assert f["AdamW_mean_abs"] < f["Adam_mean_abs"]
    assert f["sgd_decay_equals_l2"] is True and f["adamw_differs_from_l2"] is True
    assert_augmentation_verdict(executed("07"))
    assert f["cifar_trainable"] == 1_343_146                 # seed 004
    assert f["cifar_bn_buffers"] == 1_920 and f["cifar_bn_channels"] == 960
    assert f["cifar_keras_total"] == 1_345_066


def assert_augmentation_verdict(nb):
    """The prose says whether augmentation won, lost or tied, as the numbers say."""
    f, text = figures(nb), prose(nb)
    plain, aug = f["aug_test_acc"]
    verdict = "wins" if aug > plain + 0.01 else "loses" if aug < plain - 0.01 else "end level"
    assert f"Augmentation {verdict}" in text or f"Augmentation and the plain model {verdict}" in text
    assert f"{aug:.1%} against {plain:.1%}" in text


# -- full mode -----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("key", LECTURES)
def test_runs_full_mode_in_budget(key):
    nb = execute_notebook(LECTURES[key], fast=False, save=False)
    assert "Traceback" not in outputs_text(nb)
    assert nb.metadata["course_wall_s"] < time_limit(FULL_LIMIT_S)
    f = figures(nb)
    if key == "05":
        assert f["lenet_modern_acc"] > 0.9 and f["lenet1998_acc"] > 0.9
        assert f["simple_cnn_37_acc"] > 0.9
    if key == "06":
        assert f["fail_acc"] < 0.2 and f["best_acc"] > (0.99 if f["best_source"] == "full" else 0.95)
    if key == "07":
        assert f["sgd_L1_near_zero"] > 2 * f["sgd_L2_near_zero"]     # L1 is the sparse one under SGD
        assert f["Adam_L2_near_zero"] > 2 * f["AdamW_near_zero"]
        assert_augmentation_verdict(nb)


# -- helpers used only by these lectures ----------------------------------------------------
def test_penalties_and_their_gradients():
    from course import regularization as reg
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -2.0, 0.0], [0.5, 0.0, 3.0]]))
        model[2].weight.copy_(torch.tensor([[-1.0, 1.0]]))
    assert len(reg.penalized_weights(model)) == 2            # biases and BN gamma/beta excluded
    assert reg.l1_penalty(model).item() == pytest.approx(6.5 + 2.0)
    assert reg.l2_penalty(model).item() == pytest.approx(0.5 * (1 + 4 + 0.25 + 9 + 2))
    assert reg.elastic_net_penalty(model, 0.1, 0.2).item() == pytest.approx(0.85 + 0.2 * 8.125)
    reg.l2_penalty(model).backward()
    assert torch.equal(model[0].weight.grad, model[0].weight.detach())  # d/dw (1/2 w^2) = w
    assert model[0].bias.grad is None
    assert reg.share_near_zero(model, 1e-3) == pytest.approx(2 / 8)


def test_penalized_loss_only_while_training():
    from course import regularization as reg
    model = nn.Linear(4, 3)
    out, y = model(torch.randn(5, 4)), torch.tensor([0, 1, 2, 0, 1])
    loss_fn = reg.penalized_loss(model, l2=1.0)
    plain = nn.functional.cross_entropy(out, y)
    assert loss_fn(out, y).item() == pytest.approx((plain + reg.l2_penalty(model)).item())
    with torch.no_grad():
        assert float(loss_fn(out, y)) == pytest.approx(float(plain))
        summed = loss_fn(out, y, reduction="sum")           # what course.train.evaluate calls
        assert float(summed) == pytest.approx(5 * float(plain), rel=1e-5)


def test_dropout_and_weight_decay_measurements():
    from course import regularization as reg
    d = reg.dropout_behaviour(p=0.2, n=50_000)
    assert d["train_share_zero"] == pytest.approx(0.2, abs=0.01)
    assert d["train_kept_value"] == pytest.approx(1.25)
    assert d["eval_equals_input"] and d["eval_share_zero"] == 0
    gaps = reg.weight_decay_matches_l2()
    assert gaps["sgd_decay_vs_l2"] < 1e-6 and gaps["adam_decay_vs_l2"] < 1e-6
    assert gaps["adamw_vs_adam_l2"] > 1e-5
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    spread = reg.prediction_spread(model, torch.randn(6, 4))
    assert spread["train"] > 0 and spread["eval"] == 0 and model.training


def test_augment_per_image_and_callback():
    from course import augment
    torch.manual_seed(0)
    x = torch.zeros(6, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0
    t = augment.digit_transform(degrees=30, translate=0.2)
    out = augment.augment_batch(x, t)
    assert out.shape == x.shape
    assert len({tuple(img.flatten().nonzero().flatten()[:5].tolist()) for img in out}) > 1  # different draws
    batch_level = t(x)
    assert all(torch.equal(batch_level[0], img) for img in batch_level)  # one draw for the batch

    class Trainer:  # the two attributes the callback uses
        training, xb = True, x.clone()
    trainer = Trainer()
    augment.AugmentTrainingBatches(t).before_batch(trainer)
    assert not torch.equal(trainer.xb, x)
    trainer.training, trainer.xb = False, x.clone()
    augment.AugmentTrainingBatches(t).before_batch(trainer)
    assert torch.equal(trainer.xb, x)


def test_batch_random_affine_draws_per_image():
    from course import augment
    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 12:16, 4:8] = 1.0                                  # a blob left of the centre
    assert torch.allclose(augment.BatchRandomAffine(0, 0, (1, 1))(x), x, atol=1e-5)
    torch.manual_seed(0)
    moved = augment.BatchRandomAffine(degrees=90, translate=0.0, scale=(1, 1))(x)
    centres = [(img[0] > 0.5).nonzero().float().mean(0) for img in moved]
    assert len({tuple(c.round().tolist()) for c in centres}) > 4  # a different angle per image
    rotated = augment.BatchRandomAffine(0, 0.2, (1, 1))(x)
    assert rotated.shape == x.shape and float(rotated.sum()) > 0


def test_photo_gallery_and_explorer():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course import augment
    photo = (np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)
    transforms = augment.photo_transforms(size=48)
    assert list(transforms) == ["horizontal flip", "rotation", "shift", "crop", "colour jitter", "blur"]
    for name, t in transforms.items():
        out = t(augment.to_tensor_image(photo))
        assert out.shape == (3, 48, 48) and out.dtype == torch.uint8, name
    fig = augment.show_gallery(photo, transforms, n=2, size=48)
    assert len(fig.axes) == 6 * 3
    flipped = augment.build_transform("horizontal flip", 1.0)(augment.to_tensor_image(photo))
    assert torch.equal(flipped, augment.to_tensor_image(photo).flip(-1))
    with pytest.raises(ValueError):
        augment.build_transform("mirror")
    box = augment.augmentation_explorer({"noise": photo, "noise2": photo[::-1]}, size=48)
    assert box.state["draws"] == 1
    box.controls["kind"].value = "blur"
    box.controls["strength"].value = 0.9
    assert box.state["draws"] == 3
    original, *draws = box.state["images"]
    assert original.shape == (3, 48, 48) and len(draws) == 3
    assert all(d.float().std() < original.float().std() for d in draws)  # blur smooths the noise
    plt.close("all")
