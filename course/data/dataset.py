"""A dataset held as tensors: train / test (and optionally validation) splits, class names,
and a batch iterator that slices tensors already on the device.

When the data fits in memory (every dataset of this course does), slicing a tensor on the
device is many times faster than a DataLoader that builds every sample in Python.
"""
from dataclasses import dataclass, replace

import torch


def stratified_indices(labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` indices with every class in proportion to its share of ``labels``."""
    if not 0 < n <= len(labels):
        raise ValueError(f"asked for {n} samples out of {len(labels)}; choose 1..{len(labels)}")
    gen = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    classes = labels.unique()
    picked = []
    for c in classes:
        members = (labels == c).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=gen)]
        # largest-remainder share so the total is exactly n
        share = n * len(members) / len(labels)
        picked.append((members, share))
    counts = [int(s) for _, s in picked]
    order = sorted(range(len(picked)), key=lambda i: picked[i][1] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    chosen = torch.cat([m[:k] for (m, _), k in zip(picked, counts)])
    return chosen[torch.randperm(len(chosen), generator=gen)]


@dataclass
class Dataset:
    """Images as float32 N x C x H x W in [0, 1] and labels as int64, per split."""
    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list
    source: str = ""
    valid_x: torch.Tensor | None = None
    valid_y: torch.Tensor | None = None

    def __post_init__(self):
        for split in ("train", "test", "valid"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x is not None and len(x) != len(y):
                raise ValueError(f"{self.name} {split}: {len(x)} images but {len(y)} labels")

    # --- what it is -------------------------------------------------------------------
    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def shape(self) -> tuple:
        return tuple(self.train_x.shape[1:])

    @property
    def device(self) -> torch.device:
        return self.train_x.device

    @property
    def mean(self) -> tuple:
        return tuple(self.train_x.mean(dim=(0, 2, 3)).tolist())

    @property
    def std(self) -> tuple:
        return tuple(self.train_x.std(dim=(0, 2, 3)).tolist())

    def __repr__(self):
        sizes = f"train {len(self.train_x):,}, test {len(self.test_x):,}"
        if self.valid_x is not None:
            sizes += f", valid {len(self.valid_x):,}"
        return (f"Dataset({self.name!r}: {sizes}; images {'x'.join(map(str, self.shape))}; "
                f"{self.n_classes} classes; {self.source})")

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if name not in ("train", "test", "valid"):
            raise ValueError(f"unknown split {name!r}; use 'train', 'valid' or 'test'")
        x, y = getattr(self, f"{name}_x"), getattr(self, f"{name}_y")
        if x is None:
            raise ValueError(f"{self.name} has no {name!r} split; make one with .split_valid(n)")
        return x, y

    # --- iterating ----------------------------------------------------------------------
    def batches(self, split: str = "train", batch_size: int = 256, shuffle: bool | None = None,
                device=None, drop_last: bool = False, generator: torch.Generator | None = None):
        """Yield ``(x, y)`` slices; the split is moved to ``device`` once, not per batch."""
        x, y = self.split(split)
        if device is not None:
            x, y = x.to(device), y.to(device)
        shuffle = (split == "train") if shuffle is None else shuffle
        n = len(x)
        if shuffle:
            order = torch.randperm(n, generator=generator).to(x.device)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            if shuffle:
                idx = order[start:start + batch_size]
                yield x[idx], y[idx]
            else:
                yield x[start:start + batch_size], y[start:start + batch_size]

    def n_batches(self, split: str = "train", batch_size: int = 256, drop_last: bool = False) -> int:
        n = len(self.split(split)[0])
        return n // batch_size if drop_last else -(-n // batch_size)

    # --- making variants ----------------------------------------------------------------
    def _map(self, fn) -> "Dataset":
        changes = {k: fn(getattr(self, k)) for k in
                   ("train_x", "train_y", "test_x", "test_y", "valid_x", "valid_y")
                   if getattr(self, k) is not None}
        return replace(self, **changes)

    def to(self, device) -> "Dataset":
        """The same dataset with every tensor on ``device``."""
        return self._map(lambda t: t.to(device))

    def subset(self, n_train: int, n_test: int | None = None, seed: int = 0) -> "Dataset":
        """A stratified smaller copy (same classes in the same proportions)."""
        tr = stratified_indices(self.train_y, min(n_train, len(self.train_y)), seed)
        te = stratified_indices(self.test_y, min(n_test or len(self.test_y), len(self.test_y)), seed)
        out = replace(self, train_x=self.train_x[tr.to(self.device)], train_y=self.train_y[tr.to(self.device)],
                      test_x=self.test_x[te.to(self.device)], test_y=self.test_y[te.to(self.device)],
                      source=f"{self.source}; subset {len(tr):,}/{len(te):,}")
        return out

    def split_valid(self, n_valid: int | float = 0.1, seed: int = 0) -> "Dataset":
        """Carve a stratified validation split out of train (a count or a fraction)."""
        n = int(round(n_valid * len(self.train_y))) if isinstance(n_valid, float) else n_valid
        valid = stratified_indices(self.train_y, n, seed).to(self.device)
        keep = torch.ones(len(self.train_y), dtype=torch.bool, device=self.device)
        keep[valid] = False
        return replace(self, train_x=self.train_x[keep], train_y=self.train_y[keep],
                       valid_x=self.train_x[valid], valid_y=self.train_y[valid])

    def normalized(self) -> "Dataset":
        """(x - mean) / std per channel, with statistics of the training split only."""
        mean = self.train_x.mean(dim=(0, 2, 3), keepdim=True)
        std = self.train_x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
        out = replace(self, source=f"{self.source}; normalized")
        for k in ("train_x", "test_x", "valid_x"):
            if getattr(self, k) is not None:
                setattr(out, k, (getattr(self, k) - mean) / std)
        return out
