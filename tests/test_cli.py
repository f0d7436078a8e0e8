"""The `tapml` command as a user runs it: real processes, real exit codes, real files."""

from __future__ import annotations

import filecmp
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.manifest import load_all, templates_root
from generator.names import PROJECT_NAME_PATTERN
from generator.render import list_tree

TAPML = [sys.executable, "-m", "generator"]
TEMPLATE_NAMES = [template.name for template in load_all()]

MINIMAL_MANIFEST = {
    "name": "tiny",
    "display_name": "Tiny",
    "description": "A test template.",
    "tags": ["test"],
    "options": {
        "project_name": {"type": "string", "label": "Name", "default": "tiny-app", "pattern": PROJECT_NAME_PATTERN},
    },
}


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TAPML, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=default_sigint,
    )


def default_sigint() -> None:
    """Ctrl-C as a terminal delivers it: a suite started in the background (`cmd &`) inherits SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_user_error(done: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def make_template(root: Path, files: dict[str, str], manifest: dict | None = None) -> Path:
    """A template folder built in code (copier's build_file_tree habit), plus its generated cookiecutter files."""
    folder = root / "templates" / "tiny"
    project = folder / "{{cookiecutter.project_name}}"
    for rel, text in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / "tapml.yaml").write_text(yaml.safe_dump(manifest or MINIMAL_MANIFEST))
    done = run("build", env={"TAPML_TEMPLATES": str(root / "templates")})
    assert done.returncode == 0, done.stderr
    return root / "templates"


def valid_tiny_files() -> dict[str, str]:
    """The smallest project that passes validation."""
    files = {
        "README.md": "# {{ cookiecutter.project_name }}\n",
        "Procfile": "web: python -m app\n",
        "requirements.txt": "click==8.1.8\n",
    }
    files["config/workload.yaml"] = (
        "apiVersion: carto.run/v1alpha1\nkind: Workload\nmetadata:\n  name: {{ cookiecutter.project_name }}\n"
        "  labels:\n    apps.tanzu.vmware.com/workload-type: web\n"
        "    app.kubernetes.io/part-of: {{ cookiecutter.project_name }}\n"
        "spec:\n  source:\n    git:\n      url: https://git.example.org/x.git\n      ref:\n        branch: main\n"
        '  build:\n    env:\n      - name: BP_CPYTHON_VERSION\n        value: "3.11.*"\n'
    )
    files["catalog/catalog-info.yaml"] = (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {{ cookiecutter.project_name }}\n"
        "  annotations:\n"
        "    backstage.io/kubernetes-label-selector: app.kubernetes.io/part-of={{ cookiecutter.project_name }}\n"
        "    backstage.io/source-template: tapml/tiny\nspec:\n  type: service\n  lifecycle: experimental\n"
        "  owner: team\n"
    )
    files["tests/test_app.py"] = "def test_truth():\n    assert 1 + 1 == 2\n"
    return files


def test_every_command_has_help() -> None:
    for command in ("list", "show", "new", "validate", "build"):
        done = run(command, "--help")
        assert done.returncode == 0 and "Usage:" in done.stdout, command


def test_list_names_every_template() -> None:
    done = run("list")
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()] == TEMPLATE_NAMES


def test_show_lists_options_with_types_defaults_and_choices() -> None:
    done = run("show", "cnn-trainer")
    assert done.returncode == 0
    assert "data_source" in done.stdout and "choice [digits|folder|postgres]" in done.stdout
    assert "default: 32" in done.stdout


def test_unknown_template_is_one_line_exit_2() -> None:
    assert_user_error(run("new", "no-such-template", "--no-input"), 2, "unknown template", "cnn-trainer")
    assert_user_error(run("show", "no-such-template"), 2, "unknown template")


def test_bad_values_are_all_reported_at_once_and_nothing_is_written(tmp_path: Path) -> None:
    done = run(
        "new",
        "cnn-trainer",
        "-o",
        str(tmp_path / "p"),
        "--no-input",
        "--set",
        "epochs=0",
        "--set",
        "data_source=mnist",
        "--set",
        "typo_option=1",
        "--set",
        "project_name=Bad Name",
        "--set",
        "package_name=x",
    )
    assert_user_error(done, 2, "epochs", "data_source", "typo_option", "project_name", "derived values are computed")
    assert list(tmp_path.iterdir()) == []


def test_malformed_set_pair_is_a_usage_error(tmp_path: Path) -> None:
    assert_user_error(
        run("new", "cnn-trainer", "-o", str(tmp_path / "p"), "--no-input", "--set", "epochs"), 2, "not key=value"
    )


def test_without_a_terminal_and_without_no_input_it_says_what_to_do(tmp_path: Path) -> None:
    assert_user_error(run("new", "cnn-trainer", "-o", str(tmp_path / "p"), stdin=""), 2, "--no-input")


