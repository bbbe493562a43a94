"""Where tensors live and how many threads the CPU uses.

``pick_device()`` returns a usable ``torch.device`` on every machine: CUDA when a
GPU is there, Apple's MPS on a Mac, the CPU otherwise, and says why in one line.
"""
import os
import random

import numpy as np
import torch


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available() and mps.is_built())


def device_reason() -> tuple[torch.device, str]:
    """The best device and a one-line reason for choosing it."""
    if os.environ.get("COURSE_DEVICE"):
        name = os.environ["COURSE_DEVICE"]
        return torch.device(name), f"{name}: set by COURSE_DEVICE"
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return torch.device("cuda"), f"cuda: {name} (mixed precision and channels_last on)"
    if _mps_available():
        return torch.device("mps"), "mps: Apple GPU through Metal (no CUDA found)"
    return torch.device("cpu"), f"cpu: no CUDA or MPS device found; {torch.get_num_threads()} threads"


def pick_device(verbose: bool = False) -> torch.device:
    """cuda > mps > cpu. ``verbose=True`` prints the reason."""
    device, reason = device_reason()
    if verbose:
        print(f"device {reason}")
    return device


def physical_cores() -> int:
    """Physical cores (hyper-threads share one core's arithmetic units, so they rarely help)."""
    try:
        import psutil
        n = psutil.cpu_count(logical=False)
        if n:
            return n
    except ImportError:
        pass
    return max(1, os.cpu_count() or 1)


def thread_count() -> int:
    """CPU threads to use: ``COURSE_THREADS``, else ``OMP_NUM_THREADS``, else the physical cores."""
    for variable in ("COURSE_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                n = int(value.split(",")[0])  # OpenMP allows a list per nesting level
            except ValueError:
                raise ValueError(f"{variable}={value!r} is not a number of threads: "
                                 f"set it to a whole number such as {physical_cores()}") from None
            if n > 0:
                return n
    return physical_cores()


_chosen: list[int] = []  # the count set_threads chose in this process (empty: none yet)


def set_threads(n: int | None = None) -> int:
    """Use ``n`` intra-op threads, or ``thread_count()``'s choice; returns the count.

    Nothing happens on import: lectures call this in their first cell, and ``fit`` calls
    :func:`ensure_threads` when training starts.
    """
    n = n or thread_count()
    torch.set_num_threads(n)
    _chosen[:] = [n]
    return n


def ensure_threads() -> int:
    """``set_threads()`` unless a thread count was already chosen in this process."""
    return _chosen[0] if _chosen else set_threads()


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and torch (all devices) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


def uses_amp(device: torch.device) -> bool:
    """Mixed precision helps (and is safe for these models) on CUDA only."""
    return torch.device(device).type == "cuda"
