"""Is a file there to download? One probe for every download of the course (datasets, weights).

    reachable("https://download.pytorch.org/models/resnet18-f37072fd.pth", timeout=3)   # True / False, in <= 3 s
"""
import threading
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["reachable", "CONNECT_TIMEOUT_S"]

CONNECT_TIMEOUT_S = 4.0


def _answers(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True  # 2xx, or a redirect urllib followed to one
    except (urllib.error.URLError, OSError, ValueError):  # refused, no route, no name, 4xx / 5xx
        return False


def reachable(url: str, timeout: float | None = None) -> bool:
    """Does the server answer a HEAD request for ``url`` with success within ``timeout`` seconds?

    Asking for the file itself (not only opening a connection) also catches networks that
    accept every connection and answer 404 or a login page. The request runs in a daemon
    thread that is given up on after ``timeout``: a stalled DNS lookup ignores socket
    timeouts, and an offline laptop must not hang a lecture cell.
    """
    if not urllib.parse.urlsplit(url).hostname:
        raise ValueError(f"{url!r} has no host name: give a full URL such as https://host/path")
    timeout = timeout or CONNECT_TIMEOUT_S
    answer: list[bool] = []
    thread = threading.Thread(target=lambda: answer.append(_answers(url, timeout)), daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])
