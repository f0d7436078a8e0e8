"""`python -m [[packageName]].evaluate` scores a registered model on the held-out images (see scoring.py)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

from .config import build_parser, preflight, settings_from_args
from .errors import UserError, run_cli


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser("Evaluate a logged or registered model on the held-out images.", promotion=False)
    parser.add_argument("--model-uri", help="default: models:/<registered model name>@champion")
    args = parser.parse(argv)
    settings = settings_from_args(args)
    preflight(settings)
    model_uri = args.model_uri or f"models:/{settings.registered_model_name}@champion"

    # Imported after the fast checks: TensorFlow takes seconds to import.
    from . import data, tracking
    from .scoring import evaluate

    tracking.configure(settings.tracking_uri, settings.experiment)
    loaded = tracking.load(model_uri)
    facts = loaded.facts
    if len(facts.input_shape) == 3:
        settings = dataclasses.replace(settings, image_size=int(facts.input_shape[0]))
    rule = facts.holdout
    if rule is None:
        rule = settings.holdout
        print(
            f"warning: {model_uri} records no held-out rule; scoring it on the images held out by the current rule "
            f"({rule.describe()}), some of which it may have trained on",
            file=sys.stderr,
        )
    splits = data.split(data.load(settings), rule)
    if facts.class_names and facts.class_names != splits.class_names:
        raise UserError(
            f"{model_uri} was trained on classes {list(facts.class_names)}; the data now has {list(splits.class_names)}"
        )
    result = evaluate(loaded.model, splits.test)
    print(f"{model_uri}: " + result.report(splits.class_names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
