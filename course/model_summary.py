"""Layer-by-layer table of a model through torchinfo."""
import torch.nn as nn


def summary(model: nn.Module, input_size, depth: int = 3, verbose: int = 1, **kwargs):
    """Output shape, parameters and trainable flag per layer, plus totals.

    ``input_size`` includes the batch dimension, e.g. ``(1, 1, 28, 28)``.
    Returns torchinfo's ModelStatistics (``.total_params``, ``.trainable_params``)."""
    from torchinfo import summary as torchinfo_summary
    return torchinfo_summary(model, input_size=input_size, depth=depth, verbose=verbose,
                             col_names=("output_size", "num_params", "trainable"),
                             row_settings=("var_names",), device="cpu", **kwargs)
