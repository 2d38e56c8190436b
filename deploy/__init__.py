"""The one-command deploy: `python -m deploy`, run by the make targets."""

import sys

# Before anything else is imported: the stage file reader needs tomllib (3.11), and an older Python
# would otherwise fail with a bare ModuleNotFoundError instead of saying what to install.
if sys.version_info[:2] < (3, 11):  # noqa: UP036 - the point is to run on an interpreter too old
    sys.exit(f"uketsuke's deploy needs Python 3.11 to 3.14; this is {sys.version.split()[0]}")
