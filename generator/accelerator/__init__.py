"""TAP Application Accelerator export, and a local engine that runs accelerators without a cluster.

`compile.compile_template` turns a template into an accelerator, `export.accelerator_files` is the
`tapml build` producer, `preview.preview` runs an accelerator.yaml engine locally, and `manifests` writes the
Accelerator and Fragment resources that register them.
"""
