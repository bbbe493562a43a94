"""Resource limits for one submission: what they are and how the kernel enforces them."""
import fcntl
import os
import resource
from dataclasses import asdict, dataclass
from pathlib import Path

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    wall_s: float = 120.0        # the whole submission, start to last test cell
    cell_s: float = 30.0         # one answer cell or one call into student code
    cpu_s: int = 120             # RLIMIT_CPU of the runner (SIGXCPU, then SIGKILL)
    memory_mb: int = 2048        # RLIMIT_DATA: heap and anonymous mappings
    address_mb: int = 8192       # RLIMIT_AS: torch alone maps ~3 GiB of address space
    processes: int = 64          # RLIMIT_NPROC under a uid of its own (threads count too)
    output_kb: int = 1024        # student stdout + stderr; more kills the runner
    file_mb: int = 16            # RLIMIT_FSIZE: largest file the student may write
    scratch_mb: int = 64         # size of the writable tmpfs /scratch (and /tmp)
    open_files: int = 256        # RLIMIT_NOFILE

    total_memory_mb: int = 4096  # all processes of the submission together (cgroup, cgroups.py)
    total_processes: int = 128   # all processes and threads together (cgroup pids.max)

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Limits from a dict that was produced by ``as_dict`` (tasks, ledgers): already valid."""
        return cls(**{k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__})


class LimitsError(ValueError):
    """A problem set or a flag asks for a limit that does not exist or is not a positive number."""


def known_keys():
    return list(Limits.__dataclass_fields__)


def validated(data, where):
    """``data`` checked key by key: an unknown key or a non-positive value is an error naming ``where``."""
    data = dict(data or {})
    unknown = sorted(set(data) - set(known_keys()))
    if unknown:
        raise LimitsError(f"{where}: unknown limit {', '.join(map(repr, unknown))}; "
                          f"the known keys are {', '.join(known_keys())}")
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise LimitsError(f"{where}: limit {key!r} must be a positive number, not {value!r}")
    return data


def resolve(source=None, overrides=None, test=False) -> Limits:
    """The limits of one grading run, in one place: the defaults (or TEST_LIMITS), raised by the
    problem set's own needs (its notebook metadata ``course_limits``), then the command-line flags."""
    base = TEST_LIMITS if test else Limits()
    own = {} if test or source is None else validated(
        getattr(source, "limits", None), f"{getattr(source, 'name', 'problem set')} metadata course_limits")
    flags = validated({k: v for k, v in (overrides or {}).items() if v is not None}, "command line")
    merged = {**base.as_dict(), **own, **flags}
    return Limits(**{k: type(getattr(base, k))(v) for k, v in merged.items()})


# Small limits for the corpus test: a bomb is stopped within seconds.
TEST_LIMITS = Limits(wall_s=30, cell_s=4, cpu_s=15, memory_mb=1536, processes=48,
                     output_kb=256, file_mb=4, scratch_mb=32)


def rlimit_setter(limits: Limits, processes_already=0):
    """A preexec_fn that applies the rlimits to the child (and everything it starts).

    ``processes_already``: RLIMIT_NPROC counts every process of the uid, so a runner that shares
    the caller's uid gets its allowance on top of what that uid already runs."""
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_s),
        (resource.RLIMIT_DATA, limits.memory_mb * MiB),
        (resource.RLIMIT_AS, limits.address_mb * MiB),
        (resource.RLIMIT_NPROC, limits.processes + processes_already),
        (resource.RLIMIT_FSIZE, limits.file_mb * MiB),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]

    def apply():
        for which, value in pairs:
            soft_hard = (value, value)
            if which == resource.RLIMIT_CPU:  # SIGXCPU at the soft limit, SIGKILL 2 s later
                soft_hard = (value, value + 2)
            resource.setrlimit(which, soft_hard)
    return apply


class UidSlot:
    """A uid used by one sandbox at a time, so RLIMIT_NPROC counts only that submission.

    Slots are lock files; the lock is held while the runner lives and dies with the process,
    so a crashed grader never leaks a slot.
    """

    FIRST, COUNT = 61000, 512
    FOLDER = Path("/tmp/autograder-uid-slots")

    def __init__(self):
        self.FOLDER.mkdir(mode=0o700, exist_ok=True)
        start = os.getpid() % self.COUNT
        for offset in range(self.COUNT):
            number = (start + offset) % self.COUNT
            fd = os.open(self.FOLDER / f"{number}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fd, self.uid = fd, self.FIRST + number
            return
        raise RuntimeError("no free sandbox uid slot")

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
