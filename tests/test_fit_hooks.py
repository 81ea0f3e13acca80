"""Per-step hooks of `fit` and what is built on them: CSV and TensorBoard loggers, the EMA of the weights, the LR finder."""

from __future__ import annotations

import csv
import sys
import types
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import data, nn, train

KEY = jax.random.key(0)
_rng = np.random.default_rng(0)
X = _rng.normal(size=(72, 4)).astype(np.float32)
Y = np.argmax(X @ _rng.normal(size=(4, 3)), axis=1).astype(np.int32)

# The same model, optimizer and loss as tests/test_fit.py: the compiled steps are shared.
MODEL = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
OPT = optax.adam(1e-2)
LOSS = nn.CrossEntropyLoss()


def _loader(n: int = 48) -> data.DataLoader:
    return data.DataLoader((X[:n], Y[:n]), batch_size=16, shuffle=True, key=jax.random.key(1))


def _fit(loader: Any = None, **kw: Any) -> train.FitResult:
    kw = {"epochs": 2, "progress": False, **kw}
    return train.fit(
        kw.pop("model", MODEL), kw.pop("opt", OPT), _loader() if loader is None else loader, loss=LOSS, key=KEY, **kw
    )


class Record(train.Callback):
    def __init__(self, stop_at: int | None = None) -> None:
        self.rows: list[tuple[int, dict[str, float], int]] = []
        self.stop_at = stop_at

    def on_step_end(self, step, logs, train_state):
        self.rows.append((step, {k: float(v) for k, v in logs.items()}, int(train_state.step)))
        return step == self.stop_at


# ----------------------------------------------------------------- the hook


def test_on_step_end_sees_every_step_with_its_own_values() -> None:
    rec = Record()
    result = _fit(callbacks=[rec])
    assert [s for s, _, _ in rec.rows] == [1, 2, 3, 4, 5, 6]
    assert [s for s, _, _ in rec.rows] == [t for _, _, t in rec.rows]  # unfused: the state after that very step
    assert [(r["epoch"], r["batch"]) for _, r, _ in rec.rows] == [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    for epoch in (1, 2):  # the epoch's loss is the mean of its steps' (equal batch sizes)
        losses = [r["loss"] for _, r, _ in rec.rows if r["epoch"] == epoch]
        assert np.mean(losses) == pytest.approx(result.history[epoch - 1]["loss"], rel=1e-5)
    assert set(rec.rows[0][1]) == {"epoch", "batch", "loss", "accuracy"}


def test_fused_runs_the_hooks_after_each_chunk_with_each_steps_values() -> None:
    loader = lambda: _loader(66)  # noqa: E731  (4 full batches and one of 2)
    plain, fused = Record(), Record()
    _fit(loader(), callbacks=[plain])
    _fit(loader(), callbacks=[fused], fused=2)
    assert [(s, r) for s, r, _ in fused.rows] == [(s, r) for s, r, _ in plain.rows]  # same steps, same values
    assert [t for _, _, t in fused.rows[:4]] == [2, 2, 4, 4]  # the state at the end of each chunk of 2


def test_a_hook_stops_mid_epoch_and_a_resume_finishes_like_an_uninterrupted_run(tmp_path: Path) -> None:
    full = _fit()
    rec = Record(stop_at=2)
    stopped = _fit(callbacks=[rec], checkpoint=tmp_path)
    assert len(rec.rows) == 2 and [h["step"] for h in stopped.history] == [2]
    assert int(stopped.train_state.step) == 2
    resumed = _fit(checkpoint=tmp_path)
    jax.tree.map(np.testing.assert_array_equal, resumed.params, full.params)
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert resumed.history[0]["loss"] == pytest.approx(full.history[0]["loss"], rel=1e-6)


def test_lr_is_logged_per_step() -> None:
    schedule = optax.linear_schedule(0.1, 0.0, transition_steps=6)
    rec = Record()
    _fit(opt=optax.inject_hyperparams(optax.sgd)(learning_rate=schedule), callbacks=[rec])
    np.testing.assert_allclose([r["lr"] for _, r, _ in rec.rows], [float(schedule(s)) for s in range(6)], rtol=1e-6)


# ------------------------------------------------------------------- CSV


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_csv_logger_writes_each_step(tmp_path: Path) -> None:
    rec = Record()
    _fit(callbacks=[train.CSVLogger(tmp_path / "log.csv", flush_every=4), rec])
    rows = _read(tmp_path / "log.csv")
    assert list(rows[0]) == ["step", "epoch", "batch", "loss", "accuracy"]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], [r["loss"] for _, r, _ in rec.rows], rtol=1e-7)
    _fit(callbacks=[train.CSVLogger(tmp_path / "every.csv", every=4)])
    assert [r["step"] for r in _read(tmp_path / "every.csv")] == ["4"]


