"""The workspace: the IPython start-up file that gives every kernel the helpers, and the notebooks copied for a person.

The start-up file is checked on a real kernel: installed into an IPython folder of the test's own, a kernel started
with it has `helpers` before running anything, and a helper's error shows as one line, not a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from [[packageName]].workspace import STARTUP_NAME, copy_notebooks, install_startup

from conftest import NOTEBOOKS, PACKAGE, PROJECT, kernel_env


def test_a_kernel_with_the_start_up_file_has_the_helpers_and_one_line_errors(tmp_path: Path) -> None:
    startup = install_startup(tmp_path / "ipython")
    assert startup == tmp_path / "ipython" / "profile_default" / "startup" / STARTUP_NAME
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("print(helpers.__name__, len(helpers.load_digits_images()))"),
            nbformat.v4.new_code_cell("helpers.load_image('no-such-image.png')"),
        ]
    )
    client = NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=True)
    client.execute(env=kernel_env(IPYTHONDIR=str(tmp_path / "ipython")), cwd=str(tmp_path))
    (printed,) = notebook.cells[0].outputs
    assert printed.text.strip() == f"{PACKAGE} 1797"
    (error,) = notebook.cells[1].outputs
    assert error.output_type == "error" and error.ename == "ImageError"
    assert error.traceback == ["ImageError: no-such-image.png: no such file"]


def test_notebooks_are_copied_but_never_over_a_persons_work(tmp_path: Path) -> None:
    target = tmp_path / "home" / "notebooks"
    target.mkdir(parents=True)
    (target / "02-train-and-track.ipynb").write_text("my edits", encoding="utf-8")
    copied = copy_notebooks(NOTEBOOKS, target)
    assert [path.name for path in copied] == [
        "01-explore-data.ipynb",
        "03-compare-runs.ipynb",
        "04-classify-images.ipynb",
    ]
    assert (target / "02-train-and-track.ipynb").read_text(encoding="utf-8") == "my edits"
    assert copy_notebooks(NOTEBOOKS, target) == []


def test_the_hub_hook_prepares_a_home_folder(tmp_path: Path) -> None:
    env = kernel_env(HOME=str(tmp_path), NOTEBOOKS_SOURCE=str(NOTEBOOKS))
    env.pop("IPYTHONDIR", None)
    done = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.workspace"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "notebooks copied: 4" in done.stdout
    assert (tmp_path / ".ipython" / "profile_default" / "startup" / STARTUP_NAME).is_file()
    assert sorted(path.name for path in (tmp_path / "notebooks").iterdir()) == sorted(
        path.name for path in NOTEBOOKS.glob("*.ipynb")
    )
