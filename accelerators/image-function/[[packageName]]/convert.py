"""`python -m [[packageName]].convert`: write, once, the ONNX form the server runs.

It needs TensorFlow, which the server's image does not have: `pip install -r requirements-convert.txt` first.[[if #modelSource == 'keras_file']]

Reads the Keras model file (MODEL_PATH, or the first argument), converts it with tf2onnx, checks on sample images
that both forms agree (the same top-1 class on every image, no score differing by more than the tolerance) and
writes the ONNX file beside it, with the suffix `.onnx` (or the second argument). Commit the ONNX file: the server
reads only that, and its image carries no TensorFlow.[[end #modelSource == 'keras_file']]
[[if #modelSource != 'keras_file']]
Builds Keras' MobileNetV2 with the ImageNet weights (downloaded now, or `--weights FILE.weights.h5`), with its input
scaling (pixels 0..255 to -1..1) inside the model, converts it with tf2onnx, checks on sample images that both forms
agree (the same top-1 class on every image, no score differing by more than the tolerance) and writes MODEL_PATH;
unless LABELS_PATH exists, it writes the ImageNet class index there. Commit both files: the server then downloads
nothing at start-up, and its image carries no TensorFlow.
[[end #modelSource != 'keras_file']]
The sample images are random pixels with a fixed seed: the check tests the conversion, not the model. The ONNX file is
written only when the check passes, in one step (a temporary file renamed), so a failed run leaves the old one.
Exit codes: 0 written, 1 the conversion or the check failed, 2 bad arguments or settings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .settings import ConfigError, Settings

CHECK_IMAGES = 64[[if #modelSource == 'keras_file']]
DESCRIPTION = (
    "Write the ONNX form of a Keras model file, checked against it, for the ONNX runtime. "
    "Needs requirements-convert.txt (TensorFlow)."
)[[end #modelSource == 'keras_file']][[if #modelSource != 'keras_file']]
DESCRIPTION = (
    "Write MobileNetV2 with ImageNet weights in ONNX form, checked against Keras, and the class index, for the "
    "ONNX runtime. Needs requirements-convert.txt (TensorFlow)."
)[[end #modelSource != 'keras_file']]
[[if #modelSource == 'mobilenet_v2']]INPUT_SHAPE = (224, 224, 3)
# The class index Keras' own decode_predictions() downloads, with its published MD5.
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
[[end #modelSource == 'mobilenet_v2']]

class Parser(argparse.ArgumentParser):
    """Reports a bad argument in one line (argparse prints the usage as well)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


class ConversionFailed(Exception):
    """The ONNX form could not be made or does not agree; the message is one line."""


def parse_args(argv: Sequence[str] | None, settings: Settings) -> argparse.Namespace:
    parser = Parser(prog=f"python -m {__package__}.convert", description=DESCRIPTION)[[if #modelSource == 'keras_file']]
    parser.add_argument(
        "keras_file", nargs="?", type=Path, default=Path(settings.model_path), help="default: MODEL_PATH [%(default)s]"
    )
    parser.add_argument("onnx_file", nargs="?", type=Path, help="default: the Keras file's path ending in .onnx")[[end #modelSource == 'keras_file']]
[[if #modelSource != 'keras_file']]    parser.add_argument(
        "--weights", default="imagenet", help="'imagenet' (downloaded) or a local .weights.h5 file [%(default)s]"
    )
    parser.add_argument("onnx_file", nargs="?", type=Path, default=Path(settings.model_path), help="[%(default)s]")
[[end #modelSource != 'keras_file']]    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return fail(2, str(exc))
    args = parse_args(argv, settings)[[if #modelSource == 'keras_file']]
    source: Path = args.keras_file
    target: Path = args.onnx_file or source.with_suffix(".onnx")
    if not source.is_file():
        return fail(2, f"the Keras model file {source} does not exist")
    if target.resolve() == source.resolve():
        return fail(2, f"the ONNX file would overwrite the Keras file {source}; name another")[[end #modelSource == 'keras_file']]
[[if #modelSource != 'keras_file']]    target: Path = args.onnx_file
    if args.weights != "imagenet" and not Path(args.weights).is_file():
        return fail(2, f"the weights file {args.weights} does not exist")
[[end #modelSource != 'keras_file']]    if not target.parent.is_dir():
        return fail(2, f"the folder {target.parent} does not exist")
    try:[[if #modelSource == 'keras_file']]
        print(f"converting {source} to ONNX (loading TensorFlow takes a few seconds)", flush=True)
        model = load_keras_file(source)[[end #modelSource == 'keras_file']]
[[if #modelSource != 'keras_file']]        print("building MobileNetV2 and converting it to ONNX (loading TensorFlow takes a few seconds)", flush=True)
        model = mobilenet_v2(args.weights)
[[end #modelSource != 'keras_file']]        summary = write_onnx(model, target)
    except ConversionFailed as exc:
        return fail(1, str(exc))
    print(f"wrote {target}: {summary}")
[[if #modelSource == 'mobilenet_v2']]    labels = Path(settings.labels_path)
    if labels.is_file():
        print(f"class names: {labels} (kept)")
    elif args.weights == "imagenet":
        write_class_index(labels)
        print(f"wrote {labels}: the ImageNet class index")
    else:
        print(f"no class names: answers will say class_<n>; put a class index at {labels} (LABELS_PATH)")
[[end #modelSource == 'mobilenet_v2']]    return 0[[if #modelSource == 'keras_file']]


def load_keras_file(path: Path) -> Any:
    import keras

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many kinds for a file it cannot read
        raise ConversionFailed(
            f"{path} cannot be loaded as a Keras model: {str(exc).strip().splitlines()[0]}"
        ) from None[[end #modelSource == 'keras_file']]
[[if #modelSource != 'keras_file']]

def mobilenet_v2(weights: str) -> Any:
    """MobileNetV2 taking raw pixels 0..255: its preprocess_input (x / 127.5 - 1) is the first layer."""
    import keras
    from keras.applications import mobilenet_v2 as application

    try:
        base = application.MobileNetV2(input_shape=INPUT_SHAPE, weights=weights)
    except Exception as exc:  # a download that fails, a weights file of another model
        raise ConversionFailed(f"MobileNetV2 with weights {weights!r}: {str(exc).strip().splitlines()[0]}") from None
    inputs = keras.Input(INPUT_SHAPE, name="image")
    scaled = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="preprocess")(inputs)
    return keras.Model(inputs, base(scaled), name="mobilenet_v2")


def write_class_index(path: Path) -> None:
    """The ImageNet class index, downloaded once into the Keras cache and copied to `path`."""
    import keras

    cached = keras.utils.get_file(
        "imagenet_class_index.json", CLASS_INDEX_URL, cache_subdir="models", file_hash=CLASS_INDEX_MD5
    )
    path.write_bytes(Path(cached).read_bytes())
[[end #modelSource != 'keras_file']]

def write_onnx(model: Any, target: Path) -> str:
    """Convert, check and write `target` in one step; returns how the two forms compared."""
    from .onnx_export import export

    images = np.random.default_rng(0).integers(0, 256, (CHECK_IMAGES, *model.input_shape[1:]), dtype=np.uint8)
    with tempfile.TemporaryDirectory(prefix=".onnx-", dir=target.parent) as scratch:
        form = export(model, images, Path(scratch) / target.name)
        if form.path is None or form.agreement is None:
            raise ConversionFailed(f"no ONNX form written: {form.reason}")
        os.replace(form.path, target)
    return f"opset {form.opset}, {form.agreement.describe('sample images')}"


def fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
