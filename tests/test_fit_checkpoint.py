"""`funcnn.train.load_fit_checkpoint`: what `fit(checkpoint=...)` wrote, read back in a fresh process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax
import pytest

from funcnn import checkpoint, data, nn, train

ROOT = Path(__file__).resolve().parents[1]
KEY = jax.random.key(0)
_rng = np.random.default_rng(0)
X = _rng.normal(size=(40, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int32)

# The same construction, in this process and in the fresh one.
BUILD = """
import optax
from funcnn import nn
model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-2))
"""


def _build() -> tuple[nn.Module, Any]:
    scope: dict[str, Any] = {}
    exec(BUILD, scope)
    return scope["model"], scope["optimizer"]


def _loader() -> data.DataLoader:
    return data.DataLoader((X, Y), batch_size=16, shuffle=True, key=jax.random.key(1))


def test_a_fresh_process_restores_bit_identical_predictions(tmp_path: Path) -> None:
    model, optimizer = _build()
    result = train.fit(model, optimizer, _loader(), loss=nn.CrossEntropyLoss(), epochs=2, key=KEY,
                       checkpoint=tmp_path / "run", progress=False)  # fmt: skip
    want, _ = model.apply_with_state(result.params, result.state, X, train=False)
    np.save(tmp_path / "x.npy", X)
    script = BUILD + textwrap.dedent(f"""
        import numpy as np
        from funcnn import train
        result = train.load_fit_checkpoint({str(tmp_path / "run")!r}, model, optimizer)
        out, _ = model.apply_with_state(result.params, result.state, np.load({str(tmp_path / "x.npy")!r}), train=False)
        np.save({str(tmp_path / "out.npy")!r}, np.asarray(out))
        print(int(result.train_state.step), [h["epoch"] for h in result.history])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6", "[1,", "2]"]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), np.asarray(want))


def test_restored_train_state_continues_like_a_resume(tmp_path: Path) -> None:
    model, optimizer = _build()
    train.fit(
        model, optimizer, _loader(), loss=nn.CrossEntropyLoss(), epochs=1, key=KEY, checkpoint=tmp_path, progress=False
    )
    back = train.load_fit_checkpoint(checkpoint.CheckpointManager(tmp_path), model, optimizer, step=3)
    assert int(back.train_state.step) == 3 and back.history[0]["epoch"] == 1
    file = train.load_fit_checkpoint(tmp_path / "step_00000003.safetensors", model, optimizer)
    jax.tree.map(np.testing.assert_array_equal, file.params, back.params)
    # Continuing from the restored state equals an uninterrupted two-epoch run.
    loader = _loader()
    loader.load_state({"epoch": 1, "batch": 0})
    more = train.fit(model, optimizer, loader, loss=nn.CrossEntropyLoss(), epochs=1, key=KEY, progress=False,
                     params=back.params, state=back.state)  # fmt: skip
    assert more.history[0]["epoch"] == 1  # a new fit call counts its own epochs; the weights differ from a resume
    full = train.fit(model, optimizer, _loader(), loss=nn.CrossEntropyLoss(), epochs=2, key=KEY, progress=False,
                     checkpoint=tmp_path)  # fmt: skip
    resumed = train.load_fit_checkpoint(tmp_path, model, optimizer)
    jax.tree.map(np.testing.assert_array_equal, resumed.params, full.params)


def test_load_fit_checkpoint_errors(tmp_path: Path) -> None:
    model, optimizer = _build()
    with pytest.raises(
        FileNotFoundError, match=r"load_fit_checkpoint: '.*' holds no checkpoint; pass the directory given to fit"
    ):
        train.load_fit_checkpoint(tmp_path, model, optimizer)
    train.fit(
        model, optimizer, _loader(), loss=nn.CrossEntropyLoss(), epochs=1, key=KEY, checkpoint=tmp_path, progress=False
    )
    with pytest.raises(
        FileNotFoundError, match=r"load_fit_checkpoint: '.*' holds no checkpoint for step 7 \(saved steps: \[3\]\)"
    ):
        train.load_fit_checkpoint(tmp_path, model, optimizer, step=7)
    with pytest.raises(
        ValueError,
        match=r"(?s)load_fit_checkpoint: '.*step_00000003.safetensors' is not a fit checkpoint of this model and optimizer.*\['train_state'\].opt_state",
    ):
        train.load_fit_checkpoint(tmp_path, model, optax.sgd(0.1))
    with pytest.raises(
        TypeError,
        match=r"load_fit_checkpoint: `checkpoint` must be the directory given to fit\(checkpoint=...\), a CheckpointManager or a checkpoint file, got int",
    ):
        train.load_fit_checkpoint(3, model, optimizer)
