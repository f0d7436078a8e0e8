"""Accelerator and Fragment custom resources (GitOps) and the equivalent `tanzu accelerator` commands.

Each template folder is registered twice: as an Accelerator (to use it on its own) and as a Fragment (which
the root accelerator `tapml` imports). Fragments come first: an accelerator importing a missing fragment is
not ready.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..errors import AcceleratorError
from ..manifest import Template
from .model import dump_yaml
from .names import ACCELERATORS_DIR, ROOT_DISPLAY_NAME, ROOT_NAME

API_VERSION = "accelerator.apps.tanzu.vmware.com/v1alpha1"
NAMESPACE = "accelerator-system"
_URL = re.compile(r"^(https://|ssh://|git@)[^\s]+$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")


@dataclass(frozen=True)
class Registration:
    """One accelerator to register: its CR name, display metadata and Git sub-path ("" for the root)."""

    name: str
    display_name: str
    description: str
    tags: tuple[str, ...]
    sub_path: str


def registrations(templates: list[Template]) -> list[Registration]:
    """The root accelerator (every template behind one choice) and one accelerator per template."""
    root = Registration(
        ROOT_NAME,
        ROOT_DISPLAY_NAME,
        "Complete, tested ML projects from tapml templates.",
        tuple(sorted({tag for t in templates for tag in t.tags})),
        "",
    )
    return [root] + [
        Registration(t.name, t.display_name, t.description, t.tags, f"{ACCELERATORS_DIR}/{t.name}") for t in templates
    ]


def custom_resources(templates: list[Template], git_url: str, branch: str = "main") -> str:
    """A multi-document YAML of Fragment and Accelerator CRs pointing at `git_url`/`branch`."""
    _check(git_url, branch)
    docs = []
    for template in templates:
        docs.append(
            dump_yaml(
                {
                    "apiVersion": API_VERSION,
                    "kind": "Fragment",
                    "metadata": {"name": template.name, "namespace": NAMESPACE},
                    "spec": {
                        "displayName": template.display_name,
                        "git": {
                            "url": git_url,
                            "ref": {"branch": branch},
                            "subPath": f"{ACCELERATORS_DIR}/{template.name}",
                        },
                    },
                }
            )
        )
    for item in registrations(templates):
        git: dict[str, object] = {"url": git_url, "ref": {"branch": branch}}
        if item.sub_path:
            git["subPath"] = item.sub_path
        docs.append(
            dump_yaml(
                {
                    "apiVersion": API_VERSION,
                    "kind": "Accelerator",
                    "metadata": {"name": item.name, "namespace": NAMESPACE},
                    "spec": {
                        "displayName": item.display_name,
                        "description": item.description,
                        "tags": list(item.tags),
                        "git": git,
                    },
                }
            )
        )
    return "---\n" + "---\n".join(docs)


def create_commands(templates: list[Template], git_url: str, branch: str = "main") -> list[str]:
    """`tanzu accelerator fragment create` and `tanzu accelerator create` lines equivalent to `custom_resources`."""
    _check(git_url, branch)
    lines = []
    for template in templates:
        words = [
            "tanzu",
            "accelerator",
            "fragment",
            "create",
            template.name,
            "--display-name",
            template.display_name,
            "--git-repository",
            git_url,
            "--git-branch",
            branch,
            "--git-sub-path",
            f"{ACCELERATORS_DIR}/{template.name}",
        ]
        lines.append(" ".join(shlex.quote(word) for word in words))
    for item in registrations(templates):
        words = ["tanzu", "accelerator", "create", item.name, "--git-repository", git_url, "--git-branch", branch]
        if item.sub_path:
            words += ["--git-sub-path", item.sub_path]
        lines.append(" ".join(shlex.quote(word) for word in words))
    return lines


def write_manifests(templates: list[Template], git_url: str, branch: str, output: Path) -> Path:
    """Write the CRs to `output` (a file) and return it."""
    text = custom_resources(templates, git_url, branch)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8", newline="\n")
    return output


def _check(git_url: str, branch: str) -> None:
    if not _URL.match(git_url):
        raise AcceleratorError(f"--git-url {git_url!r} is not a Git URL", hint="e.g. https://github.com/org/tapml")
    if not _BRANCH.match(branch):
        raise AcceleratorError(f"--branch {branch!r} is not a valid branch name")
