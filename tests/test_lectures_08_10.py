"""Lectures 08-10 executed headless: every figure they state, the measured comparisons, timing, hygiene.

Fast mode runs by default (60 s per lecture); full mode (COURSE_FULL_TESTS=1) checks the 4-minute budget
and the direction of the measured comparisons.
Timing limits are for a quiet machine; on a shared one set COURSE_TIMING_SLACK (default 2).
"""
from pathlib import Path

import numpy as np
import pytest

from nbrun import assert_committed_clean, assert_ran_cleanly, execute_notebook, figures, outputs_text, run_once, time_limit

# one worker runs this file, so each lecture is executed once and its run shared by the tests
pytestmark = pytest.mark.xdist_group("lectures_08_10")

ROOT = Path(__file__).resolve().parents[1]
LECTURES = {
    "08": ROOT / "lectures" / "08_classic_architectures.ipynb",
    "09": ROOT / "lectures" / "09_resnet.ipynb",
    "10": ROOT / "lectures" / "10_transfer_learning.ipynb",
}
OWN_CLASSES = ["circles", "stripes"]


def own_photo_folder() -> Path:
    """A folder of generated images, standing in for an instructor's own photos."""
    folder = ROOT / "build" / "test_own_photos"
    rng = np.random.default_rng(0)
    from PIL import Image
    yy, xx = np.mgrid[:96, :128]
    for label in OWN_CLASSES:
        (folder / label).mkdir(parents=True, exist_ok=True)
        for i in range(2):
            if label == "circles":
                mask = (yy - 48) ** 2 + (xx - 64 - 8 * i) ** 2 < (20 + 5 * i) ** 2
            else:
                mask = ((xx + 3 * i) // 8) % 2 == 0
            img = np.where(mask[..., None], rng.integers(150, 255, 3), rng.integers(0, 100, 3))
            Image.fromarray(img.astype(np.uint8)).save(folder / label / f"{i}.png")
    return folder


def executed(key: str):
    env = {"COURSE_PHOTOS": str(own_photo_folder())} if key == "10" else None
    return run_once(LECTURES[key], env=env)


# -- hygiene -----------------------------------------------------------------------------------
@pytest.mark.parametrize("key", LECTURES)
def test_committed_without_outputs(key):
    assert_committed_clean(LECTURES[key])


@pytest.mark.parametrize("key", LECTURES)
def test_runs_fast_without_errors(key):
    nb = executed(key)
    assert_ran_cleanly(nb, limit_s=time_limit(60), min_images=3)
    text = outputs_text(nb)
    assert "Self-check (9 questions)" in text and "Glossary" in text


def prose(nb) -> str:
    """The Markdown that the lecture's course.say cells rendered."""
    return "\n".join(o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                     if "text/markdown" in o.get("data", {}))


# -- lecture 08 --------------------------------------------------------------------------------
def test_08_parameter_and_cost_table():
    f = figures(executed("08"))
    assert f["params_alexnet"] == f["alexnet_params"] == 61_100_840
    assert f["params_vgg16"] == f["vgg16_params"] == 138_357_544
    assert f["params_googlenet"] == f["googlenet_params"] == 13_004_888
    assert f["googlenet_params_no_aux"] == 6_624_904
    assert (f["params_resnet18"], f["params_resnet34"], f["params_resnet50"]) == (
        11_689_512, 21_797_672, 25_557_032)
    assert f["macs_alexnet"] < f["macs_resnet18"] < f["macs_resnet34"] < f["macs_resnet50"] < f["macs_vgg16"]
    assert 15e9 < f["macs_vgg16"] < 16e9
    assert f["vgg16_first_dense_params"] == 7 * 7 * 512 * 4096 + 4096
    assert f["vgg16_conv_params"] == 14_714_688


def test_08_lenet_alexnet_table_and_first_layer():
    f = figures(executed("08"))
    assert f["lenet_table_shapes"] == ["6x28x28", "6x14x14", "16x10x10", "16x5x5", "400", "120", "84", "10"]
    assert f["alexnet_table_shapes"][:4] == ["96x54x54", "96x26x26", "256x26x26", "256x12x12"]
    assert f["alexnet_table_shapes"][7:] == ["256x5x5", "6400", "4096", "4096", "1000"]
    assert f["alexnet_first_side"] == 54
    assert f["alexnet_2012_params"] == 50_844_008 and 0.9 < f["alexnet_dense_share"] < 0.95


def test_08_grouped_alexnet_and_input_size():
    nb = executed("08")
    f = figures(nb)
    # the 2012 network with groups=2 in convolutions 2, 4 and 5 (Krizhevsky et al.)
    assert f["alexnet_grouped_params"] == 60_965_224
    assert (f["conv2_params_full"], f["conv2_params_grouped"]) == (256 * 96 * 25 + 256, 256 * 48 * 25 + 256)
    assert f["groups_split_max_diff"] < 1e-5          # groups=2 is two halves side by side
    assert f["first_side_227"] == 55 and f["first_side_224"] == 54.25
    assert f["grouped_final_map_227"] == [256, 6, 6] and f["grouped_final_map_224"] == [256, 5, 5]
    # torchvision's alexnet is the single-GPU variant
    assert f["tv_alexnet_channels"] == [64, 192, 384, 256, 256]
    assert f["tv_alexnet_first_padding"] == 2 and f["tv_alexnet_first_map"] == "64x55x55"
    assert "60,965,224" in prose(nb)


def test_08_small_kernels_and_inception_costs():
    f = figures(executed("08"))
    assert f["stack_3x3_field"] == 5 and f["stack_3x3_pixels"] == f["one_5x5_pixels"] == 25
    assert (f["weights_two_3x3"], f["weights_one_5x5"]) == (73_728, 102_400)
    assert (f["weights_three_3x3"], f["weights_one_7x7"]) == (110_592, 200_704)
    assert f["inception_naive_macs"] == 303_464_448 and f["inception_reduced_macs"] == 128_049_152
    assert f["inception_depths"] == [416, 256] and f["inception_saving"] == 2.37
    assert f["inception_5x5_macs"] == [120_422_400, 12_443_648]


def test_08_small_networks_learn():
    f = figures(executed("08"))
    for name in ("alexnet", "vgg", "inception"):
        assert f[f"small_acc_{name}"] > 0.4, name  # chance is 0.1
    assert 0 < f["first_layer_moved"] < 5          # the filter figure's prose is computed from it


# -- lecture 09 --------------------------------------------------------------------------------
DEPTHS = {"plain-8": 8, "plain-20": 20, "plain-44": 44, "residual-44": 44}


def check_degradation(f, full: bool):
    """The four runs are recorded; in full mode deeper plain trains worse, residual fixes it."""
    losses = [f[f"train_loss_{name}"] for name in DEPTHS]
    assert f["degradation_losses"] == losses
    assert all(0 < loss < 3 for loss in losses)            # chance level is ln 10 = 2.30
    for name, depth in DEPTHS.items():
        assert f[f"layers_{name}"] == depth
    assert f["train_loss_residual-44"] < f["train_loss_plain-44"]
    if full:
        # measured on the quiet machine: about 0.50 / 0.39 / 1.56 / 0.11
        assert f["train_loss_plain-44"] > f["train_loss_plain-20"] + 0.2
        assert f["train_loss_residual-44"] < 0.5 * f["train_loss_plain-44"]
        assert f["train_loss_residual-44"] < f["train_loss_plain-20"]
        assert f["test_acc_residual-44"] > f["test_acc_plain-44"] + 0.1


def test_09_degradation_recorded():
    nb = executed("09")
    f = figures(nb)
    check_degradation(f, full=False)
    # gradients: far more uneven across depth in the plain net (input-side / output-side layers)
    assert f["grad_ratio_plain-44"] > 1.4 * f["grad_ratio_residual-44"]
    assert f["grad_ratio_plain-44"] > 2
    text = prose(nb)
    assert ("that is degradation" in text) == (f["train_loss_plain-44"] > f["train_loss_plain-20"])


def test_09_block_algebra_and_family():
    f = figures(executed("09"))
    assert f["written_block_max_diff"] == 0.0 and f["written_block_params"] == 57_728
    assert f["zero_block_residual_grad"] == 1.0 and f["zero_block_plain_grad"] == 0.0
    assert 0.2 < f["zero_block_grad_share_signed"] < 0.8 and f["preact_zero_grad_share"] == 1.0
    assert f["toy_plain_gradient"] == 0.5 ** 20 and f["toy_exploding_gradient"] == 1.5 ** 20
    low, high = f["toy_residual_bounds"]
    assert low < f["toy_residual_gradient"] < high and low > 0.3 and high < 3
    assert f["projection_shortcut_params"] == 32 * 64 + 2 * 64
    assert f["ours_resnet18_params"] == f["params_resnet18"] == 11_689_512
    assert f["ours_resnet34_params"] == f["params_resnet34"] == 21_797_672
    assert f["ours_resnet_layers"] == [18, 34] and f["ours_resnet_weighted_all"] == [21, 37]
    assert f["params_resnet101"] == 44_549_160 and 60e6 < f["params_resnet152"] < 61e6


# -- lecture 10 --------------------------------------------------------------------------------
def test_10_pretrained_model_names_photos():
    f = figures(executed("10"))
    assert f["chelsea_top1"] in {"Egyptian cat", "tabby", "tiger cat", "Persian cat", "Siamese cat"}
    assert f["coffee_top1"] in {"espresso", "cup"}
    assert f["torchvision_classifiers"] > 50
    assert "EfficientNet-Lite0" in outputs_text(executed("10"))  # offline: says which model it used


def test_10_freezing_and_frozen_batchnorm():
    f = figures(executed("10"))
    assert f["frozen_trainable_params"] == f["optimizer_params"] == f["helper_trainable_params"] == 1280 * 10 + 10
    assert f["all_params_backbone"] > 100 * f["frozen_trainable_params"]
    assert f["bn_layers"] > 10
    assert f["bn_shift_frozen"] == 0.0           # BN layers in eval mode: running means unchanged
    assert f["bn_shift_train_mode"] > 1e-3       # train mode moves them without any optimizer step
    assert f["feature_dim"] == 1280


def check_transfer_curve(f, full: bool):
    curve = f["transfer_curve"]
    assert f["curve_labels"] == [25, 50, 100, 400] and set(curve) == {"25", "50", "100", "400"}
    assert f["curve_epochs"] == [max(1, f["curve_seen"] // n) for n in f["curve_labels"]]
    for n, accs in curve.items():
        assert set(accs) == {"scratch", "frozen", "fine-tuned"}, n
        assert all(0 <= a <= 1 for a in accs.values()), n
    assert f["lenet_params"] == 61_706
    assert (f["acc_scratch"], f["acc_feature_extraction"], f["acc_fine_tuning"]) == (
        curve["400"]["scratch"], curve["400"]["frozen"], curve["400"]["fine-tuned"])
    if full:
        # measured: 25 labels 0.57 / 0.58 / 0.62, 400 labels 0.88 / 0.84 / 0.91 (scratch / frozen / tuned)
        assert f["curve_epochs"] == [80, 40, 20, 5]
        assert all(a > 0.4 for accs in curve.values() for a in accs.values())
        assert curve["25"]["fine-tuned"] > curve["25"]["scratch"]
        assert curve["50"]["fine-tuned"] > curve["50"]["scratch"]
        assert curve["400"]["scratch"] > 0.8 and curve["400"]["fine-tuned"] > 0.85
        assert curve["400"]["scratch"] < curve["25"]["scratch"] + 0.5 and curve["400"]["scratch"] > curve["25"]["scratch"]
        assert f["acc_scratch_long"] > f["acc_scratch"] - 0.02


def test_10_transfer_curve_recorded():
    nb = executed("10")
    f = figures(nb)
    check_transfer_curve(f, full=False)
    text = prose(nb)
    tuned_wins_small = f["transfer_curve"]["25"]["fine-tuned"] > f["transfer_curve"]["25"]["scratch"]
    assert ("Fine-tuning does not beat" in text) == (not tuned_wins_small)


def test_10_what_the_network_sees_and_own_photos():
    nb = executed("10")
    f = figures(nb)
    assert f["first_layer_filters"] == [32, 3, 3, 3]
    stages = f["feature_map_shapes"]  # [stage, channels, height, width], input side first
    assert stages[0][1] < stages[-1][1] and stages[0][2] > stages[-1][2]  # deeper: more channels, smaller
    assert f["top_patches_per_filter"] == [9] * len(f["top_patches_per_filter"])
    assert f["own_photos_count"] == 4 and f["own_photos_classes"] == OWN_CLASSES
    widget_views = [o for c in nb.cells for o in c.get("outputs", [])
                    if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_views  # the explorer and the self-check rendered as widgets


# -- full mode ---------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("key", LECTURES)
def test_full_mode_within_budget(key):
    env = {"COURSE_PHOTOS": str(own_photo_folder())} if key == "10" else None
    nb = execute_notebook(LECTURES[key], fast=False, env=env, save=False)
    assert nb.metadata["course_wall_s"] < time_limit(240)
    f = figures(nb)
    if key == "09":
        check_degradation(f, full=True)
    if key == "10":
        check_transfer_curve(f, full=True)
