"""Convolution arithmetic as small pure functions (numpy), shared by lectures 02-04 and widgets.

    output_size(5, 3, stride=2, padding=1)        # 3
    pad(x, 2, "symmetric")                          # numpy, any of PAD_MODES
    toeplitz(kernel, (4, 4)) @ x.ravel()            # convolution as one matrix product
    receptive_field([(3, 2), (3, 2)])[-1]["size"]  # 7

Conventions are PyTorch's: convolution means cross-correlation (the kernel is not flipped),
tensors are N x C x H x W, a kernel is out x in x kH x kW, sizes round down unless ceil_mode.
"""
import math

import numpy as np

# The one padding-mode table of the course (widgets, pictures and course.grading read it):
# the modes by their usual names, and how numpy and PyTorch spell them (ALIASES: other spellings).
PAD_MODES = ("zeros", "replicate", "reflect", "symmetric", "circular")
NUMPY_NAMES = {"zeros": "constant", "replicate": "edge", "reflect": "reflect",
               "symmetric": "symmetric", "circular": "wrap"}
# nn.Conv2d(padding_mode=...) and F.pad(mode=...) names; symmetric has neither.
TORCH_CONV_NAMES = {"zeros": "zeros", "replicate": "replicate", "reflect": "reflect",
                    "circular": "circular"}
TORCH_PAD_NAMES = {"zeros": "constant", "replicate": "replicate", "reflect": "reflect",
                   "circular": "circular"}
ALIASES = {"zero": "zeros", "constant": "zeros", "edge": "replicate", "replicated": "replicate",
           "wrap": "circular", "circulated": "circular", "mirror": "reflect"}


