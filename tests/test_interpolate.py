"""`F.interpolate` against ``torch.nn.functional.interpolate`` beyond the layer cases.

The layer harness covers `nn.Upsample` (forward, gradients, jit, vmap, float64
gradients); here: sweeps of sizes and non-integer scales per mode (up and down, both
corner rules, with and without ``recompute_scale_factor``), antialiasing, float64,
integer inputs, the deprecated aliases and the layers' reprs.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import nn
from funcnn.nn.functional.interpolate import _resample_plan

torch.set_num_threads(1)
TF = torch.nn.functional

_SIZES = (1, 2, 3, 5, 8)
_SCALES = (0.3, 0.7, 1.0, 1.3, 2.0, 2.5)


def _host_interpolate(x: np.ndarray, **kwargs) -> np.ndarray:
    """`F.interpolate`'s own plan (argument handling, sizes, indices and weights) applied
    with NumPy: the sweep checks hundreds of configurations without compiling each."""
    kw = dict(size=None, scale_factor=None, align_corners=None, recompute_scale_factor=None, antialias=False) | kwargs
    plan = _resample_plan(x.shape, x.dtype, kw["size"], kw["scale_factor"], kw["mode"], kw["align_corners"],
                          kw["recompute_scale_factor"], kw["antialias"])  # fmt: skip
    for axis, index, weight in plan:
        g = np.moveaxis(np.take(x, index, axis=axis), (axis, axis + 1), (-2, -1))
        x = np.moveaxis((g * weight.astype(x.dtype)).sum(-1), -1, axis)
    return x


def _configs(mode: str, aligned: bool):
    corners = (False, True) if aligned else (None,)
    for n, ac in itertools.product(_SIZES, corners):
        for out in _SIZES:
            yield n, dict(size=out, align_corners=ac)
        for s, rc in itertools.product(_SCALES, (None, True)):
            yield n, dict(scale_factor=s, align_corners=ac, recompute_scale_factor=rc)


@pytest.mark.parametrize(
    ("mode", "dims", "aligned"),
    [("nearest", 1, False), ("nearest-exact", 1, False), ("area", 1, False), ("linear", 1, True), ("bicubic", 2, True)],
)
def test_sweep_matches_torch(mode: str, dims: int, aligned: bool) -> None:
    g = np.random.default_rng(0)
    checked = 0
    for n, kw in _configs(mode, aligned):
        x = g.standard_normal((1, 2) + (n,) * dims).astype(np.float32)
        if n * kw.get("scale_factor", 1) < 1 and mode != "area":
            continue  # an empty output is an error on both sides (tested elsewhere)
        want = TF.interpolate(torch.from_numpy(x), mode=mode, **kw).numpy()
        got = _host_interpolate(x, mode=mode, **kw)
        assert got.shape == want.shape, (n, kw)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=f"{mode} n={n} {kw}")
        checked += 1
    assert checked > 50


def test_host_plan_is_what_interpolate_runs() -> None:
    # The sweep above trusts `_resample_plan`; `interpolate` must give the same numbers.
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 7)).astype(np.float32)
    for kw in [dict(mode="bicubic", scale_factor=(1.3, 0.6)), dict(mode="area", size=(3, 4)),
               dict(mode="nearest", scale_factor=2.5), dict(mode="bilinear", size=(2, 9), antialias=True)]:  # fmt: skip
        np.testing.assert_allclose(np.asarray(F.interpolate(x, **kw)), _host_interpolate(x, **kw), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialias_matches_torch_forward_and_backward(mode: str) -> None:
    g = np.random.default_rng(1)
    corners = (False,) if mode == "lanczos" else (False, True)
    configs = [dict(scale_factor=0.35), dict(scale_factor=(0.6, 1.7)), dict(size=(9, 2))]
    for ac, kw in zip(corners * 2, configs):
        x = g.standard_normal((2, 2, 7, 8)).astype(np.float32)
        ct = g.standard_normal(
            TF.interpolate(torch.zeros(x.shape), mode=mode, antialias=True, align_corners=ac, **kw).shape
        )
        tx = torch.from_numpy(x).requires_grad_(True)
        ty = TF.interpolate(tx, mode=mode, antialias=True, align_corners=ac, **kw)
        (ty * torch.from_numpy(ct).float()).sum().backward()
        f = lambda v: F.interpolate(v, mode=mode, antialias=True, align_corners=ac, **kw)  # noqa: E731
        y, dx = jax.jit(lambda v, c: (f(v), jax.vjp(f, v)[1](c)[0]))(x, jnp.asarray(ct, jnp.float32))  # noqa: B023
        np.testing.assert_allclose(
            np.asarray(y), ty.detach().numpy(), rtol=1e-5, atol=1e-5, err_msg=f"{mode} {ac} {kw}"
        )
        np.testing.assert_allclose(np.asarray(dx), tx.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=f"d {mode} {ac} {kw}")


def test_float64_and_equal_size_axis_rules() -> None:
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 4))
    for mode, kw in [("bilinear", dict(scale_factor=(1.3, 1.5))), ("bicubic", dict(scale_factor=(1.3, 0.6)))]:
        want = TF.interpolate(torch.from_numpy(x), mode=mode, **kw).numpy()
        with jax.enable_x64(True):
            got = F.interpolate(jnp.asarray(x), mode=mode, **kw)
            assert got.dtype == jnp.float64
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)


def test_nearest_keeps_integer_dtype() -> None:
    x = np.arange(12, dtype=np.int32).reshape(1, 1, 3, 4)
    got = F.interpolate(x, scale_factor=1.5, mode="nearest-exact")
    want = TF.interpolate(torch.from_numpy(x).to(torch.uint8), scale_factor=1.5, mode="nearest-exact")
    assert got.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(got), want.numpy())


def test_area_with_empty_output_matches_torch() -> None:
    x = np.ones((1, 2, 2), np.float32)
    assert (
        F.interpolate(x, scale_factor=0.3, mode="area").shape
        == TF.interpolate(torch.ones(1, 2, 2), scale_factor=0.3, mode="area").shape
    )


def test_jit_and_vmap() -> None:
    x = jnp.asarray(np.random.default_rng(3).standard_normal((3, 1, 2, 5, 4)), jnp.float32)
    f = lambda v: F.interpolate(v, scale_factor=(1.7, 0.6), mode="bicubic", align_corners=True)  # noqa: E731
    np.testing.assert_allclose(jax.jit(jax.vmap(f))(x), jnp.stack([f(v) for v in x]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("fn", "kwargs", "torch_kwargs"),
    [
        (F.upsample, dict(scale_factor=1.5, mode="linear"), dict(scale_factor=1.5, mode="linear")),
        (F.upsample_nearest, dict(size=5), dict(size=5, mode="nearest")),
        (F.upsample_bilinear, dict(scale_factor=2), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ],
    ids=["upsample", "upsample_nearest", "upsample_bilinear"],
)
def test_deprecated_aliases_warn_and_match(fn, kwargs, torch_kwargs) -> None:
    x = (
        np.random.default_rng(4)
        .standard_normal((1, 2, 3, 4) if fn is F.upsample_bilinear else (1, 2, 3))
        .astype(np.float32)
    )
    with pytest.warns(DeprecationWarning, match=r"use interpolate"):
        got = fn(x, **kwargs)
    np.testing.assert_allclose(np.asarray(got), TF.interpolate(torch.from_numpy(x), **torch_kwargs).numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), dict(scale_factor=2)), ((), dict(size=[3, 4], mode="bilinear")), ((), dict(scale_factor=(2, 1.5))),
     ((4,), dict(mode="bicubic", align_corners=True)), ((), dict(size=(2, 3, 4), mode="area"))],
)  # fmt: skip
def test_upsample_repr_matches_torch(args, kwargs) -> None:
    assert repr(nn.Upsample(*args, **kwargs)) == repr(torch.nn.Upsample(*args, **kwargs))


def test_shorthand_reprs_match_torch() -> None:
    assert repr(nn.UpsamplingNearest2d(scale_factor=2)) == repr(torch.nn.UpsamplingNearest2d(scale_factor=2))
    assert repr(nn.UpsamplingBilinear2d(size=(3, 4))) == repr(torch.nn.UpsamplingBilinear2d(size=(3, 4)))
