"""House rules of the source tree, checked on its syntax (nothing is imported).

* One seam between the layers and `funcnn.nn.functional`: a layer reaches an op only
  through the op's public functions and its owner-aware core (``<op>_impl(owner, ...)``),
  never through a private name of a functional file: no ``from .functional.x import _y``,
  no ``from .functional import _x``, no ``F._y`` on an imported functional module.
* No file in ``funcnn/`` is longer than 500 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "funcnn"
NN = PACKAGE / "nn"
FUNCTIONAL = NN / "functional"
MAX_LINES = 500


def _layer_files() -> list[Path]:
    return sorted(p for p in NN.rglob("*.py") if FUNCTIONAL not in p.parents)


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The dotted module an ``ImportFrom`` reads from, resolved against ``path``'s package."""
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_functional(module: str) -> bool:
    return module == "funcnn.nn.functional" or module.startswith("funcnn.nn.functional.")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def seam_offences(path: Path, source: str | None = None) -> list[str]:
    """Every place where ``path`` (or ``source``, read as if it lay there) reaches past functional's public names."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    where = path.relative_to(ROOT)
    offences: list[str] = []
    aliases: set[str] = set()  # local names bound to a functional module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            for alias in node.names:
                if _is_functional(f"{module}.{alias.name}"):
                    aliases.add(alias.asname or alias.name)
            if not _is_functional(module):
                continue
            if any(_private(part) for part in module.split(".")):
                offences.append(f"{where}:{node.lineno}: imports from the private module {module}")
            for alias in node.names:
                if _private(alias.name):
                    offences.append(f"{where}:{node.lineno}: imports the private name {alias.name} from {module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_functional(alias.name) and alias.asname:
                    aliases.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ):
            offences.append(f"{where}:{node.lineno}: uses the private name {node.value.id}.{node.attr}")
    return offences


def test_layers_use_only_public_names_of_functional() -> None:
    offences = [o for path in _layer_files() for o in seam_offences(path)]
    assert not offences, (
        "layers must reach functional ops through public names (an op's `<op>_impl(owner, ...)` core "
        "or a public check); give these names a public name in their functional file:\n  " + "\n  ".join(offences)
    )


def test_seam_check_catches_private_imports_and_attributes() -> None:
    # The rule itself, on a made-up layer file read as if it lay where layers live.
    source = (
        "from . import functional as F\n"
        "from .functional import _loss_common\n"
        "from .functional.loss import _mse\n"
        "from .functional import loss as L\n"
        "x = F._private(1) + L._core(2) + L.mse_loss_impl(3)\n"
    )
    found = seam_offences(NN / "probe.py", source)
    assert len(found) == 4, found
    assert any("_loss_common" in o for o in found) and any("_mse" in o for o in found)
    assert any("F._private" in o for o in found) and any("L._core" in o for o in found)


def test_no_file_over_500_lines() -> None:
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            long.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert not long, f"files over {MAX_LINES} lines; split them by topic:\n  " + "\n  ".join(long)
