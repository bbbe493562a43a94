"""Penalties on weights (L1, L2, elastic net), weight decay, and dropout measured (lecture 07).

    loss_fn = penalized_loss(model, l1=1e-4, l2=1e-3)     # cross-entropy + penalties, for fit(loss_fn=...)
    dropout_behaviour(p=0.5)                             # what nn.Dropout does in train vs eval mode
    weight_decay_matches_l2(lr=0.1, wd=0.01)             # SGD's weight_decay is the L2 gradient
"""
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["penalized_weights", "l1_penalty", "l2_penalty", "elastic_net_penalty", "penalized_loss",
           "weight_values", "share_near_zero", "dropout_behaviour", "prediction_spread",
           "weight_decay_matches_l2"]


def penalized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weights a penalty usually covers: matrices and kernels, not biases or BN's gamma / beta.

    Biases and BN parameters set offsets and scales, not how strongly inputs are combined;
    shrinking them does not simplify the function and can hurt.
    """
    return [p for p in model.parameters() if p.requires_grad and p.dim() > 1]


def l1_penalty(model: nn.Module) -> torch.Tensor:
    """sum |w|: its gradient lambda * sign(w) pushes every weight towards zero by the same step,
    so small weights reach zero and stay there (sparse weights)."""
    return sum(w.abs().sum() for w in penalized_weights(model))


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """(1/2) sum w^2: the 1/2 makes the gradient lambda * w, so large weights shrink the most."""
    return 0.5 * sum((w * w).sum() for w in penalized_weights(model))


def elastic_net_penalty(model: nn.Module, l1: float, l2: float) -> torch.Tensor:
    """l1 * sum |w| + l2 * (1/2) sum w^2: sparsity of L1 with the stability of L2."""
    return l1 * l1_penalty(model) + l2 * l2_penalty(model)


def penalized_loss(model: nn.Module, l1: float = 0.0, l2: float = 0.0, base=F.cross_entropy):
    """A ``loss_fn(output, target)`` for ``fit`` that adds the elastic-net penalty of ``model``.

    The penalty is added only where gradients are taken (training); evaluation, which runs
    under ``torch.no_grad``, reports the plain data loss, so runs with different penalties
    can be compared on the same validation scale.
    """
    def loss_fn(output, target, reduction="mean"):
        loss = base(output, target, reduction=reduction)
        if (l1 or l2) and reduction == "mean" and torch.is_grad_enabled():
            loss = loss + elastic_net_penalty(model, l1, l2)
        return loss
    return loss_fn


def weight_values(model: nn.Module) -> torch.Tensor:
    """All penalized weights in one flat CPU tensor (for histograms)."""
    return torch.cat([w.detach().flatten().cpu() for w in penalized_weights(model)])


def share_near_zero(model: nn.Module, tol: float = 1e-3) -> float:
    """Share of penalized weights with |w| <= tol: L1 drives it up, L2 barely does."""
    w = weight_values(model)
    return float((w.abs() <= tol).float().mean())


def dropout_behaviour(p: float = 0.5, n: int = 100_000, seed: int = 0) -> dict:
    """Push a vector of ones through ``nn.Dropout(p)`` in both modes and measure what comes out.

    In training mode a share p of the values is zeroed and the survivors are scaled by
    1 / (1 - p), so the expected value stays 1 ("inverted dropout"); in evaluation mode
    dropout is the identity and nothing needs rescaling at test time.
    """
    torch.manual_seed(seed)
    layer, x = nn.Dropout(p), torch.ones(n)
    layer.train()
    y_train = layer(x)
    layer.eval()
    y_eval = layer(x)
    kept = y_train[y_train != 0]
    return {"p": p,
            "train_share_zero": float((y_train == 0).float().mean()),
            "train_kept_value": float(kept[0]) if len(kept) else 0.0,
            "train_mean": float(y_train.mean()),
            "eval_share_zero": float((y_eval == 0).float().mean()),
            "eval_equals_input": bool(torch.equal(y_eval, x))}


@torch.no_grad()
def prediction_spread(model: nn.Module, x: torch.Tensor, repeats: int = 20) -> dict:
    """Std of the class probabilities over repeated forward passes in train and in eval mode.

    Train mode gives a different dropout mask each pass (a random sub-network); eval mode is
    deterministic. The model is left in eval mode.
    """
    was_training = model.training
    out = {}
    for mode in ("train", "eval"):
        model.train(mode == "train")
        probs = torch.stack([model(x).softmax(-1) for _ in range(repeats)])
        out[mode] = float(probs.std(0).mean())
    model.train(was_training)
    return out


def weight_decay_matches_l2(lr: float = 0.1, wd: float = 0.01, seed: int = 0) -> dict:
    """One step of SGD(weight_decay=wd) vs one step of plain SGD on loss + wd * (1/2)||w||^2.

    For SGD they are the same update. ``torch.optim.Adam(weight_decay=...)`` is also the L2
    gradient, but Adam then divides it by its running gradient scale, so weights with large
    gradients are barely decayed; AdamW applies the decay to the weights directly
    ("decoupled") and takes a different step.
    """
    torch.manual_seed(seed)
    x, y = torch.randn(64, 20), torch.randint(0, 3, (64,))
    start = nn.Linear(20, 3)

    def one_step(opt_name, decay_in_optimizer):
        model = nn.Linear(20, 3)
        model.load_state_dict(start.state_dict())
        params = [model.weight]  # decay the weight matrix only, as penalized_weights does
        others = [model.bias]
        opt_cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[opt_name]
        groups = [{"params": params, "weight_decay": wd if decay_in_optimizer else 0.0},
                  {"params": others, "weight_decay": 0.0}]
        opt = opt_cls(groups, lr=lr)
        loss = F.cross_entropy(model(x), y)
        if not decay_in_optimizer:
            loss = loss + wd * l2_penalty(model)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return model.weight.detach().clone()

    def adamw_step():
        model = nn.Linear(20, 3)
        model.load_state_dict(start.state_dict())
        opt = torch.optim.AdamW([{"params": [model.weight], "weight_decay": wd},
                                 {"params": [model.bias], "weight_decay": 0.0}], lr=lr)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return model.weight.detach().clone()

    sgd_gap = (one_step("sgd", True) - one_step("sgd", False)).abs().max()
    adam_gap = (one_step("adam", True) - one_step("adam", False)).abs().max()
    adamw_gap = (adamw_step() - one_step("adam", False)).abs().max()
    return {"sgd_decay_vs_l2": float(sgd_gap), "adam_decay_vs_l2": float(adam_gap),
            "adamw_vs_adam_l2": float(adamw_gap)}
