"""LeNet-5 (1998 and modern), simple_cnn and the CIFAR-10 model: shapes, counts, C3 wiring."""
import pytest
import torch
from torch import nn

from course.models import lenet
from course.models.lenet import (
    C3_TABLE,
    ConnectionTableConv2d,
    cifar10_cnn,
    count_buffers,
    count_parameters,
    lenet5,
    lenet5_1998,
    lenet5_modern,
    simple_cnn,
)

torch.set_num_threads(1)


def test_all_is_set_and_importable_from_models():
    import course.models as models
    assert "lenet5_1998" in lenet.__all__ and "simple_cnn" in lenet.__all__
    for name in lenet.__all__:
        assert hasattr(models, name), name


def test_c3_table_matches_seed_002():
    assert C3_TABLE.shape == (6, 16)
    # columns 0-5: three neighbouring maps; 6-11: four neighbours; 12-14: four; 15: all six
    assert C3_TABLE.sum(0).tolist() == [3] * 6 + [4] * 9 + [6]
    assert int(C3_TABLE.sum()) == 60
    assert C3_TABLE[:, 0].nonzero().flatten().tolist() == [0, 1, 2]
    assert C3_TABLE[:, 5].nonzero().flatten().tolist() == [0, 1, 5]  # neighbours wrap around
    assert C3_TABLE[:, 12].nonzero().flatten().tolist() == [0, 1, 3, 4]
    assert C3_TABLE[:, 14].nonzero().flatten().tolist() == [0, 2, 3, 5]


def test_lenet_1998_parameters_and_shapes():
    model = lenet5_1998()
    total = count_parameters(model)
    assert 59_000 <= total <= 62_000  # "about 60K"
    assert total == 60_850
    per_layer = {n: count_parameters(m) for n, m in model.named_children()}
    assert per_layer["c1"] == 6 * (25 + 1) == 156
    assert per_layer["c3"] == 60 * 25 + 16 == 1516  # not 16 * 6 * 25 + 16 = 2416
    assert per_layer["c5"] == 120 * (16 * 25 + 1) == 48_120
    assert per_layer["f6"] == 84 * 121 == 10_164
    assert per_layer["s2"] == 12 and per_layer["s4"] == 32
    x = torch.randn(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model[:3](x).shape == (3, 6, 14, 14)
    assert model[:5](x).shape == (3, 16, 10, 10)
    assert not any(isinstance(m, (nn.ReLU, nn.MaxPool2d)) for m in model.modules())


def test_c3_output_gets_zero_gradient_from_unconnected_maps():
    torch.manual_seed(0)
    c3 = lenet5_1998().c3
    x = torch.randn(2, 6, 14, 14, requires_grad=True)
    for j in range(16):
        x.grad = None
        c3(x)[:, j].sum().backward()
        touched = x.grad.abs().sum(dim=(0, 2, 3)) > 0
        assert touched.tolist() == C3_TABLE[:, j].tolist(), f"C3 map {j}"


def test_connection_table_conv_weights_only_where_connected():
    table = torch.tensor([[1, 0], [1, 1], [0, 1]], dtype=torch.bool)
    conv = ConnectionTableConv2d(table, kernel_size=3)
    assert conv.weight.shape == (4, 3, 3)
    dense = conv.dense_weight()
    assert dense.shape == (2, 3, 3, 3)
    assert dense[0, 2].abs().sum() == 0 and dense[1, 0].abs().sum() == 0
    assert dense[0, 0].abs().sum() > 0 and dense[1, 2].abs().sum() > 0
    # the same as a dense convolution with the zeroed weight
    x = torch.randn(1, 3, 8, 8)
    ref = torch.nn.functional.conv2d(x, dense.detach(), conv.bias.detach())
    assert torch.allclose(conv(x), ref, atol=1e-6)


def test_lenet_modern_relu_maxpool_and_batch_norm():
    plain, bn = lenet5_modern(), lenet5_modern(batch_norm=True)
    assert count_parameters(plain) == 156 + 2416 + 48_120 + 10_164 + 850 == 61_706
    assert any(isinstance(m, nn.MaxPool2d) for m in plain.modules())
    assert any(isinstance(m, nn.ReLU) for m in plain.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in bn.modules()) == 2
    assert bn(torch.randn(4, 1, 28, 28)).shape == (4, 10)
    assert isinstance(lenet5("modern"), nn.Sequential)
    with pytest.raises(ValueError):
        lenet5("1989")


def test_simple_cnn_counts_of_seed_003():
    model = simple_cnn()
    assert count_parameters(model) == 6_722
    per_block = [count_parameters(b) for b in model[:5]]
    assert per_block == [40, 296, 1_168, 4_640, 578]
    assert model[0][0].weight.shape == (4, 1, 3, 3) and model[0][0].bias.shape == (4,)
    x = torch.randn(64, 1, 28, 28)
    sizes = []
    for block in model[:5]:
        x = block(x)
        sizes.append(tuple(x.shape[1:]))
    assert sizes == [(4, 14, 14), (8, 7, 7), (16, 4, 4), (32, 2, 2), (2, 1, 1)]
    assert model(torch.randn(64, 1, 28, 28)).shape == (64, 2)
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    assert len(relus) == 4 and len({id(r) for r in relus}) == 4  # distinct, so hooks tell them apart


def test_simple_cnn_ten_classes_with_batch_norm():
    model = simple_cnn((1, 8, 16, 32, 64, 10), first_kernel=5, batch_norm=True)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 4
    with pytest.raises(ValueError):
        simple_cnn((1, 4, 8))


def test_cifar10_model_counts_match_keras():
    model = cifar10_cnn()
    trainable = count_parameters(model)
    buffers = count_buffers(model)
    assert trainable == 1_343_146
    assert buffers == 1_920  # running mean + running variance of 960 BN channels
    assert trainable + buffers == 1_345_066  # Keras' "Total params"
    assert count_buffers(model, floating_only=False) == 1_920 + 7  # + num_batches_tracked counters
    model.eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
