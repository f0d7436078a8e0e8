"""`tapml new` on a real pseudo-terminal: questions, defaults, re-asking on bad input, depends_on."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import yaml


class Terminal:
    """A child process on a pseudo-terminal, driven line by line."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.screen = ""  # output not yet consumed by answer()
        self.transcript = ""  # everything the child printed

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out waiting for {text!r}; screen:\n{self.screen[-2000:]}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    break
                self.screen += chunk
                self.transcript += chunk
        return self.screen

    def answer(self, question: str, reply: str) -> None:
        self.wait_for(question)
        self.screen = self.screen[self.screen.index(question) + len(question) :]
        os.write(self.master, (reply + "\n").encode())

    def finish(self) -> int:
        code = self.process.wait(timeout=120)
        os.close(self.master)
        return code


def test_prompts_follow_the_manifest_and_depends_on(tmp_path: Path) -> None:
    target = tmp_path / "asked"
    term = Terminal(
        sys.executable,
        "-m",
        "generator",
        "new",
        "cnn-trainer",
        "-o",
        str(target),
        "--set",
        "description=Asked on a terminal",
    )
    term.answer("Project name", "asked-cnn")
    term.answer("Owner", "")
    term.answer("Git repository URL", "")
    term.answer("Git branch", "")
    term.answer("Training data", "postgres")
    term.answer("Image table", "digit_images")
    term.answer("Database service claim", "")
    term.answer("Image size", "zero")  # not an integer: asked again
    term.answer("Image size", "16")
    manifest = yaml.safe_load((Path(__file__).parent.parent / "templates/cnn-trainer/tapml.yaml").read_text())
    names = list(manifest["options"])
    for name in names[names.index("image_size") + 1 :]:
        term.answer(manifest["options"][name]["label"].split(" (")[0], "")
    assert term.finish() == 0, term.transcript
    answers = yaml.safe_load((target / ".tapml-answers.yaml").read_text())["answers"]
    assert answers["project_name"] == "asked-cnn"
    assert answers["description"] == "Asked on a terminal"
    assert answers["data_source"] == "postgres" and answers["db_table"] == "digit_images"
    assert answers["image_size"] == 16
    assert "Image folder" not in term.transcript  # data_dir depends on data_source == folder
    assert term.transcript.count("Image size") == 2  # "zero" was refused and asked again
