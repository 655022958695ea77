"""The apps depend on each other one way only (docs/architecture.md, "One home for a run's state").

orchestra (accounts, tokens, audit, settings) <- runs <- projects <- workers: a module may import
its own app and the apps below it, never one above. Only the project's root modules import every
app. An import inside a function is allowed only in an app's `ready()`, where Django wants it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"orchestra": 0, "runs": 1, "projects": 2, "workers": 3}
ROOT_MODULES = {"orchestra/urls.py", "orchestra/api_urls.py", "orchestra/asgi.py"}


def app_modules() -> list[Path]:
    return sorted(
        path for app in LAYERS for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def imported_apps(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [node.module]
    else:
        return []
    return [name.split(".")[0] for name in names if name.split(".")[0] in LAYERS]


def local_imports(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(function name, import) for every import of an app made inside a function."""
    found = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if imported_apps(node):
                    found.append((function.name, node))
    return found


def test_no_app_imports_an_app_above_it():
    wrong = []
    for path in app_modules():
        relative = path.relative_to(ROOT).as_posix()
        if relative in ROOT_MODULES:
            continue
        layer = LAYERS[path.relative_to(ROOT).parts[0]]
        for node in ast.walk(ast.parse(path.read_text())):
            for app in imported_apps(node):
                if LAYERS[app] > layer:
                    wrong.append(f"{relative}:{node.lineno} imports {app}")
    assert wrong == []


def test_no_import_of_an_app_hides_in_a_function_but_in_ready():
    wrong = [
        f"{path.relative_to(ROOT)}:{node.lineno} in {function}()"
        for path in app_modules()
        for function, node in local_imports(ast.parse(path.read_text()))
        if not (path.name == "apps.py" and function == "ready")
    ]
    assert wrong == []
