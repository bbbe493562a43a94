"""Start the runner in a sandbox: bubblewrap where it works, a bare process (with a warning) where not.

With bubblewrap the runner sees, read-only, only ``/usr``, the Python install, the virtual
environment, the ``course`` package and ``runner.py``; ``/scratch`` and ``/tmp`` are small
tmpfs folders; there is no network and a private PID namespace; it runs under a uid of its
own (``setpriv``) so RLIMIT_NPROC counts only its processes.
"""
import functools
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

from . import cgroups
from .limits import Limits, UidSlot, rlimit_setter

RUNNER = Path(__file__).with_name("runner.py")
SANDBOX_RUNNER = "/opt/autograder/runner.py"

NO_SANDBOX_WARNING = (
    "autograder: bubblewrap is not available; student code runs as a plain separate process "
    "with rlimits (CPU, memory, file size, open files) and time / output limits only. It can "
    "read every file this user can read (solutions, gradebook, other submissions), write where "
    "this user can write, and reach the network; run as root, the process-count limit is not "
    "enforced. Install it with `apt-get install -y bubblewrap`."
)

ENV = {
    "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", "COURSE_OFFLINE": "1",
    "NBGRADER_EXECUTION": "autograde", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "AUTOGRADER_PRELOAD": "numpy,torch",
}


def _python_roots():
    """Folders the interpreter needs: its install and the virtual environment."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    # library folders reached through .pth files or PYTHONPATH (conda, a shared environment)
    roots.update(Path(p).resolve() for p in sys.path
                 if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir())
    return sorted(roots)


def _course_package():
    try:
        import course
    except ImportError:
        return None
    return Path(course.__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def bubblewrap_works():
    """True when bwrap can build the sandbox here (needs namespaces and, as root, setpriv)."""
    if not shutil.which("bwrap") or not shutil.which("setpriv"):
        return False
    try:
        uid = UidSlot.FIRST - 1 if os.geteuid() == 0 else None
        probe = subprocess.run(bwrap_command(["/bin/true"], uid=uid, limits=Limits()),
                               capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _mount_parents(path, made):
    """bwrap creates missing mount points 0700; make the parents traversable first."""
    args = []
    for parent in reversed(Path(path).parents):
        text = str(parent)
        if text in ("/", "/usr") or text in made or text.startswith("/usr/"):
            continue
        made.add(text)
        args += ["--perms", "0755", "--dir", text]
    return args


def bwrap_command(argv, uid, limits):
    made, args = set(), ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc",
                         "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
                         "--new-session", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in ("ld.so.cache", "ld.so.conf", "localtime", "nsswitch.conf"):
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    size = str(limits.scratch_mb << 20)
    args += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp",
             "--perms", "0777", "--size", size, "--tmpfs", "/scratch"]
    binds = [*_python_roots(), _course_package(), RUNNER]
    for source in filter(None, binds):
        target = SANDBOX_RUNNER if source == RUNNER else str(source)
        args += _mount_parents(target, made) + ["--ro-bind", str(source), target]
    args += ["--chdir", "/scratch", "--clearenv"]
    # AUTOGRADER_PID_NAMESPACE: every other process in the sandbox was started by the submission
    for key, value in {**ENV, "HOME": "/scratch", "TMPDIR": "/tmp", "AUTOGRADER_PID_NAMESPACE": "1",
                       "MPLCONFIGDIR": "/scratch/.matplotlib"}.items():
        args += ["--setenv", key, value]
    if uid is None:  # not root: a user namespace, the caller's own uid outside
        return args + ["--unshare-user", "--"] + list(argv)
    args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
             shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
             "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
    return args + list(argv)


def _own_process_count():
    """Processes (threads included) of this uid: RLIMIT_NPROC counts them all, so a
    non-root sandbox gets its allowance on top of them."""
    uid, count = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += len(os.listdir(entry / "task"))
        except OSError:
            continue
    return count


def runner_argv(in_sandbox: bool):
    script = SANDBOX_RUNNER if in_sandbox else str(RUNNER)
    return [sys.executable, "-I", script]


def start_runner(limits: Limits, sandbox: bool, request_fd: int, reply_fd: int):
    """Launch the runner; returns (Popen, UidSlot or None, sandboxed: bool).

    The runner finds ``request_fd`` / ``reply_fd`` (inherited) on its command line; its stdout
    and stderr share one pipe.
    """
    use_bwrap = sandbox and bubblewrap_works()
    if sandbox and not use_bwrap:
        warnings.warn(NO_SANDBOX_WARNING, RuntimeWarning, stacklevel=2)
    root = os.geteuid() == 0
    slot = UidSlot() if use_bwrap and root else None
    argv = runner_argv(use_bwrap) + [str(request_fd), str(reply_fd)]
    if use_bwrap:
        argv = bwrap_command(argv, slot.uid if slot else None, limits)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}, **ENV}
    scratch = None if use_bwrap else _scratch_dir()
    group = cgroups.for_submission(limits)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, pass_fds=(request_fd, reply_fd),
                            preexec_fn=_in_cgroup(group, rlimit_setter(limits, 0 if slot or root else _own_process_count())),
                            env=env, start_new_session=True,
                            cwd=scratch)
    proc.scratch = scratch  # removed by the caller when the runner is gone
    proc.cgroup = group     # caps all its processes together; removed by the caller (cgroups.py)
    return proc, slot, use_bwrap


def _in_cgroup(group, preexec):
    """The child joins the submission's cgroup before the rlimits and the exec."""
    def apply():
        if group is not None:
            group.join()
        preexec()
    return apply


def _scratch_dir():
    import tempfile
    return tempfile.mkdtemp(prefix="autograder-scratch-")
