"""Classic architectures, the configurable ResNet, complexity counting, gradient norms,
feature visualization and the feature-map explorer (lectures 08-10)."""
import pytest
import torch
from torch import nn

from course.complexity import (
    complexity_table,
    conv_weights,
    count_macs,
    count_parameters,
    format_table,
    inception_cost,
    layer_table,
    stacked_receptive_field,
)
from course.models import (
    BasicBlock,
    InceptionModule,
    ResNet,
    alexnet_2012,
    alexnet_small,
    count_layers,
    inception_small,
    lenet_padded,
    resnet_small,
    vgg_small,
)

TORCHVISION_PARAMS = {"alexnet": 61_100_840, "vgg16": 138_357_544, "googlenet": 13_004_888,
                      "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032}


# -- counting -------------------------------------------------------------------------------
def test_torchvision_parameter_counts_are_computed():
    rows = {r["model"]: r for r in complexity_table(TORCHVISION_PARAMS)}
    assert {m: r["params"] for m, r in rows.items()} == TORCHVISION_PARAMS
    # multiply-adds of one 224x224 image: the well-known orders of magnitude
    assert 0.6e9 < rows["alexnet"]["macs"] < 0.8e9
    assert 15e9 < rows["vgg16"]["macs"] < 16e9
    assert 1.7e9 < rows["resnet18"]["macs"] < 1.9e9
    assert 3.9e9 < rows["resnet50"]["macs"] < 4.2e9
    assert "138,357,544" in format_table(list(rows.values()))


def test_googlenet_without_auxiliary_classifiers_is_the_papers_size():
    import torchvision

    from course.complexity import torchvision_model
    with torch.device("meta"):
        plain = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    assert count_parameters(plain) == 6_624_904
    assert count_parameters(torchvision_model("googlenet")) - count_parameters(plain) == 6_379_984


def test_macs_agree_with_torchinfo():
    import torchinfo
    model = alexnet_small()
    stats = torchinfo.summary(model, input_size=(1, 1, 28, 28), verbose=0)
    # per layer, torchinfo adds one operation per output value for a bias; we count multiply-adds only
    theirs = [layer.macs - (torch.Size(layer.output_size[1:]).numel() if layer.module.bias is not None else 0)
              for layer in stats.summary_list if layer.class_name in ("Conv2d", "Linear")]
    ours = [row["macs"] for row in layer_table(model, (1, 28, 28), leaf_types=(nn.Conv2d, nn.Linear))]
    assert ours == theirs and sum(ours) == count_macs(model, (1, 28, 28))
    assert count_parameters(model) == stats.total_params


def test_count_parameters_trainable_only():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    model[0].weight.requires_grad = False
    assert count_parameters(model) == 15 + 8
    assert count_parameters(model, trainable_only=True) == 3 + 8


def test_small_stacks_see_as_much_with_fewer_weights():
    assert stacked_receptive_field([3, 3]) == stacked_receptive_field([5]) == 5
    assert stacked_receptive_field([3, 3, 3]) == 7
    assert stacked_receptive_field([3, 3], [2, 2]) == 7
    assert 2 * conv_weights(3, 64, 64) < conv_weights(5, 64, 64)
    assert 3 * conv_weights(3, 64, 64) == 110_592 < conv_weights(7, 64, 64) == 200_704


def test_inception_cost_formula_matches_the_hooks():
    naive = InceptionModule(192, 64, 128, 32)
    reduced = InceptionModule(192, 64, 128, 32, reduce3=96, reduce5=16, pool_proj=32)
    branches = {1: 64, 3: 128, 5: 32, "pool": 32}
    cost_naive = inception_cost(28, 28, 192, branches)
    cost_reduced = inception_cost(28, 28, 192, branches, {3: 96, 5: 16, "pool": 32})
    assert count_macs(naive, (192, 28, 28)) == cost_naive["total"] == 303_464_448
    assert count_macs(reduced, (192, 28, 28)) == cost_reduced["total"] == 128_049_152
    assert naive.out_channels == cost_naive["depth"] == 416
    assert reduced.out_channels == cost_reduced["depth"] == 256
    assert naive(torch.zeros(1, 192, 28, 28)).shape == (1, 416, 28, 28)


# -- the LeNet vs AlexNet table ---------------------------------------------------------------
def test_alexnet_2012_shapes_match_the_seed_table():
    shapes = [r["output"] for r in layer_table(alexnet_2012(), (3, 224, 224))]
    assert shapes == ["96x54x54", "96x26x26", "256x26x26", "256x12x12", "384x12x12", "384x12x12",
                      "256x12x12", "256x5x5", "6400", "4096", "4096", "1000"]
    # 5x5x256 into the first dense layer: 50.8 M; the paper's 6x6x256 (torchvision) gives 61.1 M
    assert count_parameters(alexnet_2012()) == 50_844_008


def test_lenet_padded_shapes_match_the_seed_table():
    shapes = [r["output"] for r in layer_table(lenet_padded(), (1, 28, 28))]
    assert shapes == ["6x28x28", "6x14x14", "16x10x10", "16x5x5", "400", "120", "84", "10"]


# -- small models train ----------------------------------------------------------------------
@pytest.mark.parametrize("make", [alexnet_small, vgg_small, inception_small])
def test_small_classics_shape_size_and_one_step(make):
    torch.manual_seed(0)
    model = make()
    assert 10_000 < count_parameters(model) < 500_000
    x, y = torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,))
    assert model(x).shape == (16, 10)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for m in model.modules():  # dropout off so the two losses are comparable (BN uses batch statistics)
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    before = nn.functional.cross_entropy(model(x), y)
    for _ in range(5):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    assert nn.functional.cross_entropy(model(x), y) < before


