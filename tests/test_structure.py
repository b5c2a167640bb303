"""The shape of the code: no import cycle, no giant class, narrow kernel calls.

These guard the layout the development guide describes (doc/development.rst):
a newcomer finds one concern per module, and the Python/Cython boundary stays
a handful of short calls.
"""

import ast
import pathlib
import re

import sklr

PACKAGE = pathlib.Path(sklr.__file__).parent


def _modules():
    mods = {}
    for f in PACKAGE.rglob("*.py"):
        parts = f.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if f.name == "__init__.py" else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module
                if mod == "sklr":
                    deps |= {f"sklr.{a.name}" for a in node.names}
                elif mod and mod.startswith("sklr."):
                    deps.add(mod)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("sklr.")}
        mods[name] = deps - {name}
    return mods


def test_no_import_cycle():
    """No module imports one that imports it back (function-level imports count)."""
    mods = _modules()

    def reach(start):
        seen, stack = set(), [start]
        while stack:
            for dep in mods.get(stack.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return seen

    cycles = sorted({tuple(sorted((a, d))) for a in mods for d in mods[a] if a in reach(d)})
    assert not cycles, cycles
    assert len(mods) > 20  # the scan did find the package


def test_no_class_over_about_400_lines():
    big = []
    for f in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 460:
                big.append(f"{f.name}:{node.name} ({node.end_lineno - node.lineno + 1})")
    assert not big, big


def test_kernel_entry_points_take_at_most_ten_arguments():
    """Every Python-visible function or method of the Cython modules."""
    wide, seen = [], 0
    for f in PACKAGE.glob("*.pyx"):
        text = f.read_text()
        for match in re.finditer(r"^\s*(?:cp)?def\s+(\w+)\s*\((.*?)\)\s*(?:->[^:]*)?:",
                                 text, flags=re.S | re.M):
            name, args = match.groups()
            args = [a for a in re.sub(r"#[^\n]*", "", args).split(",") if a.strip()]
            args = [a for a in args if a.strip() not in ("self", "cls")]
            seen += 1
            if len(args) > 10:
                wide.append(f"{f.name}:{name} ({len(args)})")
    assert seen > 5
    assert not wide, wide
