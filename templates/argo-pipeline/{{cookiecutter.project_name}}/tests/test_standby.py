"""`pipeline standby`, what the TAP workload runs: it says what the image is for, then waits for SIGTERM."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from conftest import PACKAGE, PROJECT, command_env


def start(cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", f"{PACKAGE}.pipeline", "standby"],
        cwd=cwd,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("standing by"):
            break
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    return out, err


def test_standby_waits_until_sigterm_and_exits_cleanly() -> None:
    process = start(PROJECT)

    out, err = stop(process)

    assert process.returncode == 0, err
    assert out.strip().endswith("stopped by SIGTERM")
    assert err == ""


def test_standby_warns_when_the_image_holds_stale_yaml(tmp_path: Path) -> None:
    shutil.copytree(PROJECT / "argo", tmp_path / "argo")
    (tmp_path / "argo" / "cron-workflow.yaml").write_text("# edited by hand\n", encoding="utf-8")
    process = start(tmp_path)

    _, err = stop(process)

    assert process.returncode == 0
    assert err.strip() == "warning: cron-workflow.yaml in argo differ from pipeline.py in this image"