# -- ResNet ------------------------------------------------------------------------------------
def test_resnet_matches_torchvision_layouts():
    assert count_parameters(ResNet((2, 2, 2, 2))) == TORCHVISION_PARAMS["resnet18"]
    assert count_parameters(ResNet((3, 4, 6, 3))) == TORCHVISION_PARAMS["resnet34"]
    assert count_layers(ResNet((2, 2, 2, 2))) == 18
    assert count_layers(ResNet((3, 4, 6, 3))) == 34


def test_shortcuts_identity_projection_and_none():
    assert isinstance(BasicBlock(16, 16).shortcut, nn.Identity)
    proj = BasicBlock(16, 32, stride=2).shortcut
    assert isinstance(proj[0], nn.Conv2d) and proj[0].kernel_size == (1, 1) and proj[0].stride == (2, 2)
    assert isinstance(BasicBlock(16, 16, shortcut="projection").shortcut, nn.Sequential)
    assert BasicBlock(16, 16, shortcut=None).shortcut is None
    with pytest.raises(ValueError):
        BasicBlock(16, 32, stride=2, shortcut="identity")
    assert BasicBlock(16, 32, stride=2)(torch.zeros(2, 16, 8, 8)).shape == (2, 32, 4, 4)


def test_identity_block_with_zero_branch_passes_the_input_and_its_gradient():
    block = BasicBlock(4, 4).eval()
    nn.init.zeros_(block.residual[2][1].weight)  # last BN scale 0: F(x) = 0
    x = torch.rand(1, 4, 6, 6, requires_grad=True)  # non-negative, so relu(x) = x
    y = block(x)
    assert torch.allclose(y, x)
    y.sum().backward()
    assert torch.allclose(x.grad, torch.ones_like(x))  # dy/dx = 1 + dF/dx = 1
    plain = BasicBlock(4, 4, shortcut=None).eval()
    nn.init.zeros_(plain.residual[2][1].weight)
    assert plain(x).abs().sum() == 0  # without the shortcut the signal is gone


