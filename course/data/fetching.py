"""Fetching files into the cache: checksums, a progress bar, and no hanging offline.

torchvision's ``download_url`` does the transfer (with its tqdm bar and MD5 check); this
module adds what a course needs around it: ``COURSE_OFFLINE=1`` forbids the network, a
short connect timeout makes a missing network fail in seconds, and a cached file is used
only when its checksum matches.
"""
import contextlib
import hashlib
import socket
import urllib.parse
from pathlib import Path

from course.config import offline
from course.network import reachable


class DatasetUnavailable(RuntimeError):
    """The full dataset is neither cached nor downloadable here; the message says what to do."""


def md5(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(path: Path, expected_md5: str) -> bool:
    """True when ``path`` exists and matches its checksum; a corrupt file is deleted."""
    path = Path(path)
    if not path.exists():
        return False
    if md5(path) == expected_md5:
        return True
    path.unlink()  # never use a corrupted file; it is fetched again or reported
    return False


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def fetch(mirrors: list[str], filename: str, folder: Path, expected_md5: str) -> Path:
    """Return ``folder/filename`` verified, downloading it from the first mirror that answers.

    Raises DatasetUnavailable (within seconds when there is no network) otherwise.
    """
    folder = Path(folder)
    path = folder / filename
    if verified(path, expected_md5):
        return path
    if offline():
        raise DatasetUnavailable(f"{filename} is not in {folder} and COURSE_OFFLINE=1 forbids downloading")
    from torchvision.datasets.utils import download_url

    errors = []
    for mirror in mirrors:
        url = urllib.parse.urljoin(mirror, filename)
        if not reachable(url):
            errors.append(f"{url}: host unreachable")
            continue
        try:
            with _socket_timeout(30):
                download_url(url, root=str(folder), filename=filename, md5=expected_md5)
        except Exception as exc:  # a mirror that fails mid-way or sends bad bytes: try the next one
            path.unlink(missing_ok=True)
            errors.append(f"{url}: {exc}")
            continue
        if verified(path, expected_md5):
            return path
        errors.append(f"{url}: checksum mismatch")
    raise DatasetUnavailable(f"could not download {filename}: " + "; ".join(errors))
