"""Every error tapml raises on purpose.

The CLI turns a `TapmlError` into one line on stderr and exit code 2 (`UsageError` family) or 1
(`ValidationFailed`); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class TapmlError(Exception):
    """Root of tapml's own errors; `str()` is the one-line message a user sees."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


class UnknownTemplate(TapmlError):
    """A template name that is not in `templates/`."""


class ManifestError(TapmlError):
    """A template manifest (`tapml.yaml`) that is malformed or inconsistent."""

    def __init__(self, message: str, *, path: object, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)


class AnswersError(TapmlError):
    """Option values that are unknown, of the wrong type or rejected by their pattern; lists all at once."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid answers: " + "; ".join(self.problems))


class TargetExists(TapmlError):
    """The output directory exists and is not empty."""


class ReplaceRefused(TapmlError):
    """`--force` would lose the user's work: the current directory, or a git work tree with changes."""


class OutputError(TapmlError):
    """The file system refused to create the project (read-only, immutable, bad path, mount point); nothing was
    written."""


class NotACheckout(TapmlError):
    """`tapml build` run from an installed package, where there is no source checkout to write to."""


class NoTerminal(TapmlError):
    """Prompting was needed but there is no terminal to prompt on."""


class RenderError(TapmlError):
    """Rendering the template failed; nothing was written."""


class OutOfDate(TapmlError):
    """`tapml build --check` found generated files that differ from what the manifests produce."""

    exit_code = 1


class ValidationFailed(TapmlError):
    """A generated project broke one or more rules; `problems` holds one line each."""

    exit_code = 1

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s): " + "; ".join(self.problems))


class ExpressionError(TapmlError):
    """A condition or derived-value expression outside the supported subset."""


class AcceleratorError(TapmlError):
    """The TAP accelerator export or the local engine cannot go on; the message names the culprit."""


class CompileError(AcceleratorError):
    """A template construct the TAP engine cannot reproduce; names the file, the line and the fix."""

    def __init__(self, message: str, *, path: object, line: int | None = None, hint: str | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}", hint=hint)


class SpelError(AcceleratorError):
    """A SpEL expression outside the supported subset, or one that fails to evaluate."""


class UnsupportedTransform(AcceleratorError):
    """An accelerator.yaml transform or field the local engine does not implement (never silently ignored)."""


class OptionsError(AcceleratorError):
    """Accelerator options that are malformed JSON, unknown, of the wrong type or rejected by validationRegex."""
