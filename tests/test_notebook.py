"""Runs ``examples/quickstart.ipynb`` top to bottom in a fresh kernel and checks what it prints.

The kernel is this interpreter (``sys.executable``), named in a kernelspec written to
``tmp_path``, so the notebook sees the same funcnn, JAX and settings as the tests. Any
cell error fails the test. The notebook is stored without outputs; a test checks that.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
KERNEL = "funcnn-test-python"


def _write_kernelspec(jupyter_dir: Path) -> None:
    """A kernelspec named `KERNEL` under ``jupyter_dir/kernels`` that runs ipykernel under ``sys.executable``."""
    spec_dir = jupyter_dir / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "funcnn tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


def _text(cell: dict) -> str:
    """Everything a code cell printed (streams and plain-text results)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The notebook executed once (in a temporary working directory); all printed text."""
    tmp_path = tmp_path_factory.mktemp("notebook")
    _write_kernelspec(tmp_path / "jupyter")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,  # found through JUPYTER_PATH; the client starts and shuts down the kernel
        timeout=300,
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
        client.execute()  # raises CellExecutionError naming the failing cell
    return "\n".join(_text(cell) for cell in nb.cells if cell.cell_type == "code")


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"clear the outputs of cell {cell.id!r}"


def test_notebook_runs_the_articles_sections(executed):
    assert "backend cpu" in executed
    assert "x + y = [5 7 9]" in executed
    assert "z = [10  2  3] while x is still [1 2 3]" in executed
    assert "d/dx x**2 at 2.0 = 4.0" in executed
    assert "second derivative at 2.0 = 2.0" in executed
    for key, shape in [("hidden.weight", "(10, 3)"), ("hidden.bias", "(10,)"), ("output.weight", "(1, 10)")]:
        assert re.search(rf"^{re.escape(key)} +{re.escape(shape)}$", executed, re.MULTILINE), key
    assert "output shape: (100, 1)" in executed
    assert [int(n) for n in re.findall(r"^Epoch (\d+), Loss: ", executed, re.MULTILINE)] == [20, 40, 60, 80, 100]
    assert "losses agree at every epoch: True" in executed


def test_notebook_trains_the_cnn(executed):
    epochs = re.findall(r"^epoch (\d): loss (\S+), test accuracy (\S+)$", executed, re.MULTILINE)
    assert [int(e) for e, _, _ in epochs] == [1, 2, 3]
    losses = [float(loss) for _, loss, _ in epochs]
    assert losses[-1] < losses[0]
    assert float(epochs[-1][2]) > 0.8  # three epochs on the digits; chance is 0.1
    predicted = re.search(r"^predicted: \[([\d, ]+)\]$", executed, re.MULTILINE)
    assert predicted is not None and len(predicted.group(1).split(",")) == 10