def test_dry_run_prints_answers_and_tree_and_writes_nothing(tmp_path: Path) -> None:
    done = run(
        "new", "cnn-trainer", "-o", str(tmp_path / "p"), "--no-input", "--dry-run", "--set", "data_source=postgres"
    )
    assert done.returncode == 0, done.stderr
    plan = yaml.safe_load(done.stdout)
    assert plan["answers"]["data_source"] == "postgres"
    assert "config/workload.yaml" in plan["files"] and ".tapml-answers.yaml" in plan["files"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_answers_file_regenerates_the_project_byte_for_byte(name: str, tmp_path: Path) -> None:
    first = tmp_path / "first"
    assert run("new", name, "-o", str(first), "--no-input", "--set", "project_name=replayed-app").returncode == 0
    again = run("new", name, "--answers", str(first / ".tapml-answers.yaml"), "-o", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert list_tree(first) == list_tree(tmp_path / "again")
    _, mismatch, errors = filecmp.cmpfiles(first, tmp_path / "again", list_tree(first), shallow=False)
    assert (mismatch, errors) == ([], [])


def test_answers_file_of_another_template_is_refused(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("template: some-other\nanswers: {}\n")
    assert_user_error(run("new", "cnn-trainer", "--answers", str(answers), "-o", str(tmp_path / "p")), 2, "some-other")


def test_non_empty_target_is_refused_and_force_replaces_it_keeping_git(tmp_path: Path) -> None:
    target = tmp_path / "p"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    git = ["git", "-c", "user.name=tapml tests", "-c", "user.email=tests@example.org"]
    for args in (["init", "-q", "-b", "main"], ["add", "stale.txt"], ["commit", "-q", "-m", "stale"]):
        subprocess.run([*git, *args], cwd=target, check=True, capture_output=True)
    assert_user_error(run("new", "cnn-trainer", "-o", str(target), "--no-input"), 2, "not empty", "--force")
    assert (target / "stale.txt").exists()
    done = run("new", "cnn-trainer", "-o", str(target), "--no-input", "--force")
    assert done.returncode == 0, done.stderr
    assert not (target / "stale.txt").exists()
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (target / "config" / "workload.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_a_project_that_fails_validation_is_never_written(tmp_path: Path) -> None:
    files = valid_tiny_files()
    files["config/workload.yaml"] = files["config/workload.yaml"].replace("kind: Workload", "kind: Workload\n  bad: [")
    root = make_template(tmp_path, files)
    out = tmp_path / "out"
    out.mkdir()
    done = run("new", "tiny", "-o", str(out / "app"), "--no-input", env={"TAPML_TEMPLATES": str(root)})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "config/workload.yaml: invalid YAML" in done.stderr
    assert list(out.iterdir()) == []


def test_ctrl_c_during_rendering_leaves_nothing_behind(tmp_path: Path) -> None:
    root = make_template(tmp_path, valid_tiny_files())
    hook = root / "tiny" / "hooks" / "post_gen_project.py"
    hook.write_text("import os, signal, time\nos.kill(os.getppid(), signal.SIGINT)\ntime.sleep(5)\n")
    out = tmp_path / "out"
    out.mkdir()
    done = run("new", "tiny", "-o", str(out / "app"), "--no-input", env={"TAPML_TEMPLATES": str(root)})
    assert done.returncode == 130 and "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(out.iterdir()) == []


def test_validate_reports_each_problem_on_its_own_line(tmp_path: Path) -> None:
    project = tmp_path / "p"
    assert run("new", "cnn-trainer", "-o", str(project), "--no-input").returncode == 0
    assert run("validate", str(project)).returncode == 0
    workload = project / "config" / "workload.yaml"
    workload.write_text(workload.read_text().replace("name: digits-cnn\n", "name: Digits_CNN\n", 1))
    (project / "README.md").write_text("Hello {{ cookiecutter.project_name }}\n")
    (project / "broken.py").write_text("def broken(:\n")
    (project / "Procfile").unlink()
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-q'\n")
    catalog = project / "catalog" / "catalog-info.yaml"
    catalog.write_text(catalog.read_text().replace("  owner: default-team\n", ""))
    done = run("validate", str(project))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    problems = done.stdout.splitlines()
    assert "Procfile: missing" in problems
    assert any(line.startswith("pyproject.toml: the Paketo Python buildpack would build") for line in problems)
    assert "README.md: line 1: leftover template syntax" in problems
    assert any(line.startswith("broken.py: line 1: Python syntax error") for line in problems)
    assert any("metadata.name 'Digits_CNN' is not a DNS-1123 label" in line for line in problems)
    assert "catalog/catalog-info.yaml: spec.owner is missing" in problems


def test_validate_missing_path_is_exit_1(tmp_path: Path) -> None:
    done = run("validate", str(tmp_path / "nope"))
    assert done.returncode == 1 and "not a directory" in done.stdout


def test_build_check_passes_on_the_repository() -> None:
    done = run("build", "--check")
    assert done.returncode == 0, done.stderr


def test_build_check_fails_when_a_generated_file_drifts(tmp_path: Path) -> None:
    shutil.copytree(templates_root(), tmp_path / "templates")
    env = {"TAPML_TEMPLATES": str(tmp_path / "templates")}
    assert run("build", env=env).returncode == 0
    assert run("build", "--check", env=env).returncode == 0
    config = tmp_path / "templates" / "cnn-trainer" / "cookiecutter.json"
    config.write_text(config.read_text().replace('"digits-cnn"', '"edited-by-hand"'))
    done = run("build", "--check", env=env)
    assert_user_error(done, 1, "out of date", "cookiecutter.json", "tapml build")
