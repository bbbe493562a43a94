"""Is a server there? One probe for every download of the course (datasets, weights).

    reachable("https://download.pytorch.org/models/resnet18.pth", timeout=3)   # True / False, in <= 3 s
"""
import socket
import threading
import urllib.parse

__all__ = ["reachable", "CONNECT_TIMEOUT_S"]

CONNECT_TIMEOUT_S = 4.0


def _connect(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def reachable(url: str, timeout: float | None = None) -> bool:
    """Can a TCP connection to the URL's host be opened within ``timeout`` seconds?

    The name lookup and the connection run in a daemon thread that is given up on after
    ``timeout``: a stalled DNS lookup ignores socket timeouts, and an offline laptop must
    not hang a lecture cell.
    """
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host name: give a full URL such as https://host/path")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    timeout = timeout or CONNECT_TIMEOUT_S
    answer: list[bool] = []
    thread = threading.Thread(target=lambda: answer.append(_connect(parts.hostname, port, timeout)),
                              daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])
