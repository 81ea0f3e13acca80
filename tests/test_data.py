"""funcnn.data: DataLoader order/resume/prefetch, random_split, bundled data sets."""

from __future__ import annotations

import math
import sys
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from funcnn.data import DataLoader, load_digits, random_split, synthetic_regression

N = 10


def _data(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Sample i has x[i] = (i, -i) and label i, so a batch shows which samples it holds."""
    ids = np.arange(n)
    return np.stack([ids, -ids], axis=1).astype(np.float32), ids


def _ids(loader: DataLoader, epochs: int = 1) -> list[list[int]]:
    out = []
    for _ in range(epochs):
        for xb, yb in loader:
            assert (np.asarray(xb[:, 0]) == np.asarray(yb)).all()
            out.append(np.asarray(yb).tolist())
    return out


# ------------------------------------------------------------------ every sample once
@pytest.mark.parametrize("batch_size", [1, 3, 5, 10], ids=lambda b: f"bs{b}")
@pytest.mark.parametrize("drop_last", [False, True], ids=["keep_last", "drop_last"])
@pytest.mark.parametrize("shuffle", [False, True], ids=["ordered", "shuffled"])
def test_every_sample_once_per_epoch(shuffle: bool, drop_last: bool, batch_size: int) -> None:
    loader = DataLoader(_data(), batch_size, shuffle, key=jax.random.key(0), drop_last=drop_last)
    batches = _ids(loader)
    assert len(batches) == len(loader) == (N // batch_size if drop_last else math.ceil(N / batch_size))
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))
    if drop_last:
        assert all(len(b) == batch_size for b in batches) and len(flat) == len(loader) * batch_size
    else:
        assert sorted(flat) == list(range(N))
    if not shuffle:
        assert flat == list(range(len(flat)))


def test_shuffle_is_reproducible_and_new_each_epoch() -> None:
    a = DataLoader(_data(), 4, shuffle=True, key=jax.random.key(7))
    b = DataLoader(_data(), 4, shuffle=True, key=jax.random.key(7))
    c = DataLoader(_data(), 4, shuffle=True, key=jax.random.key(8))
    epochs_a = [_ids(a) for _ in range(3)]
    assert epochs_a == [_ids(b) for _ in range(3)]
    assert _ids(c) != epochs_a[0]
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]


def test_shuffle_order_is_the_documented_numpy_rule() -> None:
    key = jax.random.key(3)
    words = np.asarray(jax.random.key_data(key)).tolist()
    loader = DataLoader(_data(), N, shuffle=True, key=key)
    loader.set_epoch(2)
    seed = np.random.SeedSequence(words, spawn_key=(2,))
    assert _ids(loader) == [np.random.Generator(np.random.PCG64(seed)).permutation(N).tolist()]


def test_a_raw_uint32_key_gives_the_same_order_as_the_typed_key() -> None:
    key = jax.random.key(5)
    typed = DataLoader(_data(), 3, shuffle=True, key=key)
    raw = DataLoader(_data(), 3, shuffle=True, key=jax.random.key_data(key))
    assert _ids(typed, 2) == _ids(raw, 2)


def test_iteration_compiles_nothing() -> None:
    key = jax.random.key(0)
    events: list[str] = []

    def listener(name: str, duration: float, **kwargs: Any) -> None:
        events.append(name)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        loader = DataLoader(_data(), 3, shuffle=True, key=key)
        _ids(loader, 2)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert not [e for e in events if "compile" in e]


# ------------------------------------------------------------------------- resume
@pytest.mark.parametrize("stop_after", [0, 1, 2, 3], ids=lambda k: f"after{k}")
@pytest.mark.parametrize("how", ["start", "load_state"])
def test_resume_mid_epoch_yields_the_same_remaining_batches(how: str, stop_after: int) -> None:
    make = lambda **kw: DataLoader(_data(), 3, shuffle=True, key=jax.random.key(1), **kw)  # noqa: E731
    full = _ids(make(), 3)  # 4 batches per epoch, 3 epochs
    interrupted = make()
    batches = iter(interrupted)
    seen = [np.asarray(next(batches)[1]).tolist() for _ in range(stop_after)]
    state = interrupted.state()
    assert state == {"epoch": 0, "batch": stop_after}
    if how == "start":
        resumed = make(start=state)
    else:
        resumed = make()
        resumed.load_state(state)
    rest = _ids(resumed, 3)
    assert seen + rest == full


def test_resume_from_the_end_of_an_epoch_starts_the_next_one() -> None:
    loader = DataLoader(_data(), 5, shuffle=True, key=jax.random.key(2))
    first, second = _ids(loader), _ids(loader)
    resumed = DataLoader(_data(), 5, shuffle=True, key=jax.random.key(2))
    resumed.load_state({"epoch": 0, "batch": 2})  # the batch count of an epoch: epoch 0 is done
    assert resumed.state() == {"epoch": 1, "batch": 0}
    assert _ids(resumed) == second != first


def test_state_counts_yielded_batches_and_rolls_over_on_the_last() -> None:
    loader = DataLoader(_data(), 4)
    states = []
    for _ in loader:
        states.append(loader.state())
    assert states == [{"epoch": 0, "batch": 1}, {"epoch": 0, "batch": 2}, {"epoch": 1, "batch": 0}]


def test_load_state_accepts_numpy_and_jax_integers() -> None:
    loader = DataLoader(_data(), 4)
    loader.load_state({"epoch": np.int64(2), "batch": jnp.int32(1)})
    assert loader.state() == {"epoch": 2, "batch": 1}
    assert type(loader.state()["epoch"]) is int


def test_set_epoch_moves_to_an_epoch_start_and_keeps_a_resumed_position() -> None:
    ref = DataLoader(_data(), 3, shuffle=True, key=jax.random.key(4))
    by_epoch = [_ids(ref) for _ in range(3)]
    loader = DataLoader(_data(), 3, shuffle=True, key=jax.random.key(4))
    loader.set_epoch(2)
    assert _ids(loader) == by_epoch[2]
    loader.load_state({"epoch": 1, "batch": 2})
    loader.set_epoch(1)  # the PyTorch idiom at the top of an epoch keeps the resumed position
    assert _ids(loader) == by_epoch[1][2:]


def test_breaking_out_resumes_the_same_epoch_on_the_next_loop() -> None:
    loader = DataLoader(_data(), 3)
    for _ in loader:
        break
    assert _ids(loader) == [[3, 4, 5], [6, 7, 8], [9]]


# ------------------------------------------------------------ structure and devices
class Pair(NamedTuple):
    x: Any
    y: Any


def test_dict_tuple_namedtuple_and_single_array_inputs_keep_their_structure() -> None:
    x, y = _data()
    (dict_batch,) = list(DataLoader({"y": y, "x": x}, N))
    assert list(dict_batch) == ["y", "x"] and dict_batch["x"].shape == (N, 2)
    (tuple_batch,) = list(DataLoader([x, y], N))
    assert type(tuple_batch) is tuple and len(tuple_batch) == 2
    (named,) = list(DataLoader(Pair(x, y), N))
    assert isinstance(named, Pair) and named.y.shape == (N,)
    (single,) = list(DataLoader(y, N))
    assert isinstance(single, jax.Array) and single.shape == (N,)


def test_batches_are_jax_arrays_in_canonical_dtypes() -> None:
    x = np.arange(12.0).reshape(6, 2)  # float64
    y = torch.arange(6)  # int64, a torch tensor
    xb, yb = next(iter(DataLoader((x, y), 4)))
    assert isinstance(xb, jax.Array) and xb.dtype == jnp.float32 and yb.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(xb), x[:4].astype(np.float32))


@pytest.mark.parametrize("prefetch", [0, 1, 5], ids=lambda p: f"prefetch{p}")
def test_prefetch_depth_does_not_change_batches(prefetch: int) -> None:
    ref = _ids(DataLoader(_data(), 3, shuffle=True, key=jax.random.key(9)), 2)
    assert _ids(DataLoader(_data(), 3, shuffle=True, key=jax.random.key(9), prefetch=prefetch), 2) == ref


@pytest.mark.parametrize("kind", ["device", "sharding"])
def test_device_and_sharding_placement(kind: str) -> None:
    dev = jax.devices()[0]
    target = dev if kind == "device" else jax.sharding.SingleDeviceSharding(dev)
    xb, _ = next(iter(DataLoader(_data(), 4, device=target)))
    assert xb.devices() == {dev} and xb.committed


def test_the_loader_keeps_its_own_copy() -> None:
    x, y = _data()
    loader = DataLoader((x, y), N)
    x[:] = 0.0
    assert np.asarray(next(iter(loader))[0])[:, 0].tolist() == list(range(N))


# ------------------------------------------------------------------------- errors
def test_error_arrays_of_different_lengths_name_each_length() -> None:
    with pytest.raises(
        ValueError, match=r"DataLoader: all arrays need the same first dimension .*got lengths 'x': 10, 'y': 9"
    ):
        DataLoader({"x": np.zeros((10, 2)), "y": np.zeros(9)})
    with pytest.raises(ValueError, match=r"got lengths \[0\]: 10, \[1\]: 9, \[2\]: 10; slice them"):
        DataLoader((np.zeros(10), np.zeros(9), np.zeros(10)))


@pytest.mark.parametrize("bad", [0, -3], ids=["zero", "negative"])
def test_error_batch_size_not_positive(bad: int) -> None:
    with pytest.raises(ValueError, match=rf"DataLoader: `batch_size` must be an integer >= 1, got {bad}"):
        DataLoader(_data(), bad)


@pytest.mark.parametrize("bad", [2.5, True, "4"], ids=["float", "bool", "str"])
def test_error_batch_size_not_an_integer(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"DataLoader: `batch_size` must be an integer, got"):
        DataLoader(_data(), bad)


def test_error_shuffle_without_key() -> None:
    with pytest.raises(ValueError, match=r"shuffle=True needs an explicit PRNG key .* pass key=jax.random.key\(seed\)"):
        DataLoader(_data(), 2, shuffle=True)


def test_error_key_that_is_not_a_key() -> None:
    with pytest.raises(TypeError, match=r"expected a PRNG key such as jax.random.key\(3\), got the integer 3"):
        DataLoader(_data(), 2, shuffle=True, key=3)


def test_error_empty_dataset() -> None:
    with pytest.raises(ValueError, match=r"DataLoader: the data set is empty \(0 samples\)"):
        DataLoader((np.zeros((0, 3)), np.zeros(0)))
    with pytest.raises(ValueError, match=r"DataLoader: expected at least one array, got an empty tuple"):
        DataLoader(())


def test_error_drop_last_leaves_no_batch() -> None:
    with pytest.raises(ValueError, match=r"drop_last=True with batch_size 11 > 10 samples leaves no batch"):
        DataLoader(_data(), 11, drop_last=True)


def test_error_inputs_of_the_wrong_kind() -> None:
    with pytest.raises(TypeError, match=r"DataLoader: expected a tuple or dict of arrays \(or one array\), got int"):
        DataLoader(5)
    with pytest.raises(ValueError, match=r"DataLoader: array \[0\] is a scalar \(shape \(\)\)"):
        DataLoader((np.float32(1.0),))
    with pytest.raises(TypeError, match=r"DataLoader: array 'name' has dtype <U1, which JAX cannot hold"):
        DataLoader({"name": np.array(["a", "b"])})
    with pytest.raises(
        TypeError, match=r"DataLoader: `device` must be a jax.Device or a jax.sharding.Sharding, got str"
    ):
        DataLoader(_data(), device="gpu")
    with pytest.raises(ValueError, match=r"DataLoader: `prefetch` must be an integer >= 0, got -1"):
        DataLoader(_data(), prefetch=-1)


def test_error_bad_positions() -> None:
    loader = DataLoader(_data(), 3)
    with pytest.raises(
        ValueError,
        match=r"load_state expects the dict from loader.state\(\), with keys \['batch', 'epoch'\], got \['epoch'\]",
    ):
        loader.load_state({"epoch": 1})
    with pytest.raises(ValueError, match=r"position batch 5 is past the 4 batches of an epoch"):
        loader.load_state({"epoch": 0, "batch": 5})
    with pytest.raises(ValueError, match=r"`epoch` must be an integer >= 0, got -1"):
        loader.set_epoch(-1)
    with pytest.raises(ValueError, match=r"`batch` must be an integer >= 0, got -2"):
        DataLoader(_data(), 3, start={"epoch": 0, "batch": -2})


def test_error_superseded_iterator() -> None:
    loader = DataLoader(_data(), 3)
    old = iter(loader)
    next(old)
    assert len(_ids(loader)) == 3  # a new loop takes over from batch 1
    with pytest.raises(
        RuntimeError, match=r"this iterator was superseded by a newer iter\(loader\), load_state or set_epoch"
    ):
        next(old)


# -------------------------------------------------------------------- random_split
@pytest.mark.parametrize(
    "n, lengths",
    [(10, [7, 3]), (10, [0.8, 0.2]), (30, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.34, 0.33, 0.33]), (5, [5])],
    ids=["ints", "fractions", "three", "remainder", "round_robin", "whole"],
)
def test_random_split_lengths_match_torch_and_partition_the_data(n: int, lengths: list) -> None:
    x, y = _data(n)
    parts = random_split((x, y), lengths, key=jax.random.key(0))
    expected = [
        len(s) for s in torch.utils.data.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    ]
    assert [len(py) for _, py in parts] == expected
    ids = np.concatenate([py for _, py in parts]).tolist()
    assert sorted(ids) == list(range(n))
    assert all((px[:, 0] == py).all() for px, py in parts)


def test_random_split_is_reproducible_and_keeps_dicts() -> None:
    data = {"x": _data()[0], "y": _data()[1]}
    a = random_split(data, [6, 4], key=jax.random.key(3))
    b = random_split(data, [6, 4], key=jax.random.key(3))
    c = random_split(data, [6, 4], key=jax.random.key(4))
    assert [s["y"].tolist() for s in a] == [s["y"].tolist() for s in b] != [s["y"].tolist() for s in c]
    assert list(a[0]) == ["x", "y"] and a[0]["x"].shape == (6, 2) and isinstance(a[0]["x"], np.ndarray)


def test_random_split_warns_on_an_empty_fraction_like_torch() -> None:
    with pytest.warns(UserWarning, match=r"random_split: split at index 1 has length 0 and will be empty"):
        parts = random_split(np.arange(3), [1.0, 0.0], key=jax.random.key(0))
    assert [len(p) for p in parts] == [3, 0]


def test_random_split_errors() -> None:
    key = jax.random.key(0)
    with pytest.raises(
        ValueError, match=r"the lengths \[5, 4\] sum to 9, but the data set has 10 samples; make them sum to 10"
    ):
        random_split(_data(), [5, 4], key=key)
    with pytest.raises(ValueError, match=r"random_split: fraction at index 0 must be between 0 and 1, got 1.5"):
        random_split(_data(), [1.5, -0.5], key=key)
    with pytest.raises(
        ValueError, match=r"lengths must be non-negative ints summing to the 10 samples, or fractions summing to 1"
    ):
        random_split(_data(), [0.5, 0.4], key=key)
    with pytest.raises(ValueError, match=r"lengths must be non-negative ints summing to the 10 samples"):
        random_split(_data(), [12, -2], key=key)
    with pytest.raises(
        TypeError, match=r"random_split: `lengths` must be a non-empty list of ints or fractions, got \[\]"
    ):
        random_split(_data(), [], key=key)
    with pytest.raises(TypeError, match=r"random_split: length at index 0 must be an int or a fraction, got '5'"):
        random_split(_data(), ["5", 5], key=key)
    with pytest.raises(ValueError, match=r"random_split: all arrays need the same first dimension"):
        random_split((np.zeros(3), np.zeros(4)), [1, 2], key=key)


# ---------------------------------------------------------------------- data sets
@pytest.mark.parametrize("flatten", [False, True], ids=["nchw", "flat"])
def test_load_digits_shapes_dtypes_range(flatten: bool) -> None:
    images, labels = load_digits(flatten=flatten)
    assert images.shape == ((1797, 64) if flatten else (1797, 1, 8, 8))
    assert images.dtype == np.float32 and labels.dtype == np.int32 and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    assert sorted(set(labels.tolist())) == list(range(10))


def test_load_digits_dtype_option_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    images, _ = load_digits(dtype=jnp.bfloat16)
    assert images.dtype == jnp.bfloat16
    with pytest.raises(
        TypeError, match=r"load_digits: `dtype` must be a floating dtype such as jnp.float32, got <class 'numpy.int32'>"
    ):
        load_digits(dtype=np.int32)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(
        ImportError, match=r"scikit-learn, which is not installed; install it with pip install 'funcnn\[examples\]'"
    ):
        load_digits()


def test_synthetic_regression() -> None:
    x, y = synthetic_regression()
    assert x.shape == (100, 3) and y.shape == (100, 1) and x.dtype == y.dtype == np.float32
    x2, y2 = synthetic_regression(seed=0)
    assert (x == x2).all() and (y == y2).all()
    assert not (synthetic_regression(seed=1)[0] == x).all()
    assert synthetic_regression(20, 4, 2)[1].shape == (20, 2)
    with pytest.raises(ValueError, match=r"synthetic_regression: `in_features` must be a positive integer, got 0"):
        synthetic_regression(in_features=0)
    with pytest.raises(TypeError, match=r"synthetic_regression: `seed` must be an int, got float 1.5"):
        synthetic_regression(seed=1.5)
