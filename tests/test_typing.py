"""pyright (basic mode) passes on the examples and on a user script importing funcnn.

funcnn ships ``py.typed``, so a user's type checker reads its annotations; these tests
keep the examples, and the public API as a user calls it, free of type errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyright(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # --pythonpath: resolve jax/optax in the interpreter running the tests, whatever is on PATH.
    # PYRIGHT_PYTHON_IGNORE_WARNINGS: no network check for a newer pyright.
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def test_examples_type_check() -> None:
    proc = _pyright("--project", str(ROOT), "examples", cwd=ROOT)  # this config, not one found above ROOT
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "0 errors" in out, out


USER_SCRIPT = """\
import jax
import jax.numpy as jnp
import optax

from funcnn import nn
from funcnn.train import make_train_step

model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
params = model.init(jax.random.key(0))
optimizer = optax.sgd(0.1)
opt_state = optimizer.init(params)


def loss_fn(p: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((model.apply(p, x) - y) ** 2)


step = make_train_step(loss_fn, optimizer)
params, opt_state, loss = step(params, opt_state, jnp.ones((2, 3)), jnp.zeros((2, 1)))
print(float(loss))
"""


# A mistake only funcnn's annotations reveal: `init` takes a PRNG key array, not an int.
WRONG_SCRIPT = """\
from funcnn import nn

params = nn.Linear(3, 4).init("not a key")
"""


def test_user_script_type_checks_against_funcnn(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(USER_SCRIPT, encoding="utf-8")
    (tmp_path / "wrong.py").write_text(WRONG_SCRIPT, encoding="utf-8")
    config = {
        "include": ["user.py", "wrong.py"],
        "extraPaths": [str(ROOT)],
        "pythonVersion": "3.11",
        "typeCheckingMode": "basic",
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    proc = _pyright(cwd=tmp_path)
    out = proc.stdout + proc.stderr
    errors = [line for line in out.splitlines() if " - error: " in line]
    # The correct script is clean; the wrong one fails on its `init` call, so funcnn
    # was resolved and its annotations were read (an unresolved import would be an
    # error in user.py too).
    assert not [line for line in errors if "user.py" in line], out
    assert len(errors) == 1 and "wrong.py:3:" in errors[0] and "init" in errors[0], out
    assert "1 error" in out, out
