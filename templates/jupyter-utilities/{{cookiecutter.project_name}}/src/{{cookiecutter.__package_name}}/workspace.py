"""Prepare a person's workspace: the IPython start-up file, and their own copy of the project's notebooks.

The launcher (lab.py) installs the start-up file before JupyterLab starts; on the Hub, each user server's postStart
hook runs `python -m {{ cookiecutter.__package_name }}.workspace`, which also copies the notebooks the image carries
(NOTEBOOKS_SOURCE) into the home folder. A notebook that is already there is never overwritten: it holds the
person's work.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

STARTUP_SOURCE = Path(__file__).with_name("ipython_startup.py")
STARTUP_NAME = "00-{{ cookiecutter.__package_name }}.py"


def ipython_dir() -> Path:
    """Where IPython keeps its profiles: IPYTHONDIR, else ~/.ipython."""
    return Path(os.environ.get("IPYTHONDIR") or Path.home() / ".ipython")


def install_startup(target: Path | None = None) -> Path:
    """Copy the start-up file into the default profile's startup folder (every kernel runs it first)."""
    folder = (target or ipython_dir()) / "profile_default" / "startup"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STARTUP_NAME
    path.write_text(STARTUP_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def copy_notebooks(source: Path, target: Path) -> list[Path]:
    """Copy each notebook of `source` into `target` unless it is there already; returns the new copies."""
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(source.glob("*.ipynb")):
        destination = target / notebook.name
        if not destination.exists():
            shutil.copyfile(notebook, destination)
            copied.append(destination)
    return copied


def main() -> int:
    startup = install_startup()
    print(f"IPython start-up file: {startup}")
    source = os.environ.get("NOTEBOOKS_SOURCE", "").strip()
    if source:
        copied = copy_notebooks(Path(source), Path(os.environ.get("NOTEBOOKS_TARGET") or Path.home() / "notebooks"))
        print(f"notebooks copied: {len(copied)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