def test_csv_logger_resumed_reads_like_uninterrupted(tmp_path: Path) -> None:
    class Crash(train.Callback):
        def on_step_end(self, step, logs, train_state):
            if step == 5:
                raise RuntimeError("killed")

    log = tmp_path / "log.csv"
    with pytest.raises(RuntimeError, match="killed"):
        _fit(callbacks=[train.CSVLogger(log, flush_every=1), Crash()], checkpoint=tmp_path / "ckpt")
    assert [r["step"] for r in _read(log)] == ["1", "2", "3", "4", "5"]  # 4 and 5 come after the epoch-1 checkpoint
    _fit(callbacks=[train.CSVLogger(log)], checkpoint=tmp_path / "ckpt")
    _fit(callbacks=[train.CSVLogger(tmp_path / "ref.csv")])
    assert _read(log) == _read(tmp_path / "ref.csv")


def test_logger_errors() -> None:
    with pytest.raises(ValueError, match=r"CSVLogger: `every` must be an int >= 1, got 0"):
        train.CSVLogger("x.csv", every=0)
    with pytest.raises(TypeError, match=r"CSVLogger: `path` must be a file path such as 'runs/steps.csv', got int"):
        train.CSVLogger(3)


# ------------------------------------------------------------ TensorBoard


def test_tensorboard_logger_needs_tensorboardx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # `import tensorboardX` fails
    with pytest.raises(
        ImportError,
        match=r"TensorBoardLogger: writing TensorBoard event files needs the optional package tensorboardX, which is not installed; run `pip install tensorboardX`",
    ):
        _fit(epochs=1, callbacks=[train.TensorBoardLogger(tmp_path)])


