"""Format the templates' Python files with ruff, through rendered projects.

Template files hold Jinja, which ruff cannot read. This renders every case of the test matrix and runs ruff on
a copy of each rendered project (with the project's own ruff.toml). A template file without any Jinja takes
ruff's result whole (`ruff check --fix --select I,UP` and `ruff format`). In a file with Jinja only formatting
changes are carried back, and only where the lines they touch are plain Python (no `{% %}`, no `{{ }}`): a
fix that moves or deletes lines may be right for one case and wrong for another. What it cannot carry back is
printed as a diff (template file, case) to make by hand, and so are the lint findings left; run it again until
it prints nothing. The root suite checks every case the same way (tests/test_conventions.py).

    PYTHONPATH=$PWD .venv/bin/python scripts/format_templates.py [TEMPLATE...]
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from generator.manifest import Template, load_all
from generator.render import render_to
from tests.matrix import valid_cases

RUFF = [sys.executable, "-m", "ruff"]
JINJA = ("{%", "{{", "{#")


@dataclass
class Leftover:
    template_file: Path
    case: str
    diff: str


def ruffed(project: Path, scratch: Path, *, fix: bool) -> Path:
    """A copy of `project` after `ruff format`, and first `ruff check --fix` of import order and syntax if `fix`."""
    copy = scratch / ("fixed" if fix else "formatted")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy)
    if fix:
        subprocess.run(
            [*RUFF, "check", "--fix", "--select", "I,UP", "--quiet", "."], cwd=copy, check=False, capture_output=True
        )
    subprocess.run([*RUFF, "format", "--quiet", "."], cwd=copy, capture_output=True, check=False)
    return copy


def findings(project: Path) -> list[str]:
    done = subprocess.run(
        [*RUFF, "check", "--output-format", "concise", "--quiet", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.splitlines()


def template_sources(template: Template, context: dict[str, object]) -> dict[str, Path]:
    """Rendered relative path -> template file, for every Python file of the template."""
    env = Environment()
    sources = {}
    for path in template.project_dir.rglob("*.py"):
        rel = path.relative_to(template.project_dir).as_posix()
        sources[env.from_string(rel).render(cookiecutter=context)] = path
    return sources


def line_keys(lines: list[str], context: dict[str, object]) -> list[object]:
    """What each template line renders to, for matching; an unmatchable object for lines with Jinja blocks."""
    env = Environment(keep_trailing_newline=True)
    keys: list[object] = []
    for line in lines:
        if "{%" in line or "{#" in line:
            keys.append(object())
        elif "{{" in line:
            keys.append(env.from_string(line).render(cookiecutter=context))
        else:
            keys.append(line)
    return keys


def carry_back(source: Path, rendered: list[str], formatted: list[str], context: dict[str, object]) -> list[str]:
    """Apply to `source` every change from `rendered` to `formatted` on plain lines; return the other hunks."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, line_keys(lines, context), rendered, autojunk=False)
    origin = {r + k: t + k for t, r, size in matcher.get_matching_blocks() for k in range(size)}

    def plain(t: int) -> bool:
        return not any(mark in lines[t] for mark in JINJA)

    printed = {value for value in context.values() if isinstance(value, str) and len(value) >= 4}

    def mentions(new: list[str]) -> bool:
        """New lines that hold a printed value came from a `{{ }}` line: they go back by hand."""
        return any(value in line for line in new for value in printed)

    edits: list[tuple[int, int, list[str]]] = []
    leftovers = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, rendered, formatted, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:
            found = [origin.get(r) for r in range(i1, i2)]
            span = [t for t in found if t is not None]
            contiguous = len(span) == len(found) and span == list(range(span[0], span[0] + len(span)))
            if contiguous and all(plain(t) for t in span) and not mentions(formatted[j1:j2]):
                edits.append((span[0], span[-1] + 1, formatted[j1:j2]))
                continue
        elif not mentions(formatted[j1:j2]):
            before, after = origin.get(i1 - 1), origin.get(i1)
            if before is not None and (after == before + 1 or (after is None and i1 == len(rendered))):
                edits.append((before + 1, before + 1, formatted[j1:j2]))
                continue
        leftovers.append(
            "".join(
                difflib.unified_diff(
                    rendered[max(0, i1 - 2) : i2 + 2],
                    rendered[max(0, i1 - 2) : i1] + formatted[j1:j2] + rendered[i2 : i2 + 2],
                    n=0,
                    lineterm="\n",
                )
            )
        )
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    if edits:
        source.write_text("".join(lines), encoding="utf-8")
    return leftovers


def format_template(template: Template, scratch: Path, passes: int = 5) -> list[Leftover]:
    """Passes over every case until one changes nothing (at most `passes`); the leftovers of the last pass."""
    for _ in range(passes):
        changed = False
        leftovers: list[Leftover] = []
        for case in valid_cases(template):
            values = template.resolve(case.values)
            context = template.jinja_context(values)
            shutil.rmtree(scratch / "project", ignore_errors=True)
            project = render_to(template, values, scratch / "project")
            fixed, formatted = ruffed(project, scratch, fix=True), ruffed(project, scratch, fix=False)
            for rel, source in sorted(template_sources(template, context).items()):
                if not (project / rel).is_file():
                    continue
                before = source.read_text(encoding="utf-8")
                if not any(mark in before for mark in JINJA):
                    source.write_text((fixed / rel).read_text(encoding="utf-8"), encoding="utf-8")
                else:
                    rendered = (project / rel).read_text(encoding="utf-8").splitlines(keepends=True)
                    result = (formatted / rel).read_text(encoding="utf-8").splitlines(keepends=True)
                    hunks = carry_back(source, rendered, result, context) if rendered != result else []
                    leftovers += [Leftover(source, case.id, hunk) for hunk in hunks]
                changed = changed or source.read_text(encoding="utf-8") != before
            if not changed:
                leftovers += [Leftover(template.project_dir, case.id, line + "\n") for line in findings(project)]
        if not changed:
            break
    return leftovers


def main(names: list[str]) -> int:
    templates = [t for t in load_all() if not names or t.name in names]
    leftovers: list[Leftover] = []
    with tempfile.TemporaryDirectory() as scratch:
        for template in templates:
            leftovers += format_template(template, Path(scratch))
    seen = set()
    for item in leftovers:
        key = (item.template_file, item.diff)
        if key not in seen:
            seen.add(key)
            print(f"== {item.template_file} (case {item.case})\n{item.diff}")
    return 1 if leftovers else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
