"""The one-time conversion to ONNX (`python -m <package>.convert`): bad input is one line, a failure writes nothing.

The conversion itself ran for the session's model (conftest.py), and the API tests check the server's answers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import PACKAGE, ROOT, ServedModels


def convert(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.convert", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_help() -> None:
    result = convert("--help")
    assert result.returncode == 0, result.stderr
    assert "ONNX" in result.stdout


def test_an_unknown_option_is_one_line() -> None:
    assert_one_error_line(convert("--nope"), 2, "--nope")[[if #modelSource == 'keras_file']]


def test_the_session_model_was_converted_beside_the_keras_file(served_models: ServedModels) -> None:
    keras_file = Path(served_models.env["MODEL_PATH"])
    assert keras_file.with_suffix(".onnx").stat().st_size > 0
    assert not [path for path in keras_file.parent.iterdir() if path.name.startswith(".onnx-")], "no leftovers"


def test_a_missing_keras_file_is_one_line(tmp_path: Path) -> None:
    assert_one_error_line(convert(str(tmp_path / "missing.keras")), 2, "missing.keras", "does not exist")


def test_a_file_that_is_not_a_keras_model_writes_nothing(tmp_path: Path) -> None:
    keras_file = tmp_path / "broken.keras"
    keras_file.write_bytes(b"not a zip archive")
    previous = tmp_path / "broken.onnx"
    previous.write_bytes(b"the ONNX file of an earlier conversion")
    result = convert(str(keras_file))
    assert_one_error_line(result, 1, "cannot be loaded as a Keras model")
    assert previous.read_bytes() == b"the ONNX file of an earlier conversion"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken.keras", "broken.onnx"][[end #modelSource == 'keras_file']]
[[if #modelSource != 'keras_file']]

def test_the_session_model_was_converted(served_models: ServedModels) -> None:
    onnx_file = Path(served_models.env["MODEL_PATH"])
    assert onnx_file.stat().st_size > 1_000_000  # MobileNetV2's 3.5 million weights
    assert not [path for path in onnx_file.parent.iterdir() if path.name.startswith(".onnx-")], "no leftovers"


def test_a_missing_weights_file_is_one_line(tmp_path: Path) -> None:
    result = convert("--weights", str(tmp_path / "missing.weights.h5"), str(tmp_path / "m.onnx"))
    assert_one_error_line(result, 2, "missing.weights.h5", "does not exist")


def test_weights_of_another_model_write_nothing(tmp_path: Path) -> None:
    weights = tmp_path / "other.weights.h5"
    weights.write_bytes(b"not an HDF5 file")
    result = convert("--weights", str(weights), str(tmp_path / "m.onnx"))
    assert_one_error_line(result, 1, "MobileNetV2 with weights")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other.weights.h5"]
[[end #modelSource != 'keras_file']]

def test_a_missing_output_folder_is_one_line(tmp_path: Path) -> None:[[if #modelSource == 'keras_file']]
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"x")
    result = convert(str(keras_file), str(tmp_path / "nowhere" / "m.onnx"))[[end #modelSource == 'keras_file']]
[[if #modelSource != 'keras_file']]    result = convert(str(tmp_path / "nowhere" / "m.onnx"))
[[end #modelSource != 'keras_file']]    assert_one_error_line(result, 2, "nowhere", "does not exist")