def test_tensorboard_logger_writes_scalars(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    written: list[tuple[str, float, int]] = []

    class SummaryWriter:  # records what tensorboardX's writer would receive
        def __init__(self, logdir: str) -> None:
            assert logdir == str(tmp_path)

        def add_scalar(self, tag: str, value: float, step: int) -> None:
            written.append((tag, value, step))

        def flush(self) -> None:
            pass

        def close(self) -> None:
            written.append(("closed", 0.0, 0))

    monkeypatch.setitem(sys.modules, "tensorboardX", types.SimpleNamespace(SummaryWriter=SummaryWriter))
    rec = Record()
    result = _fit(epochs=1, val_loader=_loader(), callbacks=[train.TensorBoardLogger(tmp_path), rec])
    losses = [(v, s) for t, v, s in written if t == "train/loss"]
    assert [s for _, s in losses] == [1, 2, 3]
    np.testing.assert_allclose([v for v, _ in losses], [r["loss"] for _, r, _ in rec.rows], rtol=1e-7)
    assert ("epoch/val_loss", pytest.approx(result.history[0]["val_loss"]), 3) in written
    assert written[-1][0] == "closed"


# ------------------------------------------------------------------- EMA


def test_ema_matches_torch_averaged_model() -> None:
    decay = 0.9
    model = nn.Linear(4, 3)
    params = model.init(KEY)
    opt = train.with_ema(optax.sgd(0.1), decay)
    step = train.make_train_step(lambda p, x, y: F.cross_entropy(model.apply(p, x), y), opt)
    p, s = jax.tree.map(np.copy, params), opt.init(params)

    ref = torch.nn.Linear(4, 3)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(np.array(params["weight"])))
        ref.bias.copy_(torch.from_numpy(np.array(params["bias"])))
    avg = torch.optim.swa_utils.AveragedModel(ref, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(decay))
    sgd = torch.optim.SGD(ref.parameters(), lr=0.1)
    for i in range(4):
        x, y = X[i * 8 : (i + 1) * 8], Y[i * 8 : (i + 1) * 8]
        p, s, _ = step(p, s, x, y)
        sgd.zero_grad()
        torch.nn.functional.cross_entropy(ref(torch.from_numpy(x)), torch.from_numpy(y).long()).backward()
        sgd.step()
        avg.update_parameters(ref)
    got = train.ema_params(s, p)
    np.testing.assert_allclose(got["weight"], avg.module.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["bias"], avg.module.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(got["weight"], p["weight"])  # the average lags the weights


def test_fit_evaluates_the_ema_weights() -> None:
    val = data.DataLoader((X[48:], Y[48:]), batch_size=16)
    result = _fit(opt=train.with_ema(OPT, 0.5), val_loader=val, fused=True)
    h = result.history[-1]
    assert {"val_ema_loss", "val_ema_accuracy"} <= set(h)
    ema = train.ema_params(result.train_state, result.params)
    out, _ = MODEL.apply_with_state(ema, result.state, X[48:], train=False)
    assert h["val_ema_loss"] == pytest.approx(float(F.cross_entropy(out, Y[48:])), rel=1e-5)
    assert h["val_ema_loss"] != pytest.approx(h["val_loss"], rel=1e-6)


def test_ema_with_frozen_params_and_errors() -> None:
    mask = train.trainable_mask(MODEL.init(KEY), include="4.*")
    result = _fit(opt=train.with_ema(OPT, 0.5), trainable=mask, epochs=1)
    ema = train.ema_params(result.train_state, result.params)
    np.testing.assert_array_equal(ema["0"]["weight"], result.params["0"]["weight"])  # frozen: no average
    with pytest.raises(ValueError, match=r"with_ema: `decay` must be a number in \[0, 1\), e.g. 0.999, got 1.0"):
        train.with_ema(OPT, 1.0)
    with pytest.raises(
        ValueError,
        match=r"ema_params: the optimizer state holds no EMA of the weights; build the optimizer with train.with_ema",
    ):
        train.ema_params(OPT.init(result.params), result.params)


# -------------------------------------------------------------- LR finder


def test_lr_find_records_an_exponential_range_and_stops_on_divergence() -> None:
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    found = train.lr_find(model, optax.sgd, _loader(72), loss=LOSS, key=KEY, min_lr=1e-3, max_lr=1e3, steps=30)
    n = len(found.lrs)
    assert 3 <= n < 30  # sgd at 1e3 diverges before the end
    np.testing.assert_allclose(found.lrs, 1e-3 * 1e6 ** (np.arange(n) / 29), rtol=1e-5)
    assert found.smoothed[-1] > 4 * min(found.smoothed) or not np.isfinite(found.smoothed[-1])
    assert found.lrs[0] <= found.suggestion <= found.min_loss_lr / 10


def test_lr_finder_errors() -> None:
    with pytest.raises(ValueError, match=r"lr_find: need 0 < min_lr < max_lr, got min_lr=1.0, max_lr=0.1"):
        train.lr_find(MODEL, optax.sgd, _loader(), loss=LOSS, key=KEY, min_lr=1.0, max_lr=0.1)
    with pytest.raises(
        ValueError, match=r"LRRecorder: the step logs have no 'lr'; build the optimizer with optax.inject_hyperparams"
    ):
        _fit(epochs=1, callbacks=[train.LRRecorder()])
    with pytest.raises(ValueError, match=r"LRRecorder: `diverge` must be a number > 1, e.g. 4.0, got 1"):
        train.LRRecorder(diverge=1)


# ------------------------------------------------------------- fused="auto"


def test_fused_auto_fuses_an_mlp_but_not_a_cnn_on_cpu() -> None:
    mlp = Record()
    _fit(callbacks=[mlp], fused="auto", epochs=1)
    assert [t for _, _, t in mlp.rows] == [3, 3, 3]  # one scan for the epoch: hooks see its end state
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 16, 3))
    images = data.DataLoader((X[:32].reshape(8, 1, 4, 4).repeat(4, axis=0), Y[:32]), batch_size=16)
    conv = Record()
    train.fit(cnn, OPT, images, loss=LOSS, key=KEY, fused="auto", callbacks=[conv], progress=False)
    assert [t for _, _, t in conv.rows] == ([1, 2] if jax.default_backend() == "cpu" else [2, 2])
    listed = Record()
    _fit([(X[:16], Y[:16])], fused="auto", epochs=1, callbacks=[listed])  # a list: unfused, no error
    assert [t for _, _, t in listed.rows] == [1]
