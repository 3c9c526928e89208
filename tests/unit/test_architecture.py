"""The package's shape, checked: every module says what it is, stays small, and imports one way.

Issue #10's "done when": a module's opening docstring answers what it is; no class over 300
lines, no function over 80; no module imports another's private name; no import cycles; no
labextension source file over 450 lines; docs/architecture.md's module map lists every
module. Pure static checks (ast), no Docker.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "jupyter_gpu_kernels"
MAX_CLASS_LINES = 300
MAX_FUNCTION_LINES = 80
MAX_LABEXTENSION_LINES = 450


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "labextension" in path.parts or path.name == "_version.py":
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every import of our package."""
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in MODULES:
                    out.append((full, "", node.lineno))
                else:
                    out.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, "", node.lineno) for a in node.names)
    return [(m, n, line) for m, n, line in out if m.split(".")[0] == "jupyter_gpu_kernels"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_opens_with_a_docstring(module):
    doc = ast.get_docstring(_tree(MODULES[module]))
    assert doc and len(doc.strip()) >= 20, f"{module} has no opening docstring saying what it is"


def test_no_oversized_classes_or_functions():
    too_big = []
    for module, path in MODULES.items():
        for node in ast.walk(_tree(path)):
            size = (node.end_lineno or node.lineno) - node.lineno + 1 if hasattr(node, "end_lineno") else 0
            if isinstance(node, ast.ClassDef) and size > MAX_CLASS_LINES:
                too_big.append(f"class {module}.{node.name}: {size} lines")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and size > MAX_FUNCTION_LINES:
                too_big.append(f"function {module}.{node.name}: {size} lines")
    assert not too_big, "\n".join(too_big)


def test_no_private_names_imported_across_modules():
    offenders = []
    for module, path in MODULES.items():
        for target, name, line in _imports(module, path):
            if target != module and name.startswith("_") and not name.startswith("__"):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {target}.{name}")
    assert not offenders, "\n".join(offenders)


def test_no_import_cycles():
    """Every import counts, those inside functions too: a late import is still a dependency."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        graph[module] = {
            target for target, _name, _line in _imports(module, path) if target in MODULES and target != module
        }

    def parents(m: str) -> set[str]:  # importing a.b.c runs a and a.b first; they are not cycles
        parts = m.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts))}

    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if d in parents(m):
                continue
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d) :] + [d]) if d in stack else f"{m} -> {d}")
            elif not state.get(d):
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if not state.get(m):
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_module_map_names_every_module():
    """docs/architecture.md's module map lists every module of the package (by file name, under its folder)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    start = text.index("## Modules")
    block = text[text.index("```text", start) : text.index("```", text.index("```text", start) + 7)]
    missing = []
    folder = ""
    listed: set[str] = set()
    for line in block.splitlines():
        stripped = line.lstrip("│├└─ ")
        name = stripped.split()[0] if stripped.split() else ""
        depth = len(line) - len(line.lstrip("│├└─ "))
        if name.endswith("/") and depth <= 4:
            folder = name
        for word in stripped.replace(",", " ").split():
            if word.endswith(".py"):
                listed.add((folder if depth > 4 else "") + word)
            if word.endswith("/"):
                listed.add(word)
    for path in MODULES.values():
        rel = path.relative_to(PACKAGE)
        key = str(rel) if path.name != "__init__.py" else (str(rel.parent) + "/" if rel.parent.parts else "")
        if key and key not in listed:
            missing.append(key)
    assert not missing, "docs/architecture.md's module map misses: " + ", ".join(missing)


def test_labextension_files_are_small():
    src = ROOT / "labextension" / "src"
    big = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in sorted(src.rglob("*.ts*"))
        if (n := len(p.read_text().splitlines())) > MAX_LABEXTENSION_LINES
    ]
    assert not big, "\n".join(big)


# Layers, lowest first: a module may import (at module level) only from its own layer or below.
LAYERS = {
    "specs": 0,
    "errors": 0,
    "userfile": 0,
    "forksafe": 0,
    "configurable": 1,
    "hosts": 1,
    "daemon": 2,
    "policy": 2,
    "environments": 3,
    "settings": 4,
    "kernel": 5,
    # kernelspec files and the boundary's path rules are pure (specs/ and errors only): environments use them
    "kernel.kernelspecs": 2,
    "kernel.boundary": 2,
    "server": 6,
    "local_setup": 6,
    "cli": 7,
}


def _layer(parts: list[str]) -> int | None:
    """The layer of jupyter_gpu_kernels.<a>[.<b>…]: the most specific LAYERS key that matches."""
    if len(parts) < 2:
        return None
    return LAYERS.get(".".join(parts[1:3]), LAYERS.get(parts[1]))