def canonical_mode(mode: str) -> str:
    mode = ALIASES.get(mode.lower(), mode.lower())
    if mode not in PAD_MODES:
        raise ValueError(f"unknown padding mode {mode!r}; use one of {PAD_MODES}")
    return mode


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: d * (k - 1) + 1 (a 3-tap kernel with dilation 2 spans 5)."""
    return dilation * (kernel - 1) + 1


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                ceil_mode: bool = False) -> int:
    """Output length along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1, PyTorch's rule.

    With ``ceil_mode`` (pooling) it rounds up, but, as PyTorch does, never lets the last
    window start inside the right padding. Returns 0 when no window fits.
    """
    span = n + 2 * padding - effective_kernel(kernel, dilation)
    if span < 0:
        return 0
    if not ceil_mode:
        return span // stride + 1
    out = math.ceil(span / stride) + 1
    if (out - 1) * stride >= n + padding:
        out -= 1
    return out


def stride_fits(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> bool:
    """True when the windows tile the padded input exactly, nothing left over at the end."""
    span = n + 2 * padding - effective_kernel(kernel, dilation)
    return span >= 0 and span % stride == 0


def leftover(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Rows (or columns) at the far edge that no window reaches: what rounding down drops."""
    span = n + 2 * padding - effective_kernel(kernel, dilation)
    return span % stride if span >= 0 else 0


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding that keeps the size at stride 1; uneven for even kernels.

    PyTorch's ``padding='same'`` puts the extra row / column after (bottom / right).
    """
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """Source index of every position of a padded axis (-1 marks a zero of zero padding).

    All five modes are index maps: replicate clamps, reflect bounces without repeating
    the edge, symmetric bounces repeating it, circular wraps around.
    """
    mode = canonical_mode(mode)
    pos = np.arange(-before, n + after)
    if mode == "zeros":
        return np.where((pos >= 0) & (pos < n), pos, -1)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if mode == "circular":
        return pos % n
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(pos)
        period = 2 * (n - 1)
        folded = pos % period
        return np.where(folded < n, folded, period - folded)
    period = 2 * n  # symmetric: the edge value appears twice
    folded = pos % period
    return np.where(folded < n, folded, period - 1 - folded)


def as_pair(p):
    return (p, p) if isinstance(p, int) else tuple(p)


def pad(x, padding, mode: str = "zeros", value: float = 0):
    """Pad the last two axes of ``x`` by ``padding`` (int, or (before, after)) in ``mode``."""
    x = np.asarray(x)
    before, after = as_pair(padding)
    rows = pad_index(x.shape[-2], before, after, mode)
    cols = pad_index(x.shape[-1], before, after, mode)
    out = x[..., np.clip(rows, 0, None)[:, None], np.clip(cols, 0, None)[None, :]].copy()
    if canonical_mode(mode) == "zeros":
        out[..., (rows[:, None] < 0) | (cols[None, :] < 0)] = value
    return out


def pad_torch(x, padding: int, mode: str = "zeros"):
    """Pad an N x C x H x W tensor in any of PAD_MODES, symmetric included, keeping autograd."""
    import torch
    import torch.nn.functional as F

    mode = canonical_mode(mode)
    if mode in TORCH_PAD_NAMES:
        return F.pad(x, (padding,) * 4, mode=TORCH_PAD_NAMES[mode])
    rows = torch.as_tensor(pad_index(x.shape[-2], padding, padding, mode), device=x.device)
    cols = torch.as_tensor(pad_index(x.shape[-1], padding, padding, mode), device=x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def conv2d_naive(x, kernel, stride: int = 1, padding: int = 0, dilation: int = 1,
                 mode: str = "zeros"):
    """Single-channel cross-correlation with two loops: the definition, slowly."""
    x = pad(np.asarray(x, dtype=float), padding, mode)
    kernel = np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape
    oh = output_size(x.shape[0], kh, stride, 0, dilation)
    ow = output_size(x.shape[1], kw, stride, 0, dilation)
    out = np.zeros((max(oh, 0), max(ow, 0)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (window(x, i, j, (kh, kw), stride, dilation) * kernel).sum()
    return out


def window(x, i: int, j: int, kernel_shape, stride: int = 1, dilation: int = 1):
    """The input values under the kernel for output cell (i, j) of an already padded ``x``."""
    kh, kw = kernel_shape
    r, c = i * stride, j * stride
    return np.asarray(x)[r:r + dilation * (kh - 1) + 1:dilation, c:c + dilation * (kw - 1) + 1:dilation]


def window_positions(i: int, j: int, kernel_shape, stride: int = 1, dilation: int = 1):
    """(row, col) positions in the padded input that output cell (i, j) reads."""
    kh, kw = kernel_shape
    return [(i * stride + a * dilation, j * stride + b * dilation)
            for a in range(kh) for b in range(kw)]


def im2col(x, kernel_shape, stride: int = 1, padding: int = 0, dilation: int = 1):
    """Columns of input windows: C*kH*kW rows x (outH*outW) columns, for C x H x W ``x``.

    Convolution then is one matrix product: ``weight.reshape(out, -1) @ im2col(x, ...)``.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[None]
    x = pad(x, padding, "zeros")
    kh, kw = kernel_shape
    oh = output_size(x.shape[1], kh, stride, 0, dilation)
    ow = output_size(x.shape[2], kw, stride, 0, dilation)
    cols = np.empty((x.shape[0] * kh * kw, oh * ow))
    for i in range(oh):
        for j in range(ow):
            cols[:, i * ow + j] = window(x.transpose(1, 2, 0), i, j, (kh, kw), stride,
                                         dilation).transpose(2, 0, 1).ravel()
    return cols


def conv2d_im2col(x, weight, bias=None, stride: int = 1, padding: int = 0, dilation: int = 1):
    """C x H x W input, out x C x kH x kW weight -> out x outH x outW, by one matrix product."""
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    if x.ndim == 2:
        x = x[None]
    cols = im2col(x, weight.shape[-2:], stride, padding, dilation)
    out = weight.reshape(weight.shape[0], -1) @ cols
    if bias is not None:
        out = out + np.asarray(bias, dtype=float)[:, None]
    oh = output_size(x.shape[1], weight.shape[-2], stride, padding, dilation)
    ow = output_size(x.shape[2], weight.shape[-1], stride, padding, dilation)
    return out.reshape(weight.shape[0], oh, ow)


