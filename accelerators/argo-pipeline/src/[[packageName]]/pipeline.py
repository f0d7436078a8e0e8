"""The retraining pipeline: its steps, their Argo Workflows resources (built with hera), and the commands using them.

    python -m [[packageName]].pipeline render [--check]          # argo/*.yaml from this file
    python -m [[packageName]].pipeline run-local [-p NAME=VALUE]  # the same steps, in order, here
    python -m [[packageName]].pipeline submit [-p NAME=VALUE]     # to the Argo server in ARGO_SERVER
    python -m [[packageName]].pipeline standby                    # what the TAP workload runs

STEPS is the one definition of the pipeline: the WorkflowTemplate's DAG and the local runner are both made from it,
with the same parameters (PARAMETERS, whose defaults come from config.py) and the same artifacts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hera.workflows import (
    DAG,
    Artifact,
    Container,
    CronWorkflow,
    Parameter,
    Resources,
    RetryStrategy,
    Task,
    Workflow,
    WorkflowTemplate,
)
from hera.workflows.models import (
    ArtifactGC,
    Backoff,
    EnvFromSource,
    Metadata,
    PodGC,
    SecretEnvSource,
    TTLStrategy,
    WorkflowMetadata,
    WorkflowTemplateRef,
)

from . import config
from .steps import TEMPORARY_FAILURE

# Where TAP's supply chain pushes the workload's image: <registry>/<workload name>-<namespace>.
STEP_IMAGE = "[[imageRegistry]]/[[projectName]]-[[namespace]]:latest"
NAMESPACE = "[[namespace]]"
SERVICE_ACCOUNT = "[[serviceAccount]]"
SCHEDULE = "[[schedule]]"
TIMEZONE = "[[timezone]]"
NAME = config.PROJECT_NAME  # of the WorkflowTemplate and the CronWorkflow
CREDENTIALS_SECRET = f"{NAME}-credentials"  # optional: DATABASE_URL, MLFLOW_TRACKING_USERNAME, ... for every step
LABELS = {"app.kubernetes.io/part-of": NAME}
# The buildpack's launcher sets up the image's environment (its Python); `--` runs the command without a shell.
LAUNCHER = ("/cnb/lifecycle/launcher", "--", "python", "-m")
INPUTS, OUTPUTS = Path("/tmp/inputs"), Path("/tmp/outputs")
ACTIVE_DEADLINE_SECONDS = 6 * 3600
SECONDS_KEPT_AFTER_SUCCESS = 24 * 3600
SECONDS_KEPT_AFTER_FAILURE = 7 * 24 * 3600
STARTING_DEADLINE_SECONDS = 3600  # a scheduled run missed by more than this is skipped
RENDERED_DIR = Path("argo")
RENDERED_HEADER = "# Rendered from src/[[packageName]]/pipeline.py by `python -m [[packageName]].pipeline render`; edit pipeline.py, then render again.\n"
# Argo's expression delimiters, written so that no template engine mistakes them for its own.
OPEN, CLOSE = "{" * 2, "}" * 2


def argo(variable: str) -> str:
    """An Argo expression, `variable` in double braces: the workflow controller resolves it when the step runs."""
    return f"{OPEN}{variable}{CLOSE}"


@dataclass(frozen=True)
class WorkflowParameter:
    name: str  # also the flag of every step that takes it: --<name>
    default: str
    description: str


PARAMETERS = ([[if #dataSource == 'folder']]
    WorkflowParameter("data-dir", config.DATA_DIR, "folder of training images, one sub-folder per class"),[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]    WorkflowParameter("db-table", config.DB_TABLE, "table of training images (image bytea, label text)"),
[[end #dataSource == 'postgres']]    WorkflowParameter("image-size", str(config.IMAGE_SIZE), "images are resized to this many pixels square"),
    WorkflowParameter("min-images", str(config.MIN_IMAGES), "fewest images to train on"),
    WorkflowParameter("max-class-ratio", str(config.MAX_CLASS_RATIO), "most images in a class per image in another"),
    WorkflowParameter("max-duplicate-percent", str(config.MAX_DUPLICATE_PERCENT), "largest share of repeated images"),
    WorkflowParameter("min-image-size", str(config.MIN_IMAGE_SIZE), "fewest pixels across a stored image"),
    WorkflowParameter("epochs", str(config.EPOCHS), "epochs of training"),
    WorkflowParameter("batch-size", str(config.BATCH_SIZE), "images per training batch"),
    WorkflowParameter("learning-rate", str(config.LEARNING_RATE), "Adam's learning rate"),
    WorkflowParameter("holdout-salt", config.PROJECT_NAME, "chooses the held-out images; keep it to compare champions"),
    WorkflowParameter("tracking-uri", config.CLUSTER_TRACKING_URI, "the MLflow tracking server"),
    WorkflowParameter("experiment", config.PROJECT_NAME, "the MLflow experiment"),
    WorkflowParameter("registered-model-name", config.PROJECT_NAME, "the registered model in MLflow"),
    WorkflowParameter("promote-anyway", "false", "true: move the champion alias without a like-for-like win"),[[if #batchPrediction]][[if #dataSource == 'postgres']]
    WorkflowParameter("prediction-input", "", "table of images (id, image) the champion classifies; empty: none"),[[end #dataSource == 'postgres']][[if #dataSource != 'postgres']]
    WorkflowParameter("prediction-input", "", "folder of images the champion classifies; empty: none"),[[end #dataSource != 'postgres']][[end #batchPrediction]]
)

# Artifacts, by name: the file or folder each is, locally and in the step's container.
ARTIFACTS = {
    "dataset": "dataset.npz",
    "validation-report": "validation-report.json",
    "model": "model",
    "evaluation": "evaluation.json",
    "registration": "registration.json",
[[if #batchPrediction]]    "predictions": "predictions.csv",
[[end #batchPrediction]]    "outcome": "outcome.json",
}
KEPT_ARTIFACTS = {"validation-report", "registration"[[if #batchPrediction]], "predictions"[[end #batchPrediction]]}  # outlive the workflow

SMALL = Resources(cpu_request="100m", cpu_limit="500m", memory_request="256Mi", memory_limit="512Mi")
MEDIUM = Resources(cpu_request="500m", cpu_limit="1", memory_request="1Gi", memory_limit="2Gi")
LARGE = Resources(cpu_request="2", cpu_limit="4", memory_request="2Gi", memory_limit="4Gi")


@dataclass(frozen=True)
class Step:
    """One step: `python -m <package>.steps.<name>`, a container template and a task of the DAG.

    It takes `parameters` as `--<name> <value>` and the paths of its artifacts as `--<artifact> <path>`. A
    `transient` step talks to a service (MLflow, the database) and is retried when the service did not answer.
    A step with `needs` runs only when that parameter is not empty.
    """

    name: str
    parameters: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    resources: Resources
    transient: bool = True
    needs: str | None = None

    @property
    def module(self) -> str:
        return f"{config.PACKAGE}.steps.{self.name}"

    def args(
        self, value: Callable[[str], str], input_path: Callable[[str], str], output_path: Callable[[str], str]
    ) -> list[str]:
        """The command-line arguments, with each parameter's value and each artifact's path given by the callers."""
        args = [item for name in self.inputs for item in (f"--{name}", input_path(name))]
        args += [item for name in self.outputs for item in (f"--{name}", output_path(name))]
        return args + [item for name in self.parameters for item in (f"--{name}", value(name))]


STEPS = ([[if #dataSource == 'folder']]
    Step("ingest", ("data-dir", "image-size"), (), ("dataset",), MEDIUM),[[end #dataSource == 'folder']][[if #dataSource == 'postgres']]
    Step("ingest", ("db-table", "image-size"), (), ("dataset",), MEDIUM),[[end #dataSource == 'postgres']]
[[if #dataSource == 'digits']]    Step("ingest", ("image-size",), (), ("dataset",), MEDIUM),
[[end #dataSource == 'digits']]    Step(
        "validate",
        ("min-images", "max-class-ratio", "max-duplicate-percent", "min-image-size"),
        ("dataset",),
        ("validation-report",),
        SMALL,
        transient=False,
    ),
    Step(
        "train",
        ("epochs", "batch-size", "learning-rate", "holdout-salt", "tracking-uri", "experiment"),
        ("dataset",),
        ("model",),
        LARGE,
    ),
    Step("evaluate", ("tracking-uri",), ("dataset", "model"), ("evaluation",), MEDIUM),
    Step(
        "register",
        ("tracking-uri", "registered-model-name", "promote-anyway"),
        ("dataset", "model", "evaluation"),
        ("registration",),
        MEDIUM,
    ),
[[if #batchPrediction]]    Step(
        "predict",
        ("tracking-uri", "registered-model-name", "prediction-input"),
        (),
        ("predictions",),
        MEDIUM,
        needs="prediction-input",
    ),
[[end #batchPrediction]])
# The exit handler: it runs after the last step or the first failure, and records how the run ended.
OUTCOME = Step("outcome", ("tracking-uri", "experiment"), (), ("outcome",), MEDIUM)
OUTCOME_FLAGS = {"--workflow": "workflow.name", "--status": "workflow.status", "--duration": "workflow.duration"}

# Retried: a service that did not answer (the step's exit code 75) or a lost pod (status Error); bad data fails at once.
RETRY = RetryStrategy(
    limit="3",
    retry_policy="Always",
    expression=f"asInt(lastRetry.exitCode) == {TEMPORARY_FAILURE} || lastRetry.status == 'Error'",
    backoff=Backoff(duration="30s", factor="2", max_duration="10m"),
)


def producer(artifact: str) -> Step:
    return next(step for step in STEPS if artifact in step.outputs)


def container(step: Step, *, exit_handler: bool = False) -> Container:
    """The step's container template; the exit handler, called by no task, reads the workflow's own values."""
    if exit_handler:
        args = step.args(workflow_parameter, input_path, output_path)
        args += [item for flag, variable in OUTCOME_FLAGS.items() for item in (flag, argo(variable))]
        parameters = []
    else:
        args = step.args(lambda name: argo(f"inputs.parameters.{name}"), input_path, output_path)
        parameters = [Parameter(name=name) for name in step.parameters]
    return Container(
        name=step.name,
        image=STEP_IMAGE,
        image_pull_policy="Always",  # the workload's image is rebuilt under the same tag
        command=[*LAUNCHER, step.module],
        args=args,
        env_from=[EnvFromSource(secret_ref=SecretEnvSource(name=CREDENTIALS_SECRET, optional=True))],
        inputs=[*parameters, *(Artifact(name=name, path=input_path(name)) for name in step.inputs)],
        outputs=[
            Artifact(
                name=name,
                path=output_path(name),
                artifact_gc=ArtifactGC(strategy="Never") if name in KEPT_ARTIFACTS else None,
            )
            for name in step.outputs
        ],
        resources=step.resources,
        retry_strategy=RETRY if step.transient else None,
    )


def workflow_parameter(name: str) -> str:
    return argo(f"workflow.parameters.{name}")


def input_path(artifact: str) -> str:
    return str(INPUTS / ARTIFACTS[artifact])


def output_path(artifact: str) -> str:
    return str(OUTPUTS / ARTIFACTS[artifact])


def task(step: Step, after: Step | None) -> Task:
    return Task(
        name=step.name,
        template=step.name,
        depends=after.name if after else None,
        when=f"'{workflow_parameter(step.needs)}' != ''" if step.needs else None,
        arguments=[
            *(Parameter(name=name, value=workflow_parameter(name)) for name in step.parameters),
            *(
                Artifact(name=name, from_=argo(f"tasks.{producer(name).name}.outputs.artifacts.{name}"))
                for name in step.inputs
            ),
        ],
    )


def workflow_template() -> WorkflowTemplate:
    """The pipeline as a WorkflowTemplate: a DAG of the steps, then the exit handler; artifacts go to the cluster's
    artifact repository."""
    dag = DAG(name="retrain", tasks=[task(step, after) for after, step in zip((None, *STEPS), STEPS, strict=False)])
    steps = [container(step) for step in STEPS]
    return WorkflowTemplate(
        name=NAME,
        labels=LABELS,
        entrypoint=dag.name,
        on_exit=OUTCOME.name,
        templates=[dag, *steps, container(OUTCOME, exit_handler=True)],
        arguments=[Parameter(name=item.name, value=item.default, description=item.description) for item in PARAMETERS],
        service_account_name=SERVICE_ACCOUNT,
        active_deadline_seconds=ACTIVE_DEADLINE_SECONDS,
        pod_gc=PodGC(strategy="OnPodSuccess"),  # failed pods stay, with their logs, until the workflow goes
        ttl_strategy=TTLStrategy(
            seconds_after_success=SECONDS_KEPT_AFTER_SUCCESS, seconds_after_failure=SECONDS_KEPT_AFTER_FAILURE
        ),
        artifact_gc=ArtifactGC(strategy="OnWorkflowDeletion"),
        pod_metadata=Metadata(labels=LABELS),
        workflow_metadata=WorkflowMetadata(labels=LABELS),
    )


def cron_workflow() -> CronWorkflow:
    """Scheduled retraining: a Workflow from the WorkflowTemplate on SCHEDULE, never two at once."""
    return CronWorkflow(
        name=NAME,
        labels=LABELS,
        schedules=[SCHEDULE],
        timezone=TIMEZONE,
        concurrency_policy="Forbid",
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        successful_jobs_history_limit=3,
        failed_jobs_history_limit=3,
        workflow_template_ref=WorkflowTemplateRef(name=NAME),
    )


def workflow(arguments: Mapping[str, str] | None = None) -> Workflow:
    """One run of the WorkflowTemplate, named by the server (generateName); `arguments` override parameters."""
    return Workflow(
        generate_name=f"{NAME}-",
        labels=LABELS,
        workflow_template_ref=WorkflowTemplateRef(name=NAME),
        arguments=[Parameter(name=name, value=value) for name, value in (arguments or {}).items()] or None,
    )


class _Dumper(yaml.SafeDumper):
    """Block style with indented sequences, keys plain and every string value in double quotes.

    Quoting every value the same way keeps the YAML stable for any answer (a schedule starting with `*`, a name
    such as `no`), and the template that ships these files writes them the same way.
    """

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _mapping(dumper: yaml.SafeDumper, data: Mapping[str, Any]) -> yaml.MappingNode:
    pairs = [
        (dumper.represent_scalar("tag:yaml.org,2002:str", key), dumper.represent_data(value))
        for key, value in data.items()
    ]
    return yaml.MappingNode("tag:yaml.org,2002:map", pairs, flow_style=False)


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')


_Dumper.add_representer(dict, _mapping)
_Dumper.add_representer(str, _string)


def to_yaml(resource: Workflow) -> str:
    """The resource as YAML, keys in hera's reading order (name first, then values, lists, mappings)."""
    ordered = yaml.safe_load(resource.to_yaml())
    return RENDERED_HEADER + yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 16)


def rendered() -> dict[str, str]:
    """argo/*.yaml as `render` writes them, by file name."""
    return {
        "workflow-template.yaml": to_yaml(workflow_template()),
        "cron-workflow.yaml": to_yaml(cron_workflow()),
        "workflow.yaml": to_yaml(workflow()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    from .commands import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