def test_imports_only_go_down_the_layers():
    """specs/ → hosts/ → daemon/ → environments/ → settings → kernel/ → server/ → cli/ (docs/architecture.md)."""
    upward = []
    for module, path in MODULES.items():
        parts = module.split(".")
        own = _layer(parts)
        if own is None:
            continue
        for node in _tree(path).body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target, _name, line in _imports(module, path):
                if line != node.lineno:
                    continue
                theirs = _layer(target.split("."))
                if theirs is not None and theirs > own:
                    upward.append(f"{path.relative_to(ROOT)}:{line} (layer {own}) imports {target} (layer {theirs})")
    assert not upward, "\n".join(upward)


# Errors are told apart by their class or attributes (errors.py), never by their message text. The one
# exception: the Docker daemon's replies (docker.errors.APIError), whose text is all the daemon gives.
DAEMON_TEXT_ERRORS = {"docker.errors.APIError"}
TEXT_ATTRS = {"args", "explanation", "message", "msg", "strerror", "log_message"}
SEARCH_METHODS = {"startswith", "endswith", "find", "rfind", "index", "count", "search", "match", "fullmatch"}


def _message_matches(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, code) of each place an ``except … as e`` handler compares or searches ``e``'s text:
    ``str(e)``/``repr(e)``/``e.args``/``e.explanation``…, or a name assigned from them."""
    found = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or not handler.name:
            continue
        if handler.type is not None and ast.unparse(handler.type) in DAEMON_TEXT_ERRORS:
            continue
        exc, tainted = handler.name, set()

        def is_text(node: ast.AST, exc: str = exc, tainted: set = tainted) -> bool:
            for n in ast.walk(node):
                if (
                    isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Name)
                    and n.func.id in ("str", "repr")
                    and any(isinstance(a, ast.Name) and a.id == exc for arg in n.args for a in ast.walk(arg))
                ):
                    return True
                if (
                    isinstance(n, ast.Attribute)
                    and n.attr in TEXT_ATTRS
                    and isinstance(n.value, ast.Name)
                    and n.value.id == exc
                ):
                    return True
                if isinstance(n, ast.Name) and n.id in tainted:
                    return True
            return False

        body = ast.Module(body=handler.body, type_ignores=[])
        for n in ast.walk(body):  # text = str(e) …; then "x" in text
            if isinstance(n, ast.Assign) and is_text(n.value):
                tainted.update(t.id for t in n.targets if isinstance(t, ast.Name))
        for n in ast.walk(body):
            compares = (
                isinstance(n, ast.Compare)
                and any(isinstance(op, (ast.In, ast.NotIn, ast.Eq, ast.NotEq)) for op in n.ops)
                and any(is_text(x) for x in [n.left, *n.comparators])
            )
            searches = (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in SEARCH_METHODS
                and any(is_text(x) for x in [n.func.value, *n.args])
            )
            if compares or searches:
                found.append((n.lineno, ast.unparse(n)))
    return found


def test_no_module_matches_error_message_text():
    """Exit codes, statuses, hints and retries depend on an error's type (errors.py), not its words."""
    should_fail = {  # the checker itself finds what it is for
        "try:\n    f()\nexcept (HostError, KernelNotFound) as e:\n    if 'ambiguous' in str(e):\n        raise\n",
        "try:\n    f()\nexcept KernelLaunchError as e:\n    if str(e).startswith('exited'):\n        raise\n",
        "try:\n    f()\nexcept ValueError as e:\n    text = str(e).lower()\n    ok = text == 'x'\n",
        "try:\n    f()\nexcept OSError as e:\n    ok = 'denied' in e.args[0]\n",
    }
    should_pass = {
        "try:\n    f()\nexcept (HostError, KernelNotFound) as e:\n    if isinstance(e, AmbiguousKernelId):\n        raise\n",
        "try:\n    f()\nexcept docker.errors.APIError as e:\n    if 'is not running' not in str(e):\n        raise\n",
        "try:\n    f()\nexcept SpecError as e:\n    raise SpecError(str(e), field='name')\n",
    }
    assert all(_message_matches(ast.parse(code)) for code in should_fail)
    assert not any(_message_matches(ast.parse(code)) for code in should_pass)
    matches = [
        f"{path.relative_to(ROOT)}:{line}: {code}"
        for path in MODULES.values()
        for line, code in _message_matches(_tree(path))
    ]
    assert not matches, "match the error's class or attributes, not its message:\n" + "\n".join(matches)