def toeplitz(kernel, input_shape, stride: int = 1, padding: int = 0):
    """The (outH*outW) x (H*W) matrix M with conv(x) = M @ x.ravel() (zero padding).

    Every row holds the same kernel weights (shared weights) at shifted places, and zeros
    elsewhere: the zeros are fixed, never trained.
    """
    kernel = np.asarray(kernel, dtype=float)
    h, w = input_shape
    kh, kw = kernel.shape
    oh = output_size(h, kh, stride, padding)
    ow = output_size(w, kw, stride, padding)
    matrix = np.zeros((oh * ow, h * w))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    r, c = i * stride + a - padding, j * stride + b - padding
                    if 0 <= r < h and 0 <= c < w:  # taps on the padding multiply zeros
                        matrix[i * ow + j, r * w + c] = kernel[a, b]
    return matrix


def receptive_field(layers, input_size: int | None = None) -> list[dict]:
    """Receptive field after each layer of a stack.

    ``layers``: (kernel, stride) or (kernel, stride, padding) or (kernel, stride, padding,
    dilation) per layer, or dicts with those keys. Each step returns ``size`` (the receptive
    field side in input pixels), ``jump`` (input pixels between neighbouring outputs),
    ``start`` (input pixel index of the first output's centre; negative or fractional
    when it sits in the padding or between pixels) and, when ``input_size`` is
    given, ``out`` (the layer's output size).
    """
    size, jump, start, n = 1, 1, 0.0, input_size
    steps = []
    for layer in layers:
        k, s, p, d = _layer(layer)
        span = effective_kernel(k, d)
        size += (span - 1) * jump
        start += ((span - 1) / 2 - p) * jump
        jump *= s
        step = {"kernel": k, "stride": s, "padding": p, "dilation": d,
                "size": size, "jump": jump, "start": start}
        if n is not None:
            n = output_size(n, k, s, p, d)
            step["out"] = n
        steps.append(step)
    return steps


def _layer(layer) -> tuple[int, int, int, int]:
    if isinstance(layer, dict):
        return (layer["kernel"], layer.get("stride", 1), layer.get("padding", 0),
                layer.get("dilation", 1))
    k, s, *rest = layer
    p = rest[0] if rest else 0
    d = rest[1] if len(rest) > 1 else 1
    return k, s, p, d


def receptive_window(layers, row: int, col: int, input_shape=None):
    """Input rows and columns (first, last inclusive) that output cell (row, col) depends on.

    Walks back through the stack: output index i of a layer reads its input from
    i*s - p to i*s - p + d*(k-1). Positions outside the image are padding; with
    ``input_shape`` the window is clipped to the image.
    """
    r0 = r1 = row
    c0 = c1 = col
    for layer in reversed(list(layers)):
        k, s, p, d = _layer(layer)
        r0, r1 = r0 * s - p, r1 * s - p + d * (k - 1)
        c0, c1 = c0 * s - p, c1 * s - p + d * (k - 1)
    if input_shape is not None:
        h, w = input_shape
        r0, r1 = max(r0, 0), min(r1, h - 1)
        c0, c1 = max(c0, 0), min(c1, w - 1)
    return (r0, r1), (c0, c1)


def receptive_mask(layers, row: int, col: int, input_shape) -> np.ndarray:
    """Boolean H x W mask of the input pixels that output cell (row, col) can see.

    With dilation the field has holes: this follows every tap, layer by layer.
    """
    h, w = input_shape
    sizes = [(h, w)]
    for layer in layers:
        k, s, p, d = _layer(layer)
        sizes.append((output_size(sizes[-1][0], k, s, p, d), output_size(sizes[-1][1], k, s, p, d)))
    mask = np.zeros(sizes[-1], dtype=bool)
    mask[row, col] = True
    for layer, (ih, iw) in zip(reversed(list(layers)), reversed(sizes[:-1])):
        k, s, p, d = _layer(layer)
        below = np.zeros((ih, iw), dtype=bool)
        for i, j in zip(*np.nonzero(mask)):
            for a in range(k):
                for b in range(k):
                    r, c = i * s - p + a * d, j * s - p + b * d
                    if 0 <= r < ih and 0 <= c < iw:
                        below[r, c] = True
        mask = below
    return mask
