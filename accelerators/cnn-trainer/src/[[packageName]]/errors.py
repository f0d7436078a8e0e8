"""One error type for problems the user can fix, and the wrapper that reports them as one line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence


class UserError(Exception):
    """Bad input or an unreachable service: reported as `error: <message>` and exit code 2, without a traceback."""


def run_cli(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a command's `main`, turning `UserError` and Ctrl-C into one line on stderr and a non-zero exit code."""
    try:
        return main(argv)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
