"""Training throughput, side by side in one process, on the same LeNet and data:

  (a) course.fit with its progress bar and live plot (redrawn at most every 2 s, and at the end)
  (b) a minimal hand-written loop over device-resident tensors
  (c) a d2l-style loop: a Dataset that converts every image from PIL per sample, a DataLoader
      (d2l's default of 4 workers, capped at the cores), and a matplotlib redraw every few batches (5 per epoch)

Each runs the same epochs, batch size, optimizer and per-epoch test evaluation, after a warm-up,
interleaved, best of three.
Then: LeNet with batch norm on embedded MNIST with course.fit, test accuracy and seconds.
Targets on a 2-core machine: a/b >= 0.9, a/c >= 1.5, accuracy >= 98.0% in <= 10 s.
"""
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset
from torchvision.transforms import ToTensor

from course.data import mnist
from course.device import pick_device, seed_everything, set_threads
from course.models import lenet5_modern
from course.progress import ProgressBar
from course.train import evaluate, fit
from course.viz.png import png_bytes
from course.viz.training import LivePlot

EPOCHS = int(os.environ.get("BENCH_EPOCHS", 8))  # as many as the accuracy run below
REPEATS = int(os.environ.get("BENCH_REPEATS", 3))
BATCH = 128
LR = 3e-3
WORKERS = min(4, os.cpu_count() or 1)  # d2l uses 4; torch warns above the core count


def run_course_fit(data, device):
    seed_everything(0)
    model = lenet5_modern(batch_norm=True)
    with open(os.devnull, "w") as null:
        start = time.perf_counter()
        plot = LivePlot()
        fit(model, data, epochs=EPOCHS, lr=LR, batch_size=BATCH, device=device, quiet=True,
            callbacks=[ProgressBar(file=null), plot])
        seconds = time.perf_counter() - start
    assert plot.drawn_epochs == EPOCHS and plot.redraws >= 1, "the live plot must show every epoch"
    return seconds


def run_minimal_loop(data, device):
    seed_everything(0)
    model = lenet5_modern(batch_norm=True).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    x, y = data.train_x.to(device), data.train_y.to(device)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        model.train()
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        evaluate(model, data, device=device)
    return time.perf_counter() - start


class PILDigits(TorchDataset):
    """d2l's pattern: images stored as PIL, converted to tensors one sample at a time."""

    def __init__(self, x, y):
        self.images = [Image.fromarray((img[0].numpy() * 255).astype(np.uint8)) for img in x]
        self.labels = y.tolist()
        self.to_tensor = ToTensor()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.to_tensor(self.images[i]), self.labels[i]


def redraw(losses):
    fig, ax = plt.subplots(figsize=(3.5, 2.5))
    ax.plot(losses)
    png_bytes(fig, tight=False)  # what a notebook redraw costs: render to PNG, close


def run_d2l_loop(data, device):
    seed_everything(0)
    model = lenet5_modern(batch_norm=True).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    train = DataLoader(PILDigits(data.train_x, data.train_y), batch_size=BATCH, shuffle=True, num_workers=WORKERS)
    test = DataLoader(PILDigits(data.test_x, data.test_y), batch_size=BATCH, num_workers=WORKERS)
    every = max(1, len(train) // 5)
    losses = []
    start = time.perf_counter()
    for _ in range(EPOCHS):
        model.train()
        for i, (xb, yb) in enumerate(train):
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if (i + 1) % every == 0:
                redraw(losses)
        model.eval()
        with torch.no_grad():
            _correct = sum((model(xb.to(device)).argmax(1) == yb.to(device)).sum().item() for xb, yb in test)
    return time.perf_counter() - start


def accuracy_run(data, device):
    """The accuracy target: LeNet with batch norm, one-cycle, on the embedded split."""
    seed_everything(0)
    model = lenet5_modern(batch_norm=True)
    start = time.perf_counter()
    history = fit(model, data, epochs=8, lr=1e-2, batch_size=64, device=device, quiet=True)
    return history.final["valid_acc"], time.perf_counter() - start


def main():
    set_threads()  # every runner with the thread count fit would choose (nothing is set on import)
    device = pick_device(verbose=True)
    data = mnist()
    print(f"data: {data}\nthreads: {torch.get_num_threads()}, epochs {EPOCHS}, batch {BATCH}")
    runners = [("a course.fit (bar + live plot)", run_course_fit),
               ("b minimal loop (device tensors)", run_minimal_loop),
               ("c d2l-style (PIL + DataLoader + redraws)", run_d2l_loop)]
    for _, runner in runners:  # warm-up: allocator, kernels, matplotlib's fonts, worker start-up code
        runner(data.subset(512, 128), device)
    images = EPOCHS * len(data.train_x)
    seconds = {key: [] for key, _ in runners}
    for _ in range(REPEATS):  # interleaved, best of REPEATS: the machine's noise hits all three alike
        for key, runner in runners:
            seconds[key].append(runner(data, device))
    rates = {}
    for key, _ in runners:
        best = min(seconds[key])
        rates[key[0]] = images / best
        print(f"{key:<44} {images / best:>9,.0f} images/s  (best of {REPEATS}: {best:.2f} s)")
    print(f"a/b = {rates['a'] / rates['b']:.2f}   (target >= 0.9)")
    print(f"a/c = {rates['a'] / rates['c']:.2f}   (target >= 1.5)")
    acc, seconds = accuracy_run(data, device)
    print(f"LeNet + batch norm, course.fit on {data.name} ({len(data.train_x):,} train): "
          f"test accuracy {acc:.2%} in {seconds:.1f} s   (target >= 98.0% in <= 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
