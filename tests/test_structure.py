"""The house's structure, held by tests: every import runs down the floors (the README's
"What is inside" table, which must agree with ../shared/DESIGN.md), the autograd / ops core
has exactly one back-edge, domain packages do not import each other, and no source file
passes 700 lines unless it is listed with a reason."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nnlab

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DESIGN = ROOT.parent / "shared" / "DESIGN.md"
MAX_LINES = 700
LONG_FILES = {   # path under src/ -> why it may pass MAX_LINES
    "nnlab/autograd/tensor.py": "Tensor's method table, one short method per torch method, "
                                "kept in the class body (DESIGN: no monkey-patching), and "
                                "the in-place rule those methods share",
}
CORE_BACK_EDGE = ("nnlab.autograd.tensor", "nnlab.ops")   # the late `from .. import ops`
DOMAIN_PACKAGES = ("nnlab.graph", "nnlab.ode", "nnlab.kan", "nnlab.ot")


def floor_table(markdown):
    """{module prefix: floor} from a markdown table whose rows read
    | floor | `nnlab/path/` or `nnlab/file.py`, ... | what |."""
    floors = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            for path in re.findall(r"`(nnlab/[\w/]*?)(?:\.py)?/?`", cells[1]):
                floors[path.replace("/", ".")] = int(cells[0])
    return floors


README_FLOORS = floor_table((ROOT / "README.md").read_text())


def modules():
    """{dotted module name: path} for every module under src/nnlab."""
    found = {}
    for path in sorted((SRC / "nnlab").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def floor_of(module, floors=README_FLOORS):
    """The floor of the longest table prefix of `module`; None for the package root."""
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        prefix = ".".join(parts[:n])
        if prefix in floors:
            return floors[prefix]
    return None


def imported(module, path):
    """The nnlab modules that `module` imports anywhere in its file (lazy imports too),
    with the line of each import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            edges += [(a.name, node.lineno) for a in node.names if a.name.startswith("nnlab")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("nnlab"):
                continue
            for alias in node.names:   # `from pkg import module` imports that module
                sub = f"{base}.{alias.name}"
                edges.append((sub if sub in MODULES else base, node.lineno))
    return edges


def test_every_module_has_a_floor():
    missing = [m for m in MODULES if m != "nnlab" and floor_of(m) is None]
    assert not missing, f"modules under no floor of the README's table: {missing}"


def test_readme_floors_agree_with_design_where_it_names_a_place():
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} is not beside the checkout")
    design = floor_table(DESIGN.read_text())
    disagree = {m: (floor_of(m), floor_of(m, design)) for m in MODULES
                if floor_of(m, design) is not None and floor_of(m) != floor_of(m, design)}
    assert not disagree, f"module: (README floor, DESIGN floor): {disagree}"


def test_imports_run_down_the_floors():
    upward = []
    for module, path in MODULES.items():
        here = floor_of(module)
        if here is None:
            continue
        for target, line in imported(module, path):
            there = floor_of(target)
            if (module, target) == CORE_BACK_EDGE:
                continue
            if there is not None and there > here:
                upward.append(f"{path.relative_to(SRC)}:{line} (floor {here}) imports "
                              f"{target} (floor {there})")
    assert not upward, "imports that run up the floors:\n" + "\n".join(upward)


def test_the_core_has_exactly_one_back_edge():
    back = [(m, t, line) for m, p in MODULES.items() if m.startswith("nnlab.autograd")
            for t, line in imported(m, p) if t.startswith("nnlab.ops")]
    assert [(m, t) for m, t, _ in back] == [CORE_BACK_EDGE], back


def test_domain_packages_do_not_import_each_other():
    crossing = [(m, t) for m, p in MODULES.items() for t, _ in imported(m, p)
                for a in DOMAIN_PACKAGES for b in DOMAIN_PACKAGES
                if a != b and m.startswith(a) and t.startswith(b)]
    assert not crossing


def test_no_source_file_passes_the_line_limit_unlisted():
    long = {str(p.relative_to(SRC)): sum(1 for _ in p.open()) for p in MODULES.values()}
    over = {p: n for p, n in long.items() if n > MAX_LINES and p not in LONG_FILES}
    assert not over, f"files over {MAX_LINES} lines (split them, or list them with a " \
                     f"reason in LONG_FILES): {over}"
    stale = [p for p in LONG_FILES if long.get(p, 0) <= MAX_LINES]
    assert not stale, f"LONG_FILES entries no longer over {MAX_LINES} lines: {stale}"


def test_the_floor_table_reader():
    table = floor_table("| floor | where | what |\n| --- | --- | --- |\n"
                        "| 1 | `nnlab/backend.py`, `nnlab/parallel.py` | ... |\n"
                        "| 4 | `nnlab/nn/functional/` | ... |\n| 5 | `nnlab/nn/` | ... |")
    assert table == {"nnlab.backend": 1, "nnlab.parallel": 1, "nnlab.nn.functional": 4,
                     "nnlab.nn": 5}
    assert floor_of("nnlab.nn.functional.conv", table) == 4
    assert floor_of("nnlab.nn.conv", table) == 5


def test_import_is_light_and_reaches_the_upper_floors_lazily():
    code = ("import sys, nnlab\n"
            "heavy = [m for m in ('nnlab.train', 'nnlab.data', 'nnlab.models', 'nnlab.lab',\n"
            "         'matplotlib', 'scipy', 'threadpoolctl') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "assert type(nnlab.models.resnet18()).__name__ == 'ResNet'\n"
            "assert callable(nnlab.train.fit) and nnlab.data.DataLoader and nnlab.lab\n"
            "assert 'models' in dir(nnlab)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        nnlab.missing  # noqa: B018
