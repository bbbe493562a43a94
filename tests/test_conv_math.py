"""course.conv_math against PyTorch and against the seeds' worked examples."""
import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course import conv_math as cm

torch.set_num_threads(1)
SEED_MATRIX = np.array([[1, 4, 2, 3], [6, 1, 1, 7], [1, 2, 1, 4], [1, 5, 1, 2]])

# Seed 002's tables, typed in from the slides (padding 2 around SEED_MATRIX).
SEED_SYMMETRIC = [[1, 6, 6, 1, 1, 7, 7, 1], [4, 1, 1, 4, 2, 3, 3, 2], [4, 1, 1, 4, 2, 3, 3, 2],
                  [1, 6, 6, 1, 1, 7, 7, 1], [2, 1, 1, 2, 1, 4, 4, 1], [5, 1, 1, 5, 1, 2, 2, 1],
                  [5, 1, 1, 5, 1, 2, 2, 1], [2, 1, 1, 2, 1, 4, 4, 1]]
SEED_CIRCULAR = [[1, 4, 1, 2, 1, 4, 1, 2], [1, 2, 1, 5, 1, 2, 1, 5], [2, 3, 1, 4, 2, 3, 1, 4],
                 [1, 7, 6, 1, 1, 7, 6, 1]] * 2
SEED_REPLICATE = [[1, 1, 1, 4, 2, 3, 3, 3]] * 3 + [[6, 6, 6, 1, 1, 7, 7, 7],
                                                   [1, 1, 1, 2, 1, 4, 4, 4]] + \
                 [[1, 1, 1, 5, 1, 2, 2, 2]] * 3


def test_seed_002_tables():
    zeros = np.zeros((8, 8), int)
    zeros[2:6, 2:6] = SEED_MATRIX
    assert (cm.pad(SEED_MATRIX, 2, "zeros") == zeros).all()
    assert (cm.pad(SEED_MATRIX, 2, "replicate") == SEED_REPLICATE).all()
    assert (cm.pad(SEED_MATRIX, 2, "symmetric") == SEED_SYMMETRIC).all()
    assert (cm.pad(SEED_MATRIX, 2, "circular") == SEED_CIRCULAR).all()
    # PyTorch's reflect skips the edge value, so it differs from the seed's symmetric table.
    assert (cm.pad(SEED_MATRIX, 2, "reflect") != SEED_SYMMETRIC).any()


@pytest.mark.parametrize("mode", cm.PAD_MODES)
@pytest.mark.parametrize("p", [0, 1, 3])
def test_pad_matches_numpy_and_torch(mode, p):
    x = np.arange(20).reshape(4, 5)
    expected = np.pad(x, p, mode=cm.NUMPY_NAMES[mode])
    assert (cm.pad(x, p, mode) == expected).all()
    t = torch.tensor(x, dtype=torch.float32)[None, None]
    assert (cm.pad_torch(t, p, mode)[0, 0].numpy() == expected).all()


def test_pad_aliases_and_unknown_mode():
    assert (cm.pad(SEED_MATRIX, 1, "edge") == cm.pad(SEED_MATRIX, 1, "replicate")).all()
    with pytest.raises(ValueError):
        cm.pad(SEED_MATRIX, 1, "mirrorball")


def test_output_size_matches_pytorch():
    for n, k, s, p, d in itertools.product(range(1, 9), range(1, 5), range(1, 4), range(3),
                                           range(1, 3)):
        expected = cm.output_size(n, k, s, p, d)
        if n + 2 * p < cm.effective_kernel(k, d):
            assert expected == 0
            continue
        got = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p,
                       dilation=d).shape[-1]
        assert got == expected, (n, k, s, p, d)


def test_ceil_mode_matches_pytorch_pooling():
    for n, k, s, p in itertools.product(range(2, 10), range(2, 5), range(1, 4), range(2)):
        if 2 * p > k or n + 2 * p < k:
            continue
        for ceil in (False, True):
            got = F.max_pool2d(torch.zeros(1, 1, n, n), k, s, p, ceil_mode=ceil).shape[-1]
            assert got == cm.output_size(n, k, s, p, ceil_mode=ceil), (n, k, s, p, ceil)


def test_seed_003_sizes():
    assert cm.output_size(5, 4, padding=2) == 6
    assert cm.output_size(5, 3, stride=2, padding=1) == 3
    for h in range(1, 40):
        assert cm.output_size(h, 3, stride=2, padding=1) == (h + 1) // 2
    assert cm.output_size(28, 3) == 26


