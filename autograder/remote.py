"""Trusted side of the wire: the sandboxed runner process, its limits, requests and replies.

Nothing here unpickles or executes what the runner sends: replies are JSON plus raw bytes
whose dtype and size are checked (PROTOCOL.md, "Wire format").
"""
import io
import json
import os
import pickle
import select
import shutil
import signal
import threading
import time

from . import runner as wire
from .limits import Limits
from .sandbox import start_runner
from .values import RemoteError, RemoteHandle, decode, remote_error, student_location  # noqa: F401 (re-exported)

STARTUP_S = 60.0


class RunnerGone(BaseException):
    """The runner died or ran out of time: no test cell may catch this (it is no Exception)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


# ------------------------------------------------------------------------- the runner process
class Connection:
    """One sandboxed runner: requests out, checked replies in, limits watched."""

    def __init__(self, limits: Limits, sandbox: bool = True):
        self.limits = limits
        self.answer_cells = {}  # grade_id -> the student's source: maps tracebacks to cell lines
        self.dead = None
        self.output = bytearray()
        self.output_total = 0
        req_read, self.req_write = os.pipe()
        self.rep_read, rep_write = os.pipe()
        self.started = time.monotonic()
        self.deadline = self.started + limits.wall_s
        try:
            self.proc, self.slot, self.sandboxed = start_runner(limits, sandbox, req_read, rep_write)
        finally:
            os.close(req_read)
            os.close(rep_write)
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()
        head, _ = self._read_reply(time.monotonic() + min(STARTUP_S, limits.wall_s))
        if head.get("t") != "ready":
            self.kill("runner did not start")
            raise RunnerGone(self.dead)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- output: counted, first part kept, over the limit the runner is killed
    def _read_output(self):
        cap = self.limits.output_kb * 1024
        while True:
            chunk = self.proc.stdout.read1(65536) if hasattr(self.proc.stdout, "read1") else self.proc.stdout.read(65536)
            if not chunk:
                return
            self.output_total += len(chunk)
            if len(self.output) < 65536:
                self.output += chunk[: 65536 - len(self.output)]
            if self.output_total > cap:
                self.kill(f"output limit: more than {self.limits.output_kb} KiB printed")
                return

    def kill(self, reason):
        if self.dead is None:
            self.dead = reason
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self):
        if self.dead is None:
            try:
                self._send({"op": "bye"})
            except (OSError, RunnerGone):
                pass
        self.kill(self.dead or "finished")
        try:
            self.proc.wait(timeout=10)
        except Exception:
            pass
        for fd in (self.req_write, self.rep_read):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.slot is not None:
            self.slot.release()
        if getattr(self.proc, "cgroup", None) is not None:
            self.proc.cgroup.remove()
        if getattr(self.proc, "scratch", None):
            shutil.rmtree(self.proc.scratch, ignore_errors=True)
        self._drain.join(timeout=5)

    # -- framing with deadlines
    def _read_exact(self, size, deadline):
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0:
                self._gone_on_timeout()
            ready, _, _ = select.select([self.rep_read], [], [], min(wait, 1.0))
            if not ready:
                continue
            chunk = os.read(self.rep_read, min(left, 1 << 20))
            if not chunk:
                self._gone_on_exit()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _read_frame(self, deadline):
        size = int.from_bytes(self._read_exact(8, deadline), "big")
        if size > wire.MAX_FRAME:
            self.kill(f"protocol violation: a {size}-byte reply")
            raise RunnerGone(self.dead)
        return self._read_exact(size, deadline)

    def _read_reply(self, deadline):
        try:
            head = json.loads(self._read_frame(deadline))
        except (ValueError, RecursionError):
            self.kill("protocol violation: a reply that is not JSON")
            raise RunnerGone(self.dead) from None
        nbufs = head.get("nbufs", 0) if isinstance(head, dict) else -1
        if not isinstance(nbufs, int) or not 0 <= nbufs <= 100_000:
            self.kill("protocol violation: bad reply header")
            raise RunnerGone(self.dead)
        return head, [self._read_frame(deadline) for _ in range(nbufs)]

    def _gone_on_timeout(self):
        wall = time.monotonic() >= self.deadline - 1e-3
        self.kill(f"time limit: more than {self.limits.wall_s:g} s for the submission" if wall
                  else f"time limit: a cell or call ran longer than {self.limits.cell_s:g} s")
        raise RunnerGone(self.dead)

    def _gone_on_exit(self):
        code = self.proc.poll()
        if code is None:
            try:
                code = self.proc.wait(timeout=5)
            except Exception:
                code = None
        if self.dead is None:
            self.dead = exit_reason(code)
        raise RunnerGone(self.dead)

    def _send(self, head, args=None):
        frames = [] if args is None else [dumps_args(args)]
        head = dict(head, nbufs=len(frames))
        try:
            wire.write_frames(self.req_write, [json.dumps(head).encode()] + frames)
        except (BrokenPipeError, OSError):
            self._gone_on_exit()

    def _violation(self, what):
        self.kill(f"protocol violation: {what}")
        raise RunnerGone(self.dead)

    def request(self, head, args=None, timeout=None):
        """Send one request, wait for its reply (within the cell and wall limits), decode it.

        ``exec`` must be answered by a "cell" reply and every other op by a "value" or "error"
        reply; anything else means the student wrote to the reply pipe, and the runner is killed.
        """
        if self.dead is not None:
            raise RunnerGone(self.dead)
        self._send(head, args)
        deadline = min(time.monotonic() + (timeout or self.limits.cell_s), self.deadline)
        reply, frames = self._read_reply(deadline)
        kind = reply.get("t") if isinstance(reply, dict) else None
        if head["op"] == "exec":
            values, names = reply.get("values"), reply.get("names")
            if kind != "cell" or not (isinstance(names, list) and isinstance(values, list)
                                      and len(names) == len(values)):
                self._violation("a bad reply to a cell")
            error = reply.get("error")
            try:
                decoded = {str(n): decode(v, frames, self) for n, v in zip(names, values)}
            except (RemoteError, ValueError, TypeError, KeyError, RecursionError):
                self._violation("a value that does not decode")
            return {"error": error if isinstance(error, dict) else None, "values": decoded}
        if kind == "error":
            error = remote_error(reply)
            error.student_location = student_location(error.remote_tb, self.answer_cells)
            raise error
        if kind == "value":
            return decode(reply.get("v"), frames, self)
        self._violation(f"unexpected reply {str(kind)[:40]!r}")


def exit_reason(code):
    if code is None:
        return "runner stopped answering"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        name = {signal.SIGXCPU: "CPU time limit", signal.SIGKILL: "killed (memory or process limit)",
                signal.SIGSEGV: "crashed (segmentation fault)", signal.SIGXFSZ: "file size limit"}
        return f"runner died: {name.get(number, f'signal {number}')}"
    return f"runner exited with code {code} (sys.exit / os._exit in student code?)"


class _ArgPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if type(obj) is RemoteHandle:  # type(): a handle's __class__ may name a torch class
            return str(object.__getattribute__(obj, "_ag_number"))
        return None


def dumps_args(args):
    buffer = io.BytesIO()
    _ArgPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(args)
    return buffer.getvalue()


