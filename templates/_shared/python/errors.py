"""Errors the user can fix, and the wrapper that reports them as one line.

`UserError` is bad input or an unusable service. `ServiceUnavailable` is the part of it that may pass by itself (a
tracking server or database that does not answer): a caller that retries, such as a workflow engine, tells the two
apart by the exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

USER_ERROR_EXIT_CODE = 2


class UserError(Exception):
    """Bad input or an unusable service: reported as `error: <message>` and exit code 2, without a traceback."""


class ServiceUnavailable(UserError):
    """A service did not answer or answered that it is unavailable; trying again later may succeed."""


def run_cli(
    main: Callable[[Sequence[str] | None], int],
    argv: Sequence[str] | None = None,
    *,
    unavailable_exit_code: int = USER_ERROR_EXIT_CODE,
) -> int:
    """Run a command's `main`, turning `UserError` and Ctrl-C into one line on stderr and a non-zero exit code.

    `ServiceUnavailable` exits with `unavailable_exit_code`, by default the same code as any other user error.
    """
    try:
        return main(argv)
    except ServiceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return unavailable_exit_code
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR_EXIT_CODE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