def test_stride_fits_and_leftover():
    assert cm.stride_fits(5, 3, 2, 1)
    assert not cm.stride_fits(6, 3, 2, 1)
    assert cm.leftover(6, 3, 2, 1) == 1


def test_same_padding_keeps_size():
    for k in (1, 2, 3, 4, 5):
        before, after = cm.same_padding(k)
        x = torch.randn(1, 1, 7, 7)
        w = torch.randn(1, 1, k, k)
        ours = F.conv2d(F.pad(x, (before, after, before, after)), w)
        assert ours.shape[-2:] == (7, 7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # even kernels: PyTorch warns about a copy
            torch_same = F.conv2d(x, w, padding="same")
        assert torch.allclose(ours, torch_same, atol=1e-5)


@pytest.mark.parametrize("s,p,d", [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 1)])
def test_im2col_and_naive_match_conv2d(s, p, d):
    rng = np.random.default_rng(0)
    x, w, b = rng.random((3, 6, 7)), rng.random((4, 3, 3, 2)), rng.random(4)
    ref = F.conv2d(torch.tensor(x)[None], torch.tensor(w), torch.tensor(b), stride=s,
                   padding=p, dilation=d)[0].numpy()
    assert np.allclose(cm.conv2d_im2col(x, w, b, s, p, d), ref)
    ref1 = F.conv2d(torch.tensor(x[:1])[None], torch.tensor(w[:1, :1]), stride=s, padding=p,
                    dilation=d)[0, 0].numpy()
    assert np.allclose(cm.conv2d_naive(x[0], w[0, 0], s, p, d), ref1)


@pytest.mark.parametrize("s,p", [(1, 0), (2, 1), (1, 1)])
def test_toeplitz_matrix_product(s, p):
    rng = np.random.default_rng(1)
    x, k = rng.random((5, 6)), rng.random((3, 3))
    matrix = cm.toeplitz(k, x.shape, s, p)
    ref = F.conv2d(torch.tensor(x)[None, None], torch.tensor(k)[None, None], stride=s,
                   padding=p)[0, 0].numpy()
    assert matrix.shape == (ref.size, x.size)
    assert np.allclose(matrix @ x.ravel(), ref.ravel())
    # Shared weights: every row of a valid convolution holds all nine kernel values.
    if p == 0:
        assert all(sorted(row[row != 0]) == sorted(k.ravel()) for row in matrix)


def test_receptive_field_two_stride2_convs_is_7():
    steps = cm.receptive_field([(3, 2, 1), (3, 2, 1)], input_size=28)
    assert [s["size"] for s in steps] == [3, 7]
    assert [s["out"] for s in steps] == [14, 7]
    assert [s["jump"] for s in steps] == [2, 4]
    assert cm.receptive_field([(3, 1)] * 3)[-1]["size"] == 7
    assert cm.receptive_field([(3, 1, 2, 2)] * 2)[-1]["size"] == 9


def _gradient_mask(layers, n, i, j):
    """Input pixels whose gradient reaches output (i, j) of all-ones convolutions."""
    convs = [nn.Conv2d(1, 1, k, s, p, d, bias=False) for k, s, p, d in layers]
    for conv in convs:
        nn.init.ones_(conv.weight)
    x = torch.ones(1, 1, n, n, requires_grad=True)
    nn.Sequential(*convs)(x)[0, 0, i, j].backward()
    return (x.grad[0, 0] != 0).numpy()


@pytest.mark.parametrize("layers", [[(3, 2, 1, 1), (3, 2, 1, 1)], [(3, 1, 2, 2), (3, 1, 2, 2)],
                                    [(5, 1, 2, 1), (2, 2, 0, 1), (3, 1, 1, 1)]])
def test_receptive_mask_matches_autograd(layers):
    n = 16
    out = cm.receptive_field(layers, n)[-1]["out"]
    for i, j in [(0, 0), (out // 2, out // 2), (out - 1, 1)]:
        mask = cm.receptive_mask(layers, i, j, (n, n))
        assert (mask == _gradient_mask(layers, n, i, j)).all()
        (r0, r1), (c0, c1) = cm.receptive_window(layers, i, j, (n, n))
        rows, cols = np.nonzero(mask)
        assert r0 <= rows.min() and rows.max() <= r1 and c0 <= cols.min() and cols.max() <= c1
        if all(d == 1 for *_, d in layers):  # without holes the span is filled exactly
            assert (rows.min(), rows.max(), cols.min(), cols.max()) == (r0, r1, c0, c1)
