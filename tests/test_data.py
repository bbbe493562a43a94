"""course.data: real on-disk formats, checksums, offline fallbacks, the tensor dataset."""
import dataclasses
import hashlib
import tarfile
import time

import numpy as np
import pytest
import torch

import course.data.sources as sources
from course.data import Dataset, DatasetUnavailable, cifar10, digits, fashion_mnist, load, mnist, sample_photos
from course.data.formats import read_idx, write_cifar_batch, write_idx

from nbrun import time_limit


def use_source(monkeypatch, name, source):
    """Point the registry entry of ``name`` at small test files (its embedded default is kept)."""
    monkeypatch.setitem(sources.DATASETS, name, dataclasses.replace(sources.DATASETS[name], full=source))


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return tmp_path


def _write_small_mnist(folder, n_train=30, n_test=10, seed=0):
    """Four gzipped IDX files in MNIST's layout; returns their {role: (filename, md5)}."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28)), "train_labels": np.arange(n_train) % 10,
              "test_images": rng.integers(0, 256, (n_test, 28, 28)), "test_labels": np.arange(n_test) % 10}
    files = {}
    for role, array in arrays.items():
        path = folder / f"{role}.gz"
        write_idx(path, array)
        files[role] = (path.name, _md5(path))
    return files, arrays


def test_idx_reader_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)


def test_idx_reader_rejects_garbage_and_truncation(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04garbage")
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(tmp_path / "bad")
    write_idx(tmp_path / "t.gz", np.zeros((4, 5), np.uint8))
    import gzip
    raw = gzip.decompress((tmp_path / "t.gz").read_bytes())[:-3]
    (tmp_path / "t").write_bytes(raw)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "t")


def test_full_mnist_loads_from_real_format_files(cache, monkeypatch):
    files, arrays = _write_small_mnist(cache / "mnist")
    use_source(monkeypatch, "mnist", sources.IdxSource("mnist", [], files, sources.DIGIT_CLASSES))
    ds = mnist()
    assert ds.source.startswith("full")
    assert ds.train_x.shape == (30, 1, 28, 28) and ds.test_x.shape == (10, 1, 28, 28)
    assert ds.train_x.dtype == torch.float32 and float(ds.train_x.max()) <= 1.0
    assert torch.equal(ds.train_y, torch.from_numpy(arrays["train_labels"]).long())
    assert torch.allclose(ds.train_x[3, 0] * 255, torch.from_numpy(arrays["train_images"][3]).float())


def test_corrupted_cached_file_is_caught_and_never_used(cache, monkeypatch, capsys):
    files, _ = _write_small_mnist(cache / "mnist")
    use_source(monkeypatch, "mnist", sources.IdxSource("mnist", [], files, sources.DIGIT_CLASSES))
    victim = cache / "mnist" / files["train_images"][0]
    victim.write_bytes(victim.read_bytes()[:-10] + b"corrupted!")
    ds = mnist()  # offline: the corrupt file is detected, deleted, and the embedded split used
    assert ds.source.startswith("embedded")
    assert not victim.exists(), "a corrupt file must not stay in the cache"
    assert "embedded 4,000/1,000" in capsys.readouterr().out


def test_corrupted_file_is_fetched_again_when_online(cache, monkeypatch):
    files, _ = _write_small_mnist(cache / "mnist")
    good = {name: (cache / "mnist" / fname).read_bytes() for name, (fname, _) in files.items()}
    use_source(monkeypatch, "mnist", sources.IdxSource("mnist", ["http://mirror.test/"], files,
                                                                    sources.DIGIT_CLASSES))
    (cache / "mnist" / files["test_labels"][0]).write_bytes(b"broken")
    fetched = []

    def fake_fetch(mirrors, filename, folder, md5sum):
        fetched.append(filename)
        role = next(r for r, (f, _) in files.items() if f == filename)
        (folder / filename).write_bytes(good[role])
        return folder / filename

    monkeypatch.setattr(sources, "fetch", fake_fetch)
    monkeypatch.delenv("COURSE_OFFLINE")
    ds = mnist()
    assert fetched == [files["test_labels"][0]]
    assert ds.source.startswith("full")


def test_cifar_reads_pickled_batches_and_checks_them(cache, monkeypatch):
    folder = cache / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    entries = []
    for name, n in [("data_batch_1", 6), ("data_batch_2", 4), ("test_batch", 5)]:
        write_cifar_batch(folder / name, rng.integers(0, 256, (n, 3, 32, 32)), np.arange(n) % 10)
        entries.append((name, _md5(folder / name)))
    source = sources.CifarSource("cifar10", "http://mirror.test/", ("cifar.tgz", "0" * 32),
                                 "cifar-10-batches-py", entries[:2], entries[2:])
    use_source(monkeypatch, "cifar10", source)
    ds = cifar10()
    assert ds.train_x.shape == (10, 3, 32, 32) and ds.test_x.shape == (5, 3, 32, 32)
    assert ds.classes[3] == "cat"
    (folder / "data_batch_2").write_bytes(b"not a pickle")
    with pytest.raises(DatasetUnavailable, match="course data fetch cifar10"):
        cifar10()


def test_cifar_archive_is_extracted_after_download(cache, monkeypatch):
    staging = cache / "staging" / "cifar-10-batches-py"
    staging.mkdir(parents=True)
    rng = np.random.default_rng(2)
    entries = []
    for name in ("data_batch_1", "test_batch"):
        write_cifar_batch(staging / name, rng.integers(0, 256, (3, 3, 32, 32)), [0, 1, 2])
        entries.append((name, _md5(staging / name)))
    archive = cache / "staging" / "cifar.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(staging, arcname="cifar-10-batches-py")
    source = sources.CifarSource("cifar10", "http://mirror.test/", ("cifar.tgz", _md5(archive)),
                                 "cifar-10-batches-py", entries[:1], entries[1:])
    use_source(monkeypatch, "cifar10", source)

    def fake_fetch(mirrors, filename, folder, md5sum):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_bytes(archive.read_bytes())
        return folder / filename

    monkeypatch.setattr(sources, "fetch", fake_fetch)
    monkeypatch.delenv("COURSE_OFFLINE")
    assert cifar10().train_x.shape == (3, 3, 32, 32)


def test_offline_fashion_and_cifar_say_how_to_get_them(cache):
    for loader, name in [(fashion_mnist, "fashion_mnist"), (cifar10, "cifar10")]:
        with pytest.raises(DatasetUnavailable) as err:
            loader()
        assert f"course data fetch {name}" in str(err.value) and str(cache) in str(err.value)


def test_no_network_falls_back_within_seconds(tmp_path, monkeypatch):
    """Online mode on a machine without a network: embedded data, never a hang."""
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    use_source(monkeypatch, "mnist", sources.IdxSource(
        "mnist", ["http://10.255.255.1/", "http://nonexistent.invalid/"],
        {"train_images": ("x.gz", "0" * 32), "train_labels": ("y.gz", "0" * 32),
         "test_images": ("z.gz", "0" * 32), "test_labels": ("w.gz", "0" * 32)}, sources.DIGIT_CLASSES))
    monkeypatch.setattr("course.network.CONNECT_TIMEOUT_S", 2.0)
    start = time.perf_counter()
    ds = mnist()
    assert ds.source.startswith("embedded")
    assert time.perf_counter() - start < time_limit(15)


def test_embedded_mnist_split_is_fixed_and_stratified(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    a, b = mnist(), mnist()
    assert len(a.train_x) == 4000 and len(a.test_x) == 1000
    assert a.train_y.bincount().tolist() == [400] * 10 and a.test_y.bincount().tolist() == [100] * 10
    assert torch.equal(a.test_x, b.test_x), "the split must not change between calls"
    train_rows = {hash(r.numpy().tobytes()) for r in a.train_x}
    assert not any(hash(r.numpy().tobytes()) in train_rows for r in a.test_x[:200])


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(ValueError, match="cifar10, digits, fashion_mnist, mnist"):
        load("imagenet")
    with pytest.raises(ValueError, match="downloadable datasets: cifar10, fashion_mnist, mnist"):
        sources.download("digits")


def test_a_new_dataset_is_one_registry_entry(cache, monkeypatch):
    """load, status and the offline fallback follow the registry: nothing else to edit."""
    files, _ = _write_small_mnist(cache / "kmnist")
    entry = sources.DatasetEntry(sources.IdxSource("kmnist", [], files, sources.DIGIT_CLASSES),
                                 embedded=sources.embedded_digits, origin="scikit-learn",
                                 fallback_note="kmnist: 8x8 digits instead")
    monkeypatch.setitem(sources.DATASETS, "kmnist", entry)
    assert load("KMNIST").source.startswith("full") and sources.status()["kmnist"] == "full (cached)"
    (cache / "kmnist" / files["test_labels"][0]).unlink()
    assert load("kmnist").name == "digits"
    assert sources.status()["kmnist"] == "embedded fallback (scikit-learn)"
    assert sources.status()["digits"] == "embedded (scikit-learn)"


def test_digits_and_photos():
    d = digits()
    assert d.shape == (1, 8, 8) and len(d.train_x) + len(d.test_x) == 1797
    photos = sample_photos()
    assert {"chelsea", "coffee", "astronaut"} <= set(photos)
    assert all(p.ndim == 3 and p.shape[2] == 3 and p.dtype == np.uint8 for p in photos.values())


def test_batches_slice_resident_tensors_and_cover_everything():
    x = torch.arange(10.0).view(10, 1, 1, 1)
    ds = Dataset("toy", x, torch.arange(10), x[:4], torch.arange(4), ["c"] * 10)
    seen = torch.cat([yb for _, yb in ds.batches("train", batch_size=3)])
    assert sorted(seen.tolist()) == list(range(10))
    assert [len(y) for _, y in ds.batches("test", batch_size=3)] == [3, 1]
    assert ds.n_batches("train", 3) == 4
    xb, _ = next(ds.batches("test", batch_size=4))
    assert xb.data_ptr() == ds.test_x.data_ptr(), "unshuffled batches are views, not copies"


def test_subset_split_valid_normalized():
    x = torch.rand(100, 1, 4, 4)
    y = torch.arange(100) % 5
    ds = Dataset("toy", x, y, x[:20], y[:20], list("abcde"))
    sub = ds.subset(50, 10)
    assert sub.train_y.bincount().tolist() == [10] * 5
    v = ds.split_valid(20)
    assert len(v.valid_x) == 20 and len(v.train_x) == 80 and v.valid_y.bincount().tolist() == [4] * 5
    n = ds.normalized()
    assert abs(n.train_x.mean().item()) < 1e-5 and abs(n.train_x.std().item() - 1) < 1e-2
    with pytest.raises(ValueError, match="split_valid"):
        ds.split("valid")
