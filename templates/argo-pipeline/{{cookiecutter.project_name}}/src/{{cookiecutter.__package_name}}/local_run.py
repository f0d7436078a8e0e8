"""`run-local`: the pipeline's steps in order, as subprocesses, with a local artifact folder.

A sequential runner for development, not a workflow engine: no retries, no pods, one step at a time. It runs
exactly the commands the WorkflowTemplate's containers run, with the same flags; artifacts are files in one folder
instead of the cluster's artifact repository, and MLflow is the local store unless MLFLOW_TRACKING_URI (or
--tracking-uri) names a server. The first step that fails stops the run; the outcome step runs last either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .pipeline import ARTIFACTS, NAME, OUTCOME, PARAMETERS, STEPS, Step

RUNS_DIR = Path("pipeline-runs")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the folder holding this package, for the steps' PYTHONPATH


def parameter_values(overrides: Mapping[str, str], local: Mapping[str, str]) -> dict[str, str]:
    """The workflow's parameter defaults, then `local` values, then `overrides`; unknown names are refused."""
    defaults = {parameter.name: parameter.default for parameter in PARAMETERS}
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise UserError(f"unknown parameter(s) {', '.join(unknown)}; the pipeline takes {', '.join(defaults)}")
    return {**defaults, **local, **overrides}


@dataclass(frozen=True)
class LocalRun:
    name: str
    folder: Path
    values: Mapping[str, str]

    def step_command(self, step: Step, extra: Sequence[str] = ()) -> list[str]:
        def path(artifact: str) -> str:
            return str(self.folder / ARTIFACTS[artifact])

        return [sys.executable, "-m", step.module, *step.args(self.values.__getitem__, path, path), *extra]

    def run_step(self, step: Step, extra: Sequence[str] = ()) -> int:
        print(f"--- {step.name}", flush=True)
        environ = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])),
        }
        return subprocess.run(self.step_command(step, extra), env=environ, check=False).returncode


def new_run(overrides: Mapping[str, str], tracking_uri: str, folder: Path | None = None) -> LocalRun:
    name = f"{NAME}-local-{time.strftime('%Y%m%d-%H%M%S')}"
    folder = folder or RUNS_DIR / name
    if folder.exists() and any(folder.iterdir()):
        raise UserError(f"artifact folder {folder} is not empty; name another with --artifacts")
    return LocalRun(name, folder, parameter_values(overrides, {"tracking-uri": tracking_uri}))


def run(local: LocalRun) -> int:
    """Run the steps in order, then the outcome step; 0 when every step succeeded."""
    local.folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    failed: tuple[int, Step, int] | None = None
    for index, step in enumerate(STEPS):
        if step.needs and not local.values[step.needs].strip():
            print(f"--- {step.name}: skipped, the parameter {step.needs} is empty", flush=True)
            continue
        code = local.run_step(step)
        if code != 0:
            failed = (index, step, code)
            break
    status = "Failed" if failed else "Succeeded"
    facts = ["--workflow", local.name, "--status", status, "--duration", f"{time.monotonic() - started:.1f}"]
    recorded = local.run_step(OUTCOME, facts)
    if failed:
        index, step, code = failed
        not_run = ", ".join(later.name for later in STEPS[index + 1 :]) or "none"
        print(
            f"error: step {step.name} failed with exit code {code}; not run: {not_run} (artifacts in {local.folder})",
            file=sys.stderr,
        )
        return 1
    if recorded != 0:
        print(
            f"error: the outcome step failed with exit code {recorded} (artifacts in {local.folder})", file=sys.stderr
        )
        return 1
    print(f"pipeline run {local.name} succeeded; artifacts in {local.folder}", flush=True)
    return 0
