"""A real JupyterHub on loopback for the semester test: local accounts, nbgrader's exchange.

* configurable-http-proxy comes from npm into ``build/hub/`` (never a global install);
* accounts are Linux users made with ``useradd`` (the test runs as root) and removed after;
* each user's JupyterLab runs as that user (LocalProcessSpawner). The course's virtual
  environment may sit under a folder other users cannot enter (``/root``, 0700), so servers and
  kernels run Debian's ``/usr/bin/python3`` (same minor version) with the environment's
  site-packages on ``PYTHONPATH``; a system install or ``/opt`` environment needs none of this;
* the filesystem exchange is a shared 0777 folder, as nbgrader requires;
* students get nbgrader's assignment list and validate extensions, not formgrader.
"""
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "build" / "hub"
CHP = NODE_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
SYSTEM_PYTHON = "/usr/bin/python3"
COURSE_ID = "cnn-course"
PASSWORD = secrets.token_hex(8)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing():
    """Why the hub test cannot run here, or None."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        return "needs root and useradd (local test accounts)"
    if not shutil.which("npm") and not CHP.exists():
        return "needs npm for configurable-http-proxy"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "jupyterhub is not installed (pip install -e '.[dev]')"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
                           capture_output=True, text=True)
    if probe.returncode or probe.stdout.strip() != str(sys.version_info[:2]):
        return f"needs {SYSTEM_PYTHON} of Python {sys.version_info[0]}.{sys.version_info[1]}"
    return None


def install_proxy():
    if not CHP.exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund",
                        "configurable-http-proxy@5"], check=True, capture_output=True, timeout=300)
    return CHP


def site_packages():
    return sysconfig.get_paths()["purelib"]


class Hub:
    def __init__(self, root: Path, instructor: str, students: list[str]):
        self.root, self.instructor, self.students = root, instructor, students
        self.users = [instructor, *students]
        self.port, self.exchange = free_port(), root / "exchange"
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    # ---------------------------------------------------------------- accounts and folders
    def home(self, user):
        return Path(pwd.getpwnam(user).pw_dir)

    def create(self):
        self.root.chmod(0o755)
        self.exchange.mkdir(mode=0o777)
        self.exchange.chmod(0o777)
        share = self._shared_jupyter()
        for user in self.users:
            subprocess.run(["userdel", "-r", user], capture_output=True)
            subprocess.run(["useradd", "-m", "-d", str(self.root / "home" / user), "-s", "/bin/bash", user],
                           check=True, capture_output=True)
            self._user_config(user, share)
        bin_dir = self.root / "bin"  # nbgrader runs `alembic` by name
        bin_dir.mkdir()
        (bin_dir / "alembic").write_text(f"#!/bin/sh\nexec {SYSTEM_PYTHON} -m alembic \"$@\"\n")
        (bin_dir / "alembic").chmod(0o755)

    def _shared_jupyter(self):
        """Data folder for every user: the lab extensions of the environment and a kernel that
        runs the system python on the environment's packages."""
        share = self.root / "jupyter"
        venv_share = Path(sys.prefix) / "share" / "jupyter"
        share.mkdir()
        for name in ("labextensions", "nbextensions", "nbconvert"):
            if (venv_share / name).exists():
                (share / name).symlink_to(venv_share / name)
        kernel = share / "kernels" / "python3"
        kernel.mkdir(parents=True)
        (kernel / "kernel.json").write_text(json.dumps({
            "argv": [SYSTEM_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3", "language": "python",
            "env": {"PYTHONPATH": site_packages(), "COURSE_OFFLINE": "1"}}))
        return share

    def _user_config(self, user, share):
        home = self.home(user)
        config = home / ".jupyter"
        config.mkdir()
        lines = [f"c.CourseDirectory.course_id = {COURSE_ID!r}", f"c.Exchange.root = {str(self.exchange)!r}",
                 "c.Exchange.path_includes_course = True"]
        if user == self.instructor:  # the course's feedback scrubbing (autograder/nbgrader_config.py)
            lines += [f"c.CourseDirectory.root = {str(home / 'course')!r}",
                      'c.GenerateFeedback.preprocessors = ["autograder.release.ScrubHiddenTests", '
                      '"nbgrader.preprocessors.GetGrades", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]']
            (home / "course").mkdir()
            (home / "course" / "nbgrader_config.py").write_text("c = get_config()  # noqa\n" + "\n".join(lines) + "\n")
        (config / "nbgrader_config.py").write_text("c = get_config()  # noqa\n" + "\n".join(lines) + "\n")
        # roles: students do not get the instructor's extensions (server side and lab side)
        server = {"ServerApp": {"jpserver_extensions": {
            "nbgrader.server_extensions.formgrader": user == self.instructor,
            "nbgrader.server_extensions.course_list": user == self.instructor,
            "nbgrader.server_extensions.assignment_list": True,
            "nbgrader.server_extensions.validate_assignment": True}}}
        (config / "jupyter_server_config.json").write_text(json.dumps(server))
        if user != self.instructor:
            labconfig = config / "labconfig"
            labconfig.mkdir()
            (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": {
                "@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True,
                "@jupyter/nbgrader:course-list": True}}))
        subprocess.run(["chown", "-R", f"{user}:{user}", str(home)], check=True)

    def env_for_users(self):
        return {"PYTHONPATH": f"{site_packages()}:{ROOT}", "PATH": f"{self.root / 'bin'}:/usr/bin:/bin",
                "JUPYTER_PATH": str(self.root / "jupyter"),
                "JUPYTER_CONFIG_PATH": str(Path(sys.prefix) / "etc" / "jupyter"),
                "JUPYTERLAB_DIR": str(Path(sys.prefix) / "share" / "jupyter" / "lab"),
                "COURSE_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}

    def as_user(self, user, *args, cwd=None, timeout=300):
        """Run a command as ``user`` (e.g. the instructor's nbgrader commands)."""
        env = " ".join(f"{k}={v}" for k, v in self.env_for_users().items())
        proc = subprocess.run(["runuser", "-u", user, "--", "env", *env.split(), "HOME=" + str(self.home(user)),
                               *args], cwd=cwd or self.home(user), capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(args)} as {user} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        return proc

    # ---------------------------------------------------------------- the hub itself
    def start(self):
        config = self.root / "jupyterhub_config.py"
        config.write_text(f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(install_proxy())!r}]
c.JupyterHub.db_url = "sqlite:///{self.root / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = "{self.root / 'cookie_secret'}"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allowed_users = {set(self.users)!r}
c.Spawner.cmd = [{SYSTEM_PYTHON!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.environment = {self.env_for_users()!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
""")
        self.log = open(self.root / "hub.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=self.root,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("jupyterhub exited:\n" + (self.root / "hub.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/hub/api", timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("jupyterhub did not come up:\n" + (self.root / "hub.log").read_text()[-3000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
        for user in self.users:  # their servers and kernels (by pid), then the accounts
            for pid in pids_of(pwd.getpwnam(user).pw_uid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            subprocess.run(["userdel", "-r", user], capture_output=True)


def pids_of(uid):
    out = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                out.append(int(entry.name))
        except OSError:
            continue
    return out
