"""Finish the Lambda zip Chalice built: drop what never runs, add bytecode so a cold start compiles nothing.

Lambda unpacks the zip into a read-only /var/task, where Python cannot write its `__pycache__`: without
bytecode in the zip, every cold start compiles every module it imports from source, ours and the
dependencies'. The bytecode here is "unchecked hash-based" (PEP 552): Python uses it without comparing
timestamps (Chalice dates every zip entry 1980-01-01) and without reading the source again.
It is only used by the Python that made it (the file name carries the interpreter's tag, e.g.
`cpython-311`), which the deploy's pre-flight check makes the same as the Lambda runtime.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# Runs in a fresh interpreter: a fixed hash seed orders set constants the same way in every build, and
# compiling one file after another in one clean process keeps the bytes the same too, so an unchanged
# app makes a byte-identical zip (the deploy uploads by content, and "nothing new" must stay nothing).
_COMPILE = """
import compileall, py_compile, sys
ok = compileall.compile_dir(
    sys.argv[1], quiet=1, stripdir=sys.argv[1], workers=1,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
sys.exit(0 if ok else 1)
"""

# What a zip entry of ours looks like: the date Chalice gives every entry, readable by everyone.
_ENTRY_DATE = (1980, 1, 1, 0, 0, 0)
_ENTRY_MODE = 0o100644 << 16


class CompileError(RuntimeError):
    """A module in the package does not compile; the message is the compiler's."""


_ZipEntry = tuple[zipfile.ZipInfo, bytes]


def finish(zip_path: Path) -> int:
    """Rewrite the zip without libraries' test suites and catalog sources, with a compiled `__pycache__/*.pyc`
    beside each module; returns how many modules it compiled."""
    with zipfile.ZipFile(zip_path) as archive:
        kept = [(info, archive.read(info)) for info in archive.infolist() if _runs_in_lambda(info.filename)]
    with tempfile.TemporaryDirectory() as scratch:
        bytecode = _bytecode(kept, Path(scratch) / "package")
        rebuilt = Path(scratch) / "deployment.zip"
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, data in kept + bytecode:
                archive.writestr(info, data)
        shutil.move(rebuilt, zip_path)
    return len(bytecode)


def _runs_in_lambda(name: str) -> bool:
    """Whether a zip entry is used in Lambda: not a library's own test suite (icalendar ships one), and not a
    catalog's source (.po, read by people and `make catalogs`; Lambda reads the compiled .mo beside it)."""
    return "tests" not in name.split("/")[:-1] and not name.endswith(".po")


def _bytecode(entries: list[_ZipEntry], scratch: Path) -> list[_ZipEntry]:
    """Compiled modules of these entries, as new zip entries in name order."""
    for info, data in entries:
        if not info.is_dir():
            (scratch / info.filename).parent.mkdir(parents=True, exist_ok=True)
            (scratch / info.filename).write_bytes(data)
    _compile(scratch)
    shipped = {info.filename for info, _ in entries}
    compiled = sorted(path.relative_to(scratch).as_posix() for path in scratch.rglob("__pycache__/*.pyc"))
    return [(_entry(name), (scratch / name).read_bytes()) for name in compiled if name not in shipped]


def _entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=_ENTRY_DATE)
    entry.external_attr = _ENTRY_MODE
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _compile(directory: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _COMPILE, str(directory)],  # not -I: that would ignore PYTHONHASHSEED
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CompileError(f"a module in the package does not compile:\n{(result.stdout + result.stderr).strip()}")
