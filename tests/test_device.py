import torch

from course.device import device_reason, pick_device, seed_everything, set_threads


def test_pick_device_returns_a_usable_device_and_a_reason(monkeypatch):
    device, reason = device_reason()
    assert torch.zeros(2, device=device).sum().item() == 0
    assert reason.startswith(device.type)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected


def test_pick_device_says_why(capsys):
    pick_device(verbose=True)
    assert capsys.readouterr().out.startswith("device ")


def test_override_by_environment(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")


def test_seed_everything_repeats():
    seed_everything(3)
    a = torch.randn(3)
    seed_everything(3)
    assert torch.equal(a, torch.randn(3))


def test_set_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("COURSE_THREADS", "2")
        assert set_threads() == 2
    finally:
        torch.set_num_threads(before)
