"""The real download path (torchvision's download_url) against a loopback HTTP server."""
import functools
import hashlib
import http.server
import threading
import time

import pytest

from course.data.fetching import DatasetUnavailable, fetch, verified
from course.network import reachable

from nbrun import time_limit


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *a: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_fetch_downloads_and_verifies(server, tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    root, url = server
    (root / "file.gz").write_bytes(b"payload" * 100)
    good = hashlib.md5(b"payload" * 100).hexdigest()
    path = fetch(["http://127.0.0.1:9/", url], "file.gz", tmp_path / "cache", good)  # first mirror refuses
    assert path.read_bytes() == b"payload" * 100 and verified(path, good)


def test_fetch_rejects_a_file_with_the_wrong_checksum(server, tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    root, url = server
    (root / "file.gz").write_bytes(b"tampered")
    with pytest.raises(DatasetUnavailable, match="file.gz"):
        fetch([url], "file.gz", tmp_path / "cache", "0" * 32)
    assert not (tmp_path / "cache" / "file.gz").exists()


def test_offline_forbids_the_network(server, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    root, url = server
    (root / "file.gz").write_bytes(b"x")
    with pytest.raises(DatasetUnavailable, match="COURSE_OFFLINE"):
        fetch([url], "file.gz", tmp_path / "cache", hashlib.md5(b"x").hexdigest())


def test_reachable_asks_for_the_file_and_gives_up_in_time(server):
    import socket
    root, url = server
    (root / "weights.pth").write_bytes(b"w")
    assert reachable(url + "weights.pth", timeout=2.0) is True
    assert reachable(url + "missing.pth", timeout=2.0) is False   # the server answers 404
    assert reachable("http://127.0.0.1:9/x", timeout=2.0) is False  # nothing listens: refused
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.perf_counter()
        assert reachable(f"http://127.0.0.1:{silent.getsockname()[1]}/x", timeout=1.0) is False
        assert time.perf_counter() - start < time_limit(1.5)
    with pytest.raises(ValueError, match="no host name"):
        reachable("weights.pth")
