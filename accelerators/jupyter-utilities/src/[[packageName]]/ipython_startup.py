"""IPython start-up file: every kernel of this project starts with its helpers imported.

workspace.install_startup() copies this file into the IPython profile (the launcher and the Hub's postStart hook run
it), so a new notebook or console can use `helpers.connect()`, `helpers.show_predictions(...)` and the rest at once.
"""

import [[packageName]] as helpers  # noqa: F401
