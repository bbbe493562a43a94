"""The tools of transfer learning: find and replace the classifier head, freeze, extract features.

    head = replace_head(model, 10)          # a fresh nn.Linear for 10 classes
    freeze_backbone(model)                  # only the head keeps requires_grad=True
    trainable_parameters(model)             # what the optimizer will update
    features = extract_features(model, x)   # pooled features, N x D (the frozen backbone's view)
    fit(model, data, callbacks=[FrozenBatchNorm()])   # fine-tune without moving BN statistics

Works on timm models (``get_classifier``) and torchvision classifiers (``fc``, ``head``,
``heads``, ``classifier``).
"""
from __future__ import annotations

import torch
from torch import nn

from course.callbacks import Callback
from course.complexity import trainable_parameters
from course.hooks import eval_mode

__all__ = ["head_of", "replace_head", "freeze_backbone", "trainable_parameters", "extract_features",
           "FrozenBatchNorm"]

# Where torchvision keeps the classifier: resnet / inception / googlenet .fc, swin .head,
# vit .heads (Sequential, its last layer "head"), vgg / alexnet / efficientnet / mobilenet /
# convnext .classifier (Sequential, a Linear last).
HEAD_ATTRIBUTES = ("fc", "head", "heads", "classifier")


def head_of(model: nn.Module) -> nn.Module:
    """The final classifier layer of a timm or torchvision model."""
    if hasattr(model, "get_classifier"):          # timm
        return model.get_classifier()
    for attr in HEAD_ATTRIBUTES:
        layer = getattr(model, attr, None)
        if isinstance(layer, nn.Linear):
            return layer
        if isinstance(layer, nn.Sequential) and isinstance(layer[-1], nn.Linear):
            return layer[-1]
    raise ValueError(f"cannot find the classifier layer of {type(model).__name__}: "
                     f"expected a Linear layer (or a Sequential ending in one) in one of {HEAD_ATTRIBUTES}")


def _head_slot(model: nn.Module) -> tuple[nn.Module, str]:
    """The parent module and attribute name that hold the classifier layer."""
    old = head_of(model)
    for module in model.modules():
        for child_name, child in module.named_children():
            if child is old:
                return module, child_name
    raise ValueError("classifier layer not found among the model's children")


def _set_head(model: nn.Module, new: nn.Module) -> None:
    parent, name = _head_slot(model)
    setattr(parent, name, new)  # works for Sequential too: its children are named "0", "1", ...


def replace_head(model: nn.Module, n_classes: int) -> nn.Linear:
    """Swap the 1,000-way ImageNet classifier for a fresh ``n_classes``-way linear layer; returns it."""
    old = head_of(model)
    new = nn.Linear(old.in_features, n_classes).to(old.weight.device)
    _set_head(model, new)
    return new


def freeze_backbone(model: nn.Module, train_head: bool = True) -> nn.Module:
    """requires_grad=False everywhere except the classifier: no gradients are kept for frozen layers."""
    for p in model.parameters():
        p.requires_grad = False
    if train_head:
        for p in head_of(model).parameters():
            p.requires_grad = True
    return model


@torch.no_grad()
def extract_features(model: nn.Module, x: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """The pooled features the classifier sees (N x D), computed in eval mode without gradients."""
    parent, name = _head_slot(model)
    head = getattr(parent, name)
    setattr(parent, name, nn.Identity())  # the model now ends at its pooled features
    try:
        with eval_mode(model):
            device = next(model.parameters()).device
            return torch.cat([model(x[i:i + batch_size].to(device)).flatten(1).cpu()
                              for i in range(0, len(x), batch_size)])
    finally:
        setattr(parent, name, head)


class FrozenBatchNorm(Callback):
    """A ``fit`` callback that keeps every BatchNorm layer in eval mode while fine-tuning.

    It changes the model (as ``course.callbacks.Callback`` allows): fit() puts the whole
    model in train mode each epoch; for BN that means normalizing with the statistics of
    each small batch and overwriting the ImageNet running statistics. With few images (small
    batches, few steps) that mismatch costs more than it helps, so before every batch the BN
    layers go back to eval mode and the pretrained statistics are kept (the scale and shift
    of each BN layer still learn).
    """

    def before_batch(self, trainer):
        for m in trainer.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
