"""The `tapml` command line: parse options, call the library, report. Exit 0 ok, 1 invalid, 2 usage."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from . import __version__
from .answers import parse_set_pairs, prompt_for_values, read_answers_file
from .build import build as build_generated
from .errors import TapmlError, ValidationFailed
from .manifest import PROJECT_NAME_OPTION, load_template, template_names
from .render import list_tree, render, render_to
from .validate import validate_project

F = TypeVar("F", bound=Callable[..., Any])


def _handle_errors(func: F) -> F:
    """One red line on stderr and the error's exit code, never a traceback for a user error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TapmlError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.secho("interrupted: nothing was written", fg="red", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tapml")
def main() -> None:
    """Render ML project templates for VMware Tanzu Application Platform."""


@main.command("list")
@_handle_errors
def list_command() -> None:
    """List the templates, one a line."""
    for name in template_names():
        click.echo(f"{name:<20} {load_template(name).description}")


@main.command()
@click.argument("template")
@_handle_errors
def show(template: str) -> None:
    """Show TEMPLATE's options: type, default, choices and help."""
    model = load_template(template)
    click.echo(f"{model.name}: {model.description}\n")
    for name, option in model.options.items():
        kind: str = option.type
        if option.choices:
            kind += " [" + "|".join(option.choice_values) + "]"
        if option.min is not None or option.max is not None:
            kind += f" [{option.min if option.min is not None else ''}..{option.max if option.max is not None else ''}]"
        click.echo(f"  {name:<22} {kind:<34} default: {option.default}")
        click.echo(f"  {'':<22} {option.label}" + (f": {option.help}" if option.help else ""))
        if option.pattern:
            click.echo(f"  {'':<22} pattern: {option.pattern}")
        if option.depends_on:
            click.echo(f"  {'':<22} asked when {option.depends_on.name} = {option.depends_on.value}")


@main.command()
@click.argument("template")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Project directory [default: ./<project_name>].")
@click.option("--set", "set_pairs", multiple=True, metavar="KEY=VALUE", help="Set an option; repeatable.")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(path_type=Path, readable=False),  # read_answers_file
    help="YAML file of answers.",
)
@click.option("--no-input", is_flag=True, help="Do not prompt; take defaults for options not given.")
@click.option("--dry-run", is_flag=True, help="Print the resolved answers and the file tree; write nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Replace a non-empty output directory, keeping its .git; refused while git shows changes.",
)
@_handle_errors
def new(
    template: str,
    output: Path | None,
    set_pairs: tuple[str, ...],
    answers_file: Path | None,
    no_input: bool,
    dry_run: bool,
    force: bool,
) -> None:
    """Generate a project from TEMPLATE."""
    model = load_template(template)
    given = read_answers_file(answers_file, model) if answers_file else {}
    given.update(parse_set_pairs(set_pairs))
    if not no_input:
        given = prompt_for_values(model, given, interactive=sys.stdin.isatty())
    values = model.resolve(given)
    target = output or Path(str(values[PROJECT_NAME_OPTION]))
    if dry_run:
        _print_plan(model, values)
        return
    click.echo(f"Rendering {model.name} into {target} ...", err=True)
    made = render(model, values, target, force=force)
    click.echo(f"Created {made} ({len(list_tree(made))} files, validated). Next: see {made / 'README.md'}", err=True)


def _print_plan(model: Any, values: dict[str, Any]) -> None:
    import tempfile

    click.echo(yaml.safe_dump({"template": model.name, "answers": values}, sort_keys=False), nl=False)
    with tempfile.TemporaryDirectory(prefix="tapml-dry-run-") as scratch:
        project = render_to(model, values, Path(scratch))
        click.echo("files:")
        for path in list_tree(project):
            click.echo(f"  {path}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@_handle_errors
def validate(path: Path) -> None:
    """Validate a generated project; exit 1 with a line per problem."""
    problems = validate_project(path)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise ValidationFailed(problems[:1] + ([f"... {len(problems) - 1} more"] if len(problems) > 1 else []))
    click.echo(f"{path}: valid", err=True)


@main.command()
@click.option("--check", is_flag=True, help="Fail when a generated file is out of date; write nothing.")
@_handle_errors
def build(check: bool) -> None:
    """Regenerate cookiecutter and TAP files from the template manifests."""
    report = build_generated(check=check)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    verb = "up to date" if not report.changed else f"wrote {len(report.changed)} file(s)"
    click.echo(f"generated files: {verb}", err=True)


@main.command()
@click.argument("accelerator_dir", type=click.Path(path_type=Path))
@click.option("--options", "options_json", metavar="JSON", help="Option values as a JSON object.")
@click.option(
    "--options-file",
    type=click.Path(path_type=Path, readable=False),  # read below: one error line
    help="File holding the JSON object of options.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Directory to generate into.")
@click.option(
    "--force",
    is_flag=True,
    help="Replace a non-empty output directory, keeping its .git; refused while git shows changes.",
)
@click.option(
    "--fragment",
    "fragments",
    multiple=True,
    metavar="NAME=DIR",
    help="Where an imported fragment is [default: accelerators/NAME or a sibling folder NAME].",
)
@click.option("--no-validate", is_flag=True, help="Skip tapml's project checks (for accelerators of other projects).")
@_handle_errors
def preview(
    accelerator_dir: Path,
    options_json: str | None,
    options_file: Path | None,
    output: Path,
    force: bool,
    fragments: tuple[str, ...],
    no_validate: bool,
) -> None:
    """Run ACCELERATOR_DIR's accelerator.yaml engine locally, as TAP would, into OUTPUT; validate the result."""
    from .accelerator.preview import parse_options
    from .accelerator.preview import preview as run_preview
    from .errors import OptionsError

    if (options_json is None) == (options_file is None):
        raise OptionsError("give exactly one of --options JSON or --options-file FILE")
    if options_file is not None:
        try:
            text = options_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise OptionsError(f"--options-file: cannot read {options_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise OptionsError(f"--options-file: {options_file} is not UTF-8 text (byte {exc.start})") from None
        given = parse_options(text, str(options_file))
    else:
        given = parse_options(str(options_json))
    fragment_dirs = {}
    for pair in fragments:
        name, sep, folder = pair.partition("=")
        if not sep or not name or not folder:
            raise OptionsError(f"--fragment {pair!r} is not NAME=DIR")
        fragment_dirs[name] = Path(folder)
    made = run_preview(
        accelerator_dir, given, output, force=force, fragment_dirs=fragment_dirs, validate=not no_validate
    )
    click.echo(f"Generated {made} from {accelerator_dir}", err=True)


@main.command("accelerator-manifests")
@click.option("--git-url", required=True, help="Git repository the accelerators are pushed to.")
@click.option("--branch", default="main", show_default=True, help="Git branch to track.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("accelerators/accelerators.yaml"),
    show_default=True,
    help="File to write the Accelerator resources to.",
)
@_handle_errors
def accelerator_manifests(git_url: str, branch: str, output: Path) -> None:
    """Write Accelerator custom resources for GitOps and print the equivalent tanzu commands."""
    from .accelerator.manifests import create_commands, write_manifests
    from .manifest import load_all

    templates = load_all()
    written = write_manifests(templates, git_url, branch, output)
    click.echo(f"Wrote {written}; or register with:", err=True)
    for line in create_commands(templates, git_url, branch):
        click.echo(line)


if __name__ == "__main__":
    main()
