"""`funcnn.train.fit`: history, validation, fused epochs, NaN protection, checkpoints and resuming, callbacks.

Most tests share one model, optimizer and loss (and batch shapes), so `fit`'s compiled
steps are built once for the whole file.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import funcnn.nn.functional as F
from funcnn import checkpoint, data, nn, train
from funcnn.data.loader import epoch_order

KEY = jax.random.key(0)
_rng = np.random.default_rng(0)
X = _rng.normal(size=(72, 4)).astype(np.float32)
Y = np.argmax(X @ _rng.normal(size=(4, 3)), axis=1).astype(np.int32)
XV, YV = X[48:72], Y[48:72]  # 24 validation samples: batches of 16 and 8

MODEL = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
OPT = optax.adam(1e-2)
LOSS = nn.CrossEntropyLoss()


def _loader(x: np.ndarray = X[:48], y: np.ndarray = Y[:48], **kw: Any) -> data.DataLoader:
    return data.DataLoader((x, y), batch_size=16, shuffle=True, key=jax.random.key(1), **kw)


def _val() -> data.DataLoader:
    return data.DataLoader((XV, YV), batch_size=16)


def _fit(loader: Any = None, **kw: Any) -> train.FitResult:
    kw = {"epochs": 3, "progress": False, **kw}
    return train.fit(MODEL, OPT, _loader() if loader is None else loader, loss=LOSS, key=KEY, **kw)


def _same(a: Any, b: Any) -> None:
    """Bit-for-bit equal trees."""
    assert jax.tree.structure(a) == jax.tree.structure(b)

    def same(x: Any, y: Any) -> None:
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(x, y)

    jax.tree.map(same, a, b)


def _numbers(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


@pytest.fixture(scope="module")
def full() -> train.FitResult:
    """An uninterrupted 3-epoch run with validation, the reference for several tests."""
    return _fit(val_loader=_val())


# ------------------------------------------------------------------- training


def test_fit_trains_and_returns_history(full: train.FitResult) -> None:
    h = full.history
    assert [e["epoch"] for e in h] == [1, 2, 3] and [e["step"] for e in h] == [3, 6, 9]
    assert set(h[0]) == {"epoch", "step", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert h[-1]["loss"] < h[0]["loss"] and h[-1]["val_loss"] < h[0]["val_loss"]
    assert full.params is full.train_state.params and full.state is full.train_state.state
    assert int(full.train_state.step) == 9 and int(full.state["1"]["num_batches_tracked"]) == 9
    assert list(full.params) == ["0", "1", "4"]


def test_validation_metrics_match_a_manual_computation(full: train.FitResult) -> None:
    out, _ = MODEL.apply_with_state(full.params, full.state, XV, train=False)
    want_loss = float(F.cross_entropy(out, YV))  # the mean over all 24 samples
    want_acc = float(np.mean(np.argmax(out, axis=1) == YV))
    np.testing.assert_allclose(full.history[-1]["val_loss"], want_loss, rtol=1e-5)
    assert full.history[-1]["val_accuracy"] == pytest.approx(want_acc)


def test_fused_epochs_match_the_unfused_loop() -> None:
    loader = lambda: _loader(X[:66], Y[:66])  # noqa: E731  (4 full batches and one of 2)
    ref = _fit(loader(), epochs=2)
    for fused in (True, 2):
        got = _fit(loader(), epochs=2, fused=fused)
        _same(got.params, ref.params)
        _same(got.state, ref.state)
        assert _numbers(got.history) == _numbers(ref.history)


def test_a_list_of_batches_works_like_a_loader() -> None:
    loader = data.DataLoader((X[:48], Y[:48]), batch_size=16)
    batches = [(np.asarray(x), np.asarray(y)) for x, y in loader]
    _same(_fit(batches, epochs=1).params, _fit(loader, epochs=1).params)


def test_one_compilation_and_no_host_sync_per_step() -> None:
    traces = []

    def loss(out: jax.Array, target: jax.Array) -> jax.Array:
        traces.append(out.shape)
        return F.cross_entropy(out, target)

    params, state, key = MODEL.init(KEY), MODEL.init_state(), jax.random.key(3)
    # Implicit device-to-host transfers (float(loss), np.asarray(x), if x: ...) are errors
    # here; fit only fetches its device-side sums explicitly, once per epoch.
    with jax.transfer_guard_device_to_host("disallow"):
        for _ in range(2):
            train.fit(
                MODEL,
                OPT,
                _loader(),
                loss=loss,
                epochs=2,
                key=key,
                params=params,
                state=state,
                val_loader=_val(),
                progress=False,
            )
    assert sorted(traces) == [(8, 3), (16, 3), (16, 3)]  # train step once; eval once per batch shape


def test_learning_rate_is_logged() -> None:
    schedule = optax.linear_schedule(0.1, 0.0, transition_steps=9)
    injected = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
    h = train.fit(MODEL, injected, _loader(), loss=LOSS, epochs=3, key=KEY, progress=False).history
    want = [float(schedule(s - 1)) for s in (3, 6, 9)]
    np.testing.assert_allclose([e["lr"] for e in h], want, rtol=1e-6)
    h = train.fit(
        MODEL, optax.sgd(schedule), _loader(), loss=LOSS, epochs=1, key=KEY, progress=False, schedule=schedule
    ).history
    np.testing.assert_allclose(h[0]["lr"], want[0], rtol=1e-6)


def test_progress_bar_and_its_fallback(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _fit(epochs=1, progress=True)
    assert "Epoch 1/1" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # (even once fit has imported tqdm.auto)
    _fit(epochs=1, progress=True)
    assert capsys.readouterr().out.startswith("Epoch 1/1: loss ")


# ---------------------------------------------------------------- non-finite


def _poisoned(batch: int) -> tuple[np.ndarray, int]:
    """50 samples in batches of 16 with drop_last: a sample dropped in epoch 1 and in batch ``batch`` of epoch 2."""
    for seed in range(100):
        words = np.asarray(jax.random.key_data(jax.random.key(seed)), np.uint32)
        first, second = epoch_order(words, 0, 50), epoch_order(words, 1, 50)
        dropped = set(first[48:].tolist()) & set(second[batch * 16 : (batch + 1) * 16].tolist())
        if dropped:
            return np.array(seed), dropped.pop()
    raise AssertionError("no suitable seed")


def test_non_finite_loss_keeps_the_last_good_state(tmp_path: Any) -> None:
    seed, bad = _poisoned(batch=0)
    x = X[:50].copy()
    clean = lambda: data.DataLoader(
        (x.copy(), Y[:50]), batch_size=16, shuffle=True, key=jax.random.key(int(seed)), drop_last=True
    )  # noqa: E731
    x[bad, 2] = np.nan
    poisoned = data.DataLoader((x, Y[:50]), batch_size=16, shuffle=True, key=jax.random.key(int(seed)), drop_last=True)
    saved: dict[str, bytes] = {}

    class Snapshot(train.Callback):
        def on_epoch_end(self, epoch, logs, train_state):
            for name in os.listdir(tmp_path):
                saved[name] = (tmp_path / name).read_bytes()

    with pytest.raises(train.NonFiniteLossError) as info:
        _fit(poisoned, checkpoint=tmp_path, callbacks=[Snapshot()])
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert (err.epoch, err.batch, err.step, int(err.train_state.step)) == (2, 0, 3, 3)
    assert np.isnan(err.loss) and err.checkpoint == str(tmp_path / "step_00000003.safetensors")
    msg = r"fit: the loss became non-finite \(nan\) at epoch 2, batch 0 of 3, step 3; training stopped without applying that update"
    assert info.match(msg) and info.match(r"the last checkpoint '.*step_00000003.safetensors' is unchanged")
    # The state is exactly the one after epoch 1 of the same run on clean data ...
    good = _fit(clean(), epochs=1).train_state
    _same(err.train_state.params, good.params)
    _same(err.train_state.state, good.state)
    _same(err.train_state.opt_state, good.opt_state)
    # ... and the checkpoint on disk is the one written after epoch 1, byte for byte.
    assert sorted(os.listdir(tmp_path)) == sorted(saved) == ["step_00000003.safetensors"]
    assert (tmp_path / "step_00000003.safetensors").read_bytes() == saved["step_00000003.safetensors"]


def test_non_finite_loss_mid_epoch(tmp_path: Any) -> None:
    seed, bad = _poisoned(batch=2)
    x = X[:50].copy()
    x[bad, 0] = np.inf
    loader = data.DataLoader((x, Y[:50]), batch_size=16, shuffle=True, key=jax.random.key(int(seed)), drop_last=True)
    with pytest.raises(train.NonFiniteLossError, match=r"at epoch 2, batch 2 of 3, step 5;") as info:
        _fit(loader, checkpoint=checkpoint.CheckpointManager(tmp_path, max_to_keep=None), checkpoint_every=1)
    err = info.value
    assert checkpoint.CheckpointManager(tmp_path).all_steps() == [1, 2, 3, 4, 5]
    assert err.checkpoint == str(tmp_path / "step_00000005.safetensors")
    # The last checkpoint holds exactly the attached state: the failed step and the no-op steps after it changed nothing.
    on_disk = checkpoint.load_file(err.checkpoint)
    for path, leaf in jax.tree_util.tree_flatten_with_path(err.train_state.params)[0]:
        np.testing.assert_array_equal(on_disk["['train_state'].params" + jax.tree_util.keystr(path)], leaf)


def test_an_update_that_overflows_the_parameters() -> None:
    model = nn.Linear(4, 1)
    params = model.init(KEY)
    batches = [(X[:8], X[:8, :1] * 1e3)]  # gradients in the hundreds: the update overflows float32
    with pytest.raises(
        train.NonFiniteLossError,
        match=r"fit: the update made the parameters or buffers non-finite \(its loss was [0-9.]+\) at epoch 1, batch 0 of 1, step 0;",
    ) as info:
        train.fit(model, optax.sgd(3e38), batches, loss=F.mse_loss, key=KEY, params=params, progress=False)
    _same(info.value.train_state.params, params)


# ------------------------------------------------------------ checkpoints, resume


def test_resume_after_an_epoch_is_bit_identical(full: train.FitResult, tmp_path: Any) -> None:
    class Crash(train.Callback):
        def on_epoch_end(self, epoch, logs, train_state):
            if epoch == 2:
                raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        _fit(val_loader=_val(), checkpoint=tmp_path / "a", callbacks=[Crash()])
    assert checkpoint.CheckpointManager(tmp_path / "a").all_steps() == [3, 6]
    resumed = _fit(val_loader=_val(), checkpoint=tmp_path / "a")
    _same(resumed.train_state, full.train_state)
    assert _numbers(resumed.history) == _numbers(full.history)
    # Fewer epochs first, then the full count with the same directory.
    _fit(epochs=1, val_loader=_val(), checkpoint=tmp_path / "b")
    again = _fit(val_loader=_val(), checkpoint=tmp_path / "b")
    _same(again.params, full.params)
    # A finished run resumed with the same epochs returns at once, unchanged.
    done = _fit(val_loader=_val(), checkpoint=tmp_path / "b")
    _same(done.params, full.params)
    assert _numbers(done.history) == _numbers(full.history)


class _Crashing(data.DataLoader):
    """A loader that dies after yielding ``limit`` batches in all (a killed process)."""

    limit = 0

    def __iter__(self):
        for batch in super().__iter__():
            if self.limit == 0:
                raise RuntimeError("killed")
            self.limit -= 1
            yield batch


def test_resume_mid_epoch_is_bit_identical(full: train.FitResult, tmp_path: Any) -> None:
    loader = _Crashing((X[:48], Y[:48]), batch_size=16, shuffle=True, key=jax.random.key(1))
    loader.limit = 5  # epoch 1, then 2 of the 3 batches of epoch 2
    with pytest.raises(RuntimeError, match="killed"):
        _fit(loader, val_loader=_val(), checkpoint=tmp_path, checkpoint_every=2)
    assert checkpoint.CheckpointManager(tmp_path).all_steps() == [2, 3, 5]  # step 5: mid-epoch
    resumed = _fit(val_loader=_val(), checkpoint=tmp_path, checkpoint_every=2)
    _same(resumed.train_state, full.train_state)
    assert _numbers(resumed.history) == _numbers(full.history)  # the epoch's running sums were saved too


# ----------------------------------------------------------------- callbacks


def test_early_stopping_restores_the_best_epoch() -> None:
    stop = train.EarlyStopping(monitor="loss", mode="max", patience=1)  # the loss falls, so epoch 1 stays best
    result = _fit(callbacks=[stop])
    assert len(result.history) == 2 and (stop.best_epoch, stop.stopped_epoch, stop.restored) == (1, 2, True)
    _same(result.train_state, _fit(epochs=1).train_state)


def test_early_stopping_rules() -> None:
    def run(stop: train.EarlyStopping, values: list[float]) -> list[bool]:
        stop.on_train_begin([], None)
        return [stop.on_epoch_end(i + 1, {"epoch": i + 1, "val_loss": v}, None) for i, v in enumerate(values)]

    assert run(train.EarlyStopping(patience=0), [1.0, 1.0]) == [False, True]
    assert run(train.EarlyStopping(patience=2, min_delta=0.1), [1.0, 0.95, 0.5, 0.45, 0.44]) == [
        False,
        False,
        False,
        False,
        True,
    ]
    assert run(train.EarlyStopping(patience=1), [1.0, float("nan")]) == [False, True]
    # After a resume the counters are rebuilt from the history: a run that had stopped stays stopped.
    stop = train.EarlyStopping(patience=1)
    assert stop.on_train_begin([{"epoch": 1, "val_loss": 1.0}, {"epoch": 2, "val_loss": 2.0}], None) is True
    assert stop.stopped_epoch == 2 and stop.best == 1.0


def test_early_stopping_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"EarlyStopping\(monitor='val_loss', .*\): the epoch's logs have no 'val_loss'; they have \['accuracy', 'epoch', 'loss', 'seconds', 'step'\]",
    ):
        _fit(epochs=1, callbacks=[train.EarlyStopping()])
    with pytest.raises(ValueError, match=r"EarlyStopping: `mode` must be 'min' or 'max', got 'low'"):
        train.EarlyStopping(mode="low")
    with pytest.raises(ValueError, match=r"EarlyStopping: `patience` must be an int >= 0, got -1"):
        train.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match=r"EarlyStopping: `min_delta` must be a number >= 0, got -0.1"):
        train.EarlyStopping(min_delta=-0.1)
    with pytest.raises(TypeError, match=r"EarlyStopping: `monitor` must be a history key such as 'val_loss', got 3"):
        train.EarlyStopping(monitor=3)


# -------------------------------------------------------------------- errors


def test_argument_errors(tmp_path: Any) -> None:
    cases = [
        (ValueError, r"fit: `epochs` must be >= 1, got 0", {"epochs": 0}),
        (TypeError, r"fit: `epochs` must be an int, got float 1.5", {"epochs": 1.5}),
        (
            ValueError,
            r"fit: `fused` must be False, True, 'epoch', 'auto' or a number of steps >= 1, got -1",
            {"fused": -1},
        ),
        (ValueError, r"fit: checkpoint_every=2 needs `checkpoint=`", {"checkpoint_every": 2}),
        (
            TypeError,
            r"fit: `checkpoint` must be a directory path or a funcnn.checkpoint.CheckpointManager, got int",
            {"checkpoint": 3},
        ),
        (
            TypeError,
            r"fit: each callback needs at least one of the methods \['on_train_begin', 'on_epoch_end', 'on_train_end', 'on_step_end'\]",
            {"callbacks": [object()]},
        ),
        (
            ValueError,
            r"fit: `metrics` must be 'auto', a sequence of 'loss' and 'accuracy', or a mapping",
            {"metrics": ["f1"]},
        ),
        (
            TypeError,
            r"fit: `metrics` as a mapping must map new names \(not 'loss'\) to functions",
            {"metrics": {"loss": F.cross_entropy}},
        ),
    ]
    for error, msg, kw in cases:
        with pytest.raises(error, match=msg):
            _fit(**kw)
    with pytest.raises(TypeError, match=r"fit: `model` must be a funcnn.nn.Module, got function"):
        train.fit(lambda x: x, OPT, _loader(), loss=LOSS, key=KEY)
    with pytest.raises(
        TypeError, match=r"fit: `optimizer` must be an optax optimizer such as optax.adam\(1e-3\), got float"
    ):
        train.fit(MODEL, 0.1, _loader(), loss=LOSS, key=KEY)
    with pytest.raises(TypeError, match=r"fit: `loss` must be a function loss\(output, target\)"):
        train.fit(MODEL, OPT, _loader(), loss="ce", key=KEY)


def test_loader_errors() -> None:
    with pytest.raises(
        TypeError,
        match=r"fit: `train_loader` must be a funcnn.data.DataLoader or a re-iterable of \(inputs, targets\) batches such as a list, got int",
    ):
        _fit(5)
    with pytest.raises(
        TypeError, match=r"fit: `train_loader` is a one-shot iterator \(generator\), but every epoch iterates it again"
    ):
        _fit((X[:16], Y[:16]) for _ in range(2))
    with pytest.raises(ValueError, match=r"fit: `train_loader` yields no batches"):
        _fit([])
    with pytest.raises(
        TypeError,
        match=r"fit: each batch of `train_loader` must be an \(inputs, targets\) pair, got a dict with keys \['x', 'y'\]",
    ):
        _fit(data.DataLoader({"x": X, "y": Y}, batch_size=16))
    with pytest.raises(TypeError, match=r"fit: fused=True needs a funcnn.data.DataLoader"):
        _fit([(X[:16], Y[:16])], fused=True)
    with pytest.raises(ValueError, match=r"fit: metric 'accuracy' needs integer class targets"):
        _fit([(X[:16], X[:16, :3])], metrics=["loss", "accuracy"])


def test_labels_outside_the_classes() -> None:
    y = Y[:48].copy()
    y[7] = 3
    with pytest.raises(
        ValueError,
        match=r"fit: `train_loader` holds the label 3 \(sample 7\), outside the 3 classes the model outputs \(output shape \(16, 3\)\); labels must lie in \[0, 3\) or equal ignore_index=-100",
    ):
        _fit(_loader(X[:48], y))
    yv = YV.copy()
    yv[0] = -1
    with pytest.raises(ValueError, match=r"fit: `val_loader` holds the label -1 \(sample 0\)"):
        _fit(val_loader=data.DataLoader((XV, yv), batch_size=16))
    y[7] = -100  # CrossEntropyLoss's ignore_index is allowed
    assert len(_fit(_loader(X[:48], y), epochs=1).history) == 1


def test_checkpoint_errors(tmp_path: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    calls = []

    class Record(train.Callback):
        def on_train_begin(self, history, train_state):
            calls.append(1)

    with pytest.raises(OSError, match=r"fit\(checkpoint='.*file/ckpt'\): cannot write to directory"):
        _fit(checkpoint=blocker / "ckpt", callbacks=[Record()])
    assert calls == []  # refused before training began
    _fit(epochs=1, checkpoint=tmp_path / "run")
    with pytest.raises(ValueError, match=r"fit: '.*run' already holds checkpoints \(steps \[3\]\) and resume=False"):
        _fit(checkpoint=tmp_path / "run", resume=False)
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(
        ValueError,
        match=r"(?s)fit: cannot resume from '.*step_00000003.safetensors': it does not match this run.*\['train_state'\].params\['2'\]\['weight'\]",
    ):
        train.fit(other, OPT, _loader(), loss=LOSS, key=KEY, checkpoint=tmp_path / "run", progress=False)


# -------------------------------------------------------------- digits CNN


@pytest.mark.usefixtures("optimized_xla")  # trains a CNN for real: several times longer unoptimised
def test_digits_cnn_reaches_97_percent() -> None:
    x, y = data.load_digits()
    train_set, test_set = data.random_split((x, y), [0.8, 0.2], key=jax.random.key(0))
    loader = data.DataLoader(train_set, batch_size=32, shuffle=True, key=jax.random.key(1))
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )  # fmt: skip
    epochs = 8
    schedule = optax.cosine_decay_schedule(6e-3, epochs * len(loader))
    optimizer = optax.inject_hyperparams(optax.adam)(learning_rate=schedule)
    result = train.fit(
        model,
        optimizer,
        loader,
        loss=nn.CrossEntropyLoss(),
        epochs=epochs,
        key=jax.random.key(2),
        val_loader=data.DataLoader(test_set, batch_size=len(test_set[1])),
        fused=True,
        progress=False,
    )
    assert result.history[-1]["val_accuracy"] >= 0.97
    out = model.apply(result.params, jnp.asarray(test_set[0]))
    assert float(np.mean(np.argmax(out, axis=1) == test_set[1])) == pytest.approx(result.history[-1]["val_accuracy"])


def test_resume_from_a_fifo_says_the_file_cannot_be_read(tmp_path) -> None:
    # A FIFO where a step file should be: refused by name, never read (which would block).
    os.mkfifo(tmp_path / "step_00000001.safetensors")
    model = nn.Linear(3, 1)
    data = [(np.ones((4, 3), np.float32), np.ones((4, 1), np.float32))]
    with pytest.raises(
        ValueError,
        match=r"(?s)fit: cannot resume from .*step_00000001.safetensors': the file cannot be read as a checkpoint; remove it.*not a regular file",
    ):
        train.fit(
            model,
            optax.sgd(0.1),
            data,
            loss=F.mse_loss,
            epochs=1,
            key=jax.random.key(0),
            checkpoint=str(tmp_path),
            resume=True,
        )
