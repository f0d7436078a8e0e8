"""The continuous-training worker: train, register, promote if better, sleep RETRAIN_INTERVAL, repeat.

    python -m [[packageName]].loop          # what the Procfile runs on TAP
    python -m [[packageName]].loop --once   # one cycle, then exit

SIGTERM (sent by Kubernetes before it stops the pod) ends the worker cleanly: while sleeping at once, while training
after the current batch, keeping the backup of the last finished epoch so that the next start resumes from it.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Sequence

from .config import build_parser, preflight, settings_from_args
from .errors import UserError, run_cli
from .train import say, stop_on_sigterm, train

DEFAULT_INTERVAL = "[[retrainIntervalMinutes]]m"
_INTERVAL = re.compile(r"^(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


INTERVAL_EXAMPLES = "an interval such as 30s, 90m, 24h or 7d"


def parse_interval(text: str) -> int:
    """Seconds in an interval such as "30s", "90m", "24h" or "7d"."""
    match = _INTERVAL.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not {INTERVAL_EXAMPLES}")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def interval(text: str) -> str:
    """The interval as given, once it parses (for --interval and RETRAIN_INTERVAL)."""
    parse_interval(text)
    return text.strip()


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser("Train, register and promote the CNN in a loop.")
    worker = parser.add_argument_group("worker")
    worker.add_argument("--once", action="store_true", help="run one cycle and exit")
    parser.add_env_option(
        worker,
        "--interval",
        "RETRAIN_INTERVAL",
        interval,
        DEFAULT_INTERVAL,
        "time between cycles, e.g. 30s, 90m, 24h",
        expected=INTERVAL_EXAMPLES,
    )
    args = parser.parse(argv)
    seconds = parse_interval(args.interval)
    settings = settings_from_args(args)
    stop = stop_on_sigterm()
    preflight(settings)
    from .callbacks import TrainingStopped  # after the checks: it imports TensorFlow

    cycle = 0
    while True:
        cycle += 1
        say(f"training cycle {cycle}")
        try:
            if cycle > 1:
                preflight(settings)
            result = train(settings, stop)
            say(f"cycle {cycle} done: held-out accuracy {result.test_accuracy:.4f}")
        except TrainingStopped:
            say(f"stopped by SIGTERM during training; the next start resumes from the backup in {settings.backup_dir}")
            return 0
        except UserError as exc:
            if args.once:
                raise
            print(f"error: {exc}", file=sys.stderr, flush=True)
        except Exception:
            if args.once:
                raise
            traceback.print_exc()  # an unexpected failure: log it and try again next cycle
        if args.once:
            return 0
        say(f"next cycle in {args.interval}")
        if stop.wait(seconds):
            say("stopped by SIGTERM")
            return 0


if __name__ == "__main__":
    sys.exit(main())
