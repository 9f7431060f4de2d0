"""The layout tells the architecture: layers import downwards only, and no module imports itself in a circle.

content → models → publishing → revisions → reading and admin → ops, api and commands. Function-level
imports count too: deferring an import hides a cycle, it does not remove it.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "articles"
LAYERS = {
    "content": 0,
    "models": 1,
    "publishing": 2,
    "revisions": 3,
    "reading": 4,
    "admin": 4,
    "templatetags": 5,
    "ops": 5,
    "api": 5,
    "management": 6,
}
MAX_LINES = 500


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__"), path


def imports(path: Path, name: str) -> set[str]:
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.startswith("articles"):
                known = dict(modules())
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if candidate in known else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("articles"))
    return found - {name}


def layer(module: str):
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


GRAPH = {name: imports(path, name) for name, path in modules()}


def test_layers_import_downwards_only():
    wrong = []
    for module, targets in GRAPH.items():
        own = layer(module)
        for target in targets:
            theirs = layer(target)
            if own is None or theirs is None:
                continue
            sideways = {module.split(".")[1], target.split(".")[1]} == {"reading", "admin"}
            if theirs > own or sideways:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_import_cycle_inside_articles():
    def reaches(start, goal, seen):
        for nxt in GRAPH.get(start, ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reaches(nxt, goal, seen):
                    return True
        return False

    cycles = [m for m in GRAPH if reaches(m, m, set())]
    assert cycles == []


def test_no_module_is_over_500_lines():
    long = {name: n for name, path in modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_architecture_page_names_only_modules_that_exist():
    page = (ROOT.parent / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"articles/[\w/]+(?:\.py|/)", page)) | set(re.findall(r"deploy/[\w.]+", page))
    assert named, "the page names the modules"
    missing = sorted(path for path in named if not (ROOT.parent / path).exists())
    assert missing == []
