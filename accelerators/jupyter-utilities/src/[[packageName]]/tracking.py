"""MLflow for notebooks: where the tracking server is comes from the environment or a bound service, never from code.

The rule is the shared one in mlflow_setup.py: MLFLOW_TRACKING_URI wins, else a servicebinding.io binding of type
`mlflow` under SERVICE_BINDING_ROOT (what TAP mounts for a service claim, and the Hub mounts for each user), else
MLflow's own default, a local `mlflow.db`. Credentials follow the same rule and never appear in a notebook.
"""

from __future__ import annotations

from .errors import BindingError
from .mlflow_setup import MlflowSetupError, Tracking, apply_http_limits, configure

# A notebook waits at most this long for one MLflow call to a server that does not answer (MLflow's own default
# would retry for about four minutes).
HTTP_LIMIT_SECONDS = 30


def setup_mlflow(experiment: str | None = None) -> Tracking:
    """Point MLflow at the tracking server of this environment and, if given, make `experiment` the active one."""
    import mlflow

    try:
        tracking = configure()
    except MlflowSetupError as exc:
        raise BindingError(str(exc)) from None
    apply_http_limits(HTTP_LIMIT_SECONDS)
    if tracking.uri:
        mlflow.set_tracking_uri(tracking.uri)
    if experiment:
        mlflow.set_experiment(experiment)
    return tracking
