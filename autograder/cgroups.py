"""Total memory and process count of one submission, across all of its processes (cgroups).

rlimits (limits.py) are per process: ten processes under a 2 GiB RLIMIT_DATA each can use
20 GiB together. A cgroup caps them all: ``memory.max`` / ``pids.max`` (cgroup v2, in a cgroup
delegated to us: its ``cgroup.subtree_control`` lists memory and pids) or, on a cgroup v1 host,
``memory.limit_in_bytes`` and ``pids.max`` in the memory and pids hierarchies. The runner joins
the cgroup in its ``preexec_fn``, before it runs anything, so every process it starts is inside.

Where neither is writable (not root, no delegation, macOS), ``available()`` says why and what
remains: the per-process rlimits, RLIMIT_NPROC under the sandbox's own uid (a process cap, but
not a memory total), and the wall / CPU / output limits.
"""
import functools
import os
import signal
import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
MiB = 1 << 20


def _own_paths():
    """{controller or "": path} from /proc/self/cgroup ("" is the v2 unified hierarchy)."""
    out = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            out[name] = path
    return out


def _v2_base():
    own = _own_paths().get("")
    base = ROOT / (own or "/").lstrip("/")
    control = base / "cgroup.subtree_control"
    try:
        enabled = control.read_text().split()
    except OSError:
        return None
    return base if {"memory", "pids"} <= set(enabled) and os.access(base, os.W_OK) else None


def _v1_bases():
    own = _own_paths()
    bases = {c: ROOT / c / own.get(c, "/").lstrip("/") for c in ("memory", "pids")}
    if all((b / "cgroup.procs").exists() and os.access(b, os.W_OK) for b in bases.values()):
        return bases
    return None


@functools.lru_cache(maxsize=1)
def available():
    """(True, "cgroup v2" / "cgroup v1") or (False, what remains without it)."""
    if _v2_base() is not None:
        return True, "cgroup v2"
    if _v1_bases() is not None:
        return True, "cgroup v1"
    return False, ("no writable cgroup (needs root or a delegated cgroup v2 with memory and pids, "
                   "e.g. systemd Delegate=yes): total memory and process count of a submission are "
                   "not capped; per-process rlimits, the sandbox uid's RLIMIT_NPROC and the time "
                   "and output limits remain")


class SubmissionCgroup:
    """One cgroup per runner: created with its caps, joined by the child, killed and removed after."""

    def __init__(self, limits):
        name = f"autograder-{uuid.uuid4().hex[:12]}"
        base = _v2_base()
        if base is not None:
            self.dirs = [base / name]
            self.dirs[0].mkdir()
            self._set(self.dirs[0], "memory.max", limits.total_memory_mb * MiB)
            self._set(self.dirs[0], "memory.swap.max", 0, optional=True)
            self._set(self.dirs[0], "pids.max", limits.total_processes)
        else:
            bases = _v1_bases()
            self.dirs = [bases["memory"] / name, bases["pids"] / name]
            for folder in self.dirs:
                folder.mkdir()
            self._set(self.dirs[0], "memory.limit_in_bytes", limits.total_memory_mb * MiB)
            self._set(self.dirs[1], "pids.max", limits.total_processes)
        self.procs = [str(d / "cgroup.procs") for d in self.dirs]

    @staticmethod
    def _set(folder, key, value, optional=False):
        try:
            (folder / key).write_text(str(value))
        except OSError:
            if not optional:
                raise

    def join(self):
        """In the child, before exec (preexec_fn): only os calls, no Python-level locks."""
        pid = str(os.getpid()).encode()
        for path in self.procs:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def pids(self):
        found = set()
        for path in self.procs:
            try:
                found.update(int(p) for p in Path(path).read_text().split())
            except OSError:
                continue
        return found

    def remove(self):
        """Kill whatever is still inside (a process that left the runner's group too), then rmdir."""
        kill = self.dirs[0] / "cgroup.kill"
        for _ in range(50):
            if kill.exists():
                self._set(self.dirs[0], "cgroup.kill", 1, optional=True)
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if not self.pids():
                break
            time.sleep(0.02)
        for folder in self.dirs:
            try:
                folder.rmdir()
            except OSError:
                pass


def for_submission(limits):
    """A SubmissionCgroup, or None where cgroups are not available (available() says why)."""
    if not available()[0]:
        return None
    try:
        return SubmissionCgroup(limits)
    except OSError:
        return None
