"""Outcome: record how a run of the pipeline ended, as a run of its own in MLflow and as a JSON artifact.

    python -m [[packageName]].steps.outcome --workflow NAME --status Failed --duration 93.5 --outcome outcome.json

Argo runs it as the workflow's exit handler, after the last step or the first failure; a local run does the same.
It records the status it is given and succeeds: the workflow's own status stays what the steps made it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..artifacts import write_json
from ..checks import check_tracking_server
from ..errors import UserError
from . import add_artifact, add_tracking, run_step, say, step_parser

STATUSES = ("Succeeded", "Failed", "Error")  # what Argo's workflow.status can be in an exit handler


def duration(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise ValueError(f"{value} is negative")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    return run_step(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = step_parser("outcome", "Record how a run of the pipeline ended.")
    add_artifact(parser.add_argument_group("artifacts"), "outcome", "the outcome to write (.json)")
    workflow = parser.add_argument_group("the run")
    workflow.add_argument("--workflow", required=True, help="the workflow's name")
    workflow.add_argument("--status", required=True, choices=STATUSES)
    workflow.add_argument("--duration", required=True, type=duration, help="seconds")
    add_tracking(parser, parser.add_argument_group("MLflow"), experiment=True)
    args = parser.parse(argv)
    if not args.workflow.strip():
        raise UserError("--workflow is empty: name the workflow run")
    check_tracking_server(args.tracking_uri)

    import mlflow  # imported after the fast checks; no TensorFlow here

    from .. import tracking

    tracking.configure(args.tracking_uri, args.experiment)
    tags = {"pipeline_workflow": args.workflow, "pipeline_status": args.status}
    with mlflow.start_run(run_name=f"workflow {args.workflow}", tags=tags) as run:
        mlflow.log_metric("duration_seconds", args.duration)
    write_json(
        args.outcome,
        {
            "workflow": args.workflow,
            "status": args.status,
            "duration_seconds": args.duration,
            "mlflow_run_id": run.info.run_id,
        },
    )
    say(f"recorded workflow {args.workflow}: {args.status} after {args.duration:.0f} s (MLflow run {run.info.run_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
