"""The layers of chalicelib/ (see chalicelib/__init__.py): imports point down, never up or sideways.

Every `import` and `from ... import` in every module is checked, including those inside functions
and under TYPE_CHECKING: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "chalicelib"

# Highest first. A module may import its own layer and the layers below it. web and jobs are two
# entry points side by side: neither imports the other. The Jinja environment sits above the domain
# (its filters read the domain's moments) and below everything that renders.
LAYERS: list[tuple[str, ...]] = [
    ("chalicelib.web", "chalicelib.jobs"),
    ("chalicelib.config",),
    ("chalicelib.mail",),
    ("chalicelib.usecases",),
    ("chalicelib.store",),
    ("chalicelib.telemetry",),
    ("chalicelib.templating",),
    ("chalicelib.domain",),
    ("chalicelib.text",),
]
# What the domain and the text below it must never need: AWS, Chalice or Jinja.
FOREIGN = {"boto3", "botocore", "chalice", "jinja2", "markupsafe"}
PURE_LAYERS = (
    "chalicelib.domain",
    "chalicelib.text.i18n",
    "chalicelib.text.messages",
    "chalicelib.text.report_messages",
    "chalicelib.text.display",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> tuple[int, str]:
    """(rank, group) by the longest matching prefix; rank 0 is the top."""
    best: tuple[int, str, int] | None = None
    for rank, group in enumerate(LAYERS):
        for prefix in group:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[2]):
                best = (rank, prefix, len(prefix))
    if best is None:
        raise AssertionError(f"{module} is in no layer: add its package to LAYERS and chalicelib/__init__.py")
    return best[0], best[1]


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}:{node.lineno}: use absolute imports")
            base = node.module or ""
            if base.startswith("chalicelib") and base.count(".") < 2:
                # `from chalicelib.usecases import catalog` imports the module chalicelib.usecases.catalog.
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import in `root` that points up a layer, sideways between entry points, or out of a pure layer."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path)
        if importer == "chalicelib":
            continue
        rank, group = layer_of(importer)
        for line, imported in imports_of(path):
            where = f"{path.relative_to(ROOT)}:{line}: {importer} imports {imported}"
            if importer.startswith(PURE_LAYERS) and imported.split(".")[0] in FOREIGN:
                wrong.append(f"{where} (the domain and text need no AWS, Chalice or Jinja)")
            if not imported.startswith("chalicelib."):
                continue
            their_rank, their_group = layer_of(imported)
            if their_rank < rank or (their_rank == rank and their_group != group):
                wrong.append(f"{where} (up or sideways: {group} may only import its own layer and those below)")
    return wrong


def test_imports_point_down_the_layers_only() -> None:
    assert violations() == []


def test_the_check_catches_a_wrong_way_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A copy of chalicelib with one use case reaching up into the web layer, and a domain module into boto3.
    fake = tmp_path / "chalicelib"
    (fake / "usecases").mkdir(parents=True)
    (fake / "domain").mkdir()
    (fake / "usecases" / "closing.py").write_text("from chalicelib.web import pages\n")
    (fake / "domain" / "event.py").write_text("def f():\n    import boto3\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = violations(fake)
    assert any("chalicelib.usecases.closing imports chalicelib.web.pages" in v for v in found), found
    assert any("chalicelib.domain.event imports boto3" in v for v in found), found


def test_every_module_is_in_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        if module_name(path) != "chalicelib":
            layer_of(module_name(path))


# Past this a module holds more than one area; split it by area (as web/organizer/ and domain/event_file/ are).
LONGEST_MODULE = 450


def test_no_module_is_over_the_length_of_one_area() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST_MODULE
    }
    assert long == {}
