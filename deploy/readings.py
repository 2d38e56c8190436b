"""The readings function's layer: SudachiPy and its core dictionary, for ふりがな of events saved on AWS.

The dictionary is about 200 MB unpacked, forty times the site's zip, so it is a layer of one function of
its own (`read_words`, chalicelib/jobs/schedules.py) that the site invokes when an event is saved: the
site's function, which serves attendees, stays small and starts as fast as before.

SudachiPy's wheels need glibc 2.28 (manylinux_2_28). Lambda's python3.12 and later run on Amazon Linux
2023 (glibc 2.34); python3.11 runs on Amazon Linux 2 (glibc 2.26), where SudachiPy cannot load. So a
package built by Python 3.11 has no layer, and the site keeps the readings an event already has (the
pre-flight says so). The layer is built from the versions requirements-dev.txt pins, the same the
organizer's machine computes readings with, so a page reads the same either way.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from deploy.logical_ids import READINGS_LAYER

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-dev.txt"
PACKAGES = ("SudachiPy", "SudachiDict-core")
# Lambda's x86_64 (Chalice's default architecture) on Amazon Linux 2023.
PLATFORM = "manylinux_2_28_x86_64"
FIRST_PYTHON = (3, 12)  # the first Lambda Python on Amazon Linux 2023
# "Lambda quotas": a function's code and all its layers, unzipped, at most 250 MB.
UNZIPPED_LIMIT = 262_144_000
READ_WORDS_FUNCTION = "read_words"
READ_WORDS_LOGICAL_ID = to_cfn_resource_name(READ_WORDS_FUNCTION)  # as Chalice names it in its template
# SudachiPy loads its dictionary in about 0.3 s and analyses an event's texts in a tenth of that
# (measured on this project's sample); the site gives up after 10 s (config/services.py).
MEMORY_MB = 512
TIMEOUT_SECONDS = 10

_ENTRY_DATE = (1980, 1, 1, 0, 0, 0)
# Where the package's template says the layer is, until the deploy points it at the uploaded zip (as
# Chalice's template names the code zip by its local file until then).
PLACEHOLDER_KEY = "readings-layer.zip"


class LayerError(RuntimeError):
    """The layer could not be built, or would not fit Lambda."""


def possible(version: tuple[int, int] | None = None) -> bool:
    """Whether the Python that packages (and so the functions' runtime) can load SudachiPy on Lambda."""
    return (version or sys.version_info[:2]) >= FIRST_PYTHON


def pins(requirements: Path = REQUIREMENTS) -> list[str]:
    """The layer's packages as requirements-dev.txt pins them (`name==version`)."""
    text = requirements.read_text(encoding="utf-8")
    found = []
    for package in PACKAGES:
        match = re.search(rf"^{re.escape(package)}==(\S+)\s*$", text, flags=re.MULTILINE | re.IGNORECASE)
        if not match:
            raise LayerError(f"{requirements.name} does not pin {package} (name==version): the layer needs its version")
        found.append(f"{package}=={match.group(1)}")
    return found


def build_layer(cache: Path, version: tuple[int, int] | None = None) -> Path:
    """The layer's zip for this runtime, built once per set of pins (kept in `cache`, named by its contents)."""
    major, minor = version or sys.version_info[:2]
    wanted = pins()
    key = hashlib.sha256(" ".join([*wanted, PLATFORM, f"{major}.{minor}"]).encode()).hexdigest()[:16]
    layer = cache / f"readings-layer-{key}.zip"
    if layer.is_file():
        return layer
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "python"  # Lambda puts a layer's python/ on sys.path (/opt/python)
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--only-binary=:all:",
            "--platform", PLATFORM, "--implementation", "cp", "--python-version", f"{major}.{minor}",
            "--target", str(target), *wanted,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LayerError(f"pip could not fetch the readings layer's packages:\n{result.stderr.strip()}")
        # Whole or not at all: a stopped build leaves no half layer in the cache, and two builds side by
        # side (the tests') each write their own file before one of them takes the name.
        partial = cache / f"{layer.name}.{os.getpid()}.partial"
        _zip(Path(scratch), partial)
        partial.replace(layer)
    return layer


def _zip(root: Path, out: Path) -> None:
    """A zip of `root` that is the same bytes for the same files (sorted, one date), so it uploads by content."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_ENTRY_DATE)
            entry.external_attr = ((0o755 if path.suffix == ".so" else 0o644) | 0o100000) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(entry, "w") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)


def unzipped_bytes(archive: Path) -> int:
    """What an archive takes once Lambda has unpacked it (the quota counts the files' sizes)."""
    with zipfile.ZipFile(archive) as opened:
        return sum(info.file_size for info in opened.infolist())


def check_fits(code: Path, layer: Path) -> int:
    """The function's code and layer together, unzipped; refused over Lambda's 250 MB."""
    total = unzipped_bytes(code) + unzipped_bytes(layer)
    if total > UNZIPPED_LIMIT:
        raise LayerError(
            f"the readings function's code and layer unzip to {total:,} bytes, over Lambda's {UNZIPPED_LIMIT:,}"
        )
    return total


def layer_resource(runtime: str) -> dict[str, Any]:
    """The layer version; its Content points at the uploaded zip (cloudformation.point_at_code)."""
    return {
        READINGS_LAYER: {
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {
                "Description": "SudachiPy and its core dictionary: ふりがな for the words of saved events",
                "Content": {"S3Bucket": "uketsuke-artifacts-offline", "S3Key": PLACEHOLDER_KEY},
                "CompatibleRuntimes": [runtime],
                "CompatibleArchitectures": ["x86_64"],
                "LicenseInfo": "Apache-2.0",
            },
        }
    }


def function_properties() -> dict[str, Any]:
    """What the readings function adds to Chalice's definition of it."""
    return {"Layers": [{"Ref": READINGS_LAYER}], "MemorySize": MEMORY_MB, "Timeout": TIMEOUT_SECONDS}