@pytest.mark.parametrize("depth", [8, 20, 32, 56])
def test_resnet_small_any_depth_and_plain_twin(depth):
    res, plain = resnet_small(depth), resnet_small(depth, residual=False)
    assert count_layers(res) == count_layers(plain) == depth
    projections = sum(count_parameters(b.shortcut) for b in res.modules()
                      if isinstance(b, BasicBlock) and not isinstance(b.shortcut, nn.Identity))
    assert count_parameters(res) - count_parameters(plain) == projections > 0
    assert res(torch.zeros(2, 1, 28, 28)).shape == plain(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_resnet_small_rejects_impossible_depth():
    with pytest.raises(ValueError):
        resnet_small(21)


# -- gradient norms --------------------------------------------------------------------------
def _tiny_data(n=64):
    from course.data import Dataset
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return Dataset("tiny", x, y, x[:16], y[:16], [str(i) for i in range(10)])


def test_gradient_norms_callback_records_every_layer():
    from course.gradients import GradientNorms, gradient_norms
    from course.train import fit
    model = resnet_small(8)
    norms = GradientNorms()
    fit(model, _tiny_data(), epochs=2, batch_size=32, quiet=True, seed=0, callbacks=[norms],
        schedule="constant",
        device="cpu")
    assert len(norms.names) == 8 and not any("shortcut" in n for n in norms.names)
    assert len(norms.norms) == 4 and all(len(r) == 8 for r in norms.norms)
    assert (norms.per_layer() > 0).all()
    names, one = gradient_norms(model, *_tiny_data(16).split("train"))
    assert names == norms.names and (one > 0).all()
    assert all(p.grad is None for p in model.parameters())


# -- what CNNs see ----------------------------------------------------------------------------
def test_capture_and_top_patches_box_of_a_first_layer():
    from course.viz.features import capture, feature_layers, top_patches
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2), nn.ReLU())
    images = torch.rand(12, 1, 20, 20)
    images[7, 0, 5:10, 5:10] += 5  # one bright square: the strongest first-layer response is there
    with torch.no_grad():
        model[0].weight.fill_(0.04)
    layers = feature_layers(model)
    assert list(layers) == ["0", "2"]
    maps = capture(model, images, layers)
    assert maps["0"].shape == (12, 4, 16, 16) and maps["2"].shape == (12, 4, 7, 7)
    best = top_patches(model, model[0], images, channel=1, k=9)
    assert len(best) == 9 and best[0]["image"] == 7
    r0, r1, c0, c1 = best[0]["box"]
    assert (r1 - r0, c1 - c0) == (5, 5)  # the 5x5 kernel's window
    deeper = top_patches(model, model[2], images, channel=0, k=3)
    r0, r1, c0, c1 = deeper[0]["box"]
    assert r1 - r0 <= 7 and c1 - c0 <= 7  # 5x5 then 3x3 stride 2: at most 7x7 pixels


def test_pictures_are_made(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from course.viz.features import capture, photo_crops, show_feature_maps, show_filters, show_top_patches, top_patches
    model = resnet_small(8, in_channels=3)
    crops = photo_crops({"a": (torch.rand(80, 120, 3) * 255).byte().numpy()}, size=32, long_side=120)
    assert crops.shape == (6, 3, 32, 32) and 0 <= crops.min() and crops.max() <= 1
    assert len(show_filters(model.stem[0][0].weight).axes) >= 16
    maps = capture(model, crops[:2], {"stem": model.stem, "stage 2": model.stages[1]})
    show_feature_maps(maps, n=4, image=crops[0]).savefig(tmp_path / "maps.png")
    show_top_patches(crops, {0: top_patches(model, model.stem, crops, 0, k=3)}).savefig(tmp_path / "t.png")
    assert (tmp_path / "maps.png").stat().st_size > 1000


def test_feature_map_explorer_updates_in_place():
    import ipywidgets as widgets

    from course.widgets.feature_maps import FeatureMapExplorer
    torch.manual_seed(0)
    model = resnet_small(8, widths=(4, 8, 16))
    images = {"a": torch.rand(1, 28, 28), "b": torch.rand(1, 28, 28)}
    ex = FeatureMapExplorer(model, images)
    assert isinstance(ex.image, widgets.Dropdown) and isinstance(ex.layer, widgets.Dropdown)
    assert isinstance(ex.channel, widgets.IntSlider) and isinstance(ex.picture, widgets.Image)
    assert list(ex.layer.options) == ["stem", "stage 1", "stage 2", "stage 3"]
    assert ex.channel.max == 3 and ex.feature_map.shape == (28, 28)
    first, renders = ex.picture.value, ex.renders
    ex.channel.value = 2
    assert ex.renders == renders + 1 and ex.picture.value != first
    assert torch.equal(ex.feature_map, ex.activations()[2])
    ex.layer.value = "stage 3"
    assert ex.channel.max == 15 and ex.feature_map.shape == (7, 7)
    assert ex.renders == renders + 2  # the layer change drew once, not twice
    ex.channel.value = 15
    ex.layer.value = "stage 1"
    assert ex.channel.max == 3 and ex.channel.value == 3
    ex.image.value = "b"
    assert "stage 1" in ex.info.value and "4 channels" in ex.info.value
