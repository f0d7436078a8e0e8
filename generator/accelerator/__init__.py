"""TAP Application Accelerator export and a local engine that previews accelerators without a cluster.

`compile_template` turns a tapml template into an accelerator, `accelerator_files` is the `tapml build`
producer, `preview` runs an accelerator.yaml engine locally and `accelerator_manifests` writes Accelerator CRs.
"""

from __future__ import annotations

from .compile import CompiledTemplate, compile_template
from .export import accelerator_files

__all__ = ["CompiledTemplate", "accelerator_files", "compile_template"]
