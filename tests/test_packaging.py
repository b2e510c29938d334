import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (the dev extra brings it)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_requirements_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"])
    for extra in ("tf", "whisper", "jax", "demo", "cluster", "dev"):
        declared |= set(project["optional-dependencies"][extra])
    listed = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert listed == declared


def test_import_is_light():
    """Importing the package must not pull in TensorFlow or Keras (slow, and absent on JAX machines)."""
    code = "import sys, ravdess_tf; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def _internal_imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports, at the top or inside a function (a lazy import is an edge too)."""
    import ast

    package = ROOT / "ravdess_tf"
    graph = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        base = parts[:-1]  # the package a relative import starts from
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base[:len(base) - node.level + 1]
                    target = ".".join([*anchor, *(node.module.split(".") if node.module else [])])
                else:
                    target = node.module or ""
                names = [f"{target}.{alias.name}" for alias in node.names]
                edges.update(name for name in [target, *names] if name.startswith("ravdess_tf"))
            elif isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name.startswith("ravdess_tf"))
        graph[module] = edges
    return {module: {edge for edge in edges if edge in graph and edge != module} for module, edges in graph.items()}


def test_no_import_cycle():
    """Every module of the package can be read before the modules that use it (imports in functions included)."""
    graph = _internal_imports()
    visiting, done, cycles = set(), set(), []

    def visit(module, trail):
        if module in done:
            return
        if module in visiting:
            cycles.append(" -> ".join(trail[trail.index(module):] + [module]))
            return
        visiting.add(module)
        for target in sorted(graph[module]):
            # A package importing its own submodules is how a package is assembled, not a cycle.
            if not target.startswith(module + "."):
                visit(target, trail + [module])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
