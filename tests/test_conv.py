"""Convolutions and padding beyond the generic layer suite: functional parity, init, reprs, errors."""

from __future__ import annotations

import math
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn
import funcnn.nn.functional as F
from funcnn import nn

torch.set_num_threads(1)


def _close(actual, expected, tol=1e-5):
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-4, atol=tol)


# --------------------------------------------------------------------- functional parity
CONV_CALLS = [
    pytest.param(
        2, (2, 4, 7, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), id="2d-all"
    ),
    pytest.param(2, (4, 6, 5), (4, 4, 2, 2), dict(padding="same", dilation=3), id="2d-same-unbatched"),
    pytest.param(2, (1, 3, 5, 5), (2, 3, 3, 3), dict(padding="valid"), id="2d-valid"),
    pytest.param(1, (2, 3, 9), (6, 1, 3), dict(stride=2, padding=1, groups=3), id="1d-depthwise"),
    pytest.param(3, (1, 2, 4, 4, 3), (2, 2, 2, 2, 2), dict(padding=(1, 0, 1), stride=(2, 1, 1)), id="3d"),
]


@pytest.mark.parametrize("n, xshape, wshape, kw", CONV_CALLS)
def test_functional_conv_matches_torch(rng, n, xshape, wshape, kw) -> None:
    x = rng.standard_normal(xshape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    b = rng.standard_normal(wshape[0]).astype(np.float32)
    ours = getattr(F, f"conv{n}d")(x, w, b, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: 'same' with an odd total pad copies the input
        theirs = getattr(torch.nn.functional, f"conv{n}d")(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw)
    _close(ours, theirs, 1e-4)


ONE_GROUP_CALLS = [
    pytest.param((3, 4, 9, 8), (5, 4, 3, 3), dict(), id="2d"),
    pytest.param((2, 3, 9, 9), (4, 3, 3, 2), dict(stride=2, padding=1, dilation=2), id="2d-strided-dilated"),
    pytest.param((2, 3, 10, 11), (4, 3, 3, 3), dict(stride=3, padding=(2, 1)), id="2d-uncovered-tail"),
    pytest.param((2, 3, 7), (4, 3, 3), dict(padding="same"), id="1d-same"),
    pytest.param((2, 2, 5, 6, 7), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=1), id="3d"),
]


ROUTED_CALLS = ONE_GROUP_CALLS + [
    pytest.param((2, 4, 7, 6), (4, 1, 3, 3), dict(padding=1, groups=4), id="2d-depthwise"),
    pytest.param((2, 3, 9, 8), (6, 1, 3, 2), dict(stride=2, dilation=(1, 2), groups=3), id="2d-depthwise-multiplier"),
    pytest.param((2, 2, 9), (4, 1, 3), dict(padding=2, dilation=2, groups=2), id="1d-depthwise"),
    pytest.param((1, 2, 4, 5, 3), (2, 1, 2, 3, 2), dict(padding=1, stride=(2, 1, 1), groups=2), id="3d-depthwise"),
]


def _routes_for(wshape, kw) -> list[str]:
    """Every route that can run this convolution (depthwise only for groups == C_in)."""
    groups = kw.get("groups", 1)
    if groups > 1:
        return ["depthwise", "xla"]
    return ["im2col_small", "im2col", "xla"]


ROUTE_CASES = [
    pytest.param(route, *call.values, id=f"{call.id}-{route}")
    for call in ROUTED_CALLS
    for route in _routes_for(call.values[1], call.values[2])
]


@pytest.mark.parametrize("route, xshape, wshape, kw", ROUTE_CASES)
def test_every_conv_route_matches_torch_with_gradients(rng, monkeypatch, route, xshape, wshape, kw) -> None:
    from funcnn.nn.functional import _conv_routes
    from funcnn.nn.functional import conv as conv_module

    monkeypatch.setattr(_conv_routes, "choose_route", lambda *args: route)
    conv_module._conv_compiled.clear_cache()  # the route is chosen when a configuration is traced
    try:
        n = len(wshape) - 2
        x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (xshape, wshape, wshape[:1]))
        ours = getattr(F, f"conv{n}d")
        y, vjp = jax.vjp(lambda x, w, b: ours(x, w, b, **kw), jnp.asarray(x), jnp.asarray(w), jnp.asarray(b))
        g = rng.standard_normal(y.shape).astype(np.float32)
        grads = vjp(jnp.asarray(g))
        tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch: 'same' with an odd total pad copies the input
            ty = getattr(torch.nn.functional, f"conv{n}d")(tx, tw, tb, **kw)
        ty.backward(torch.tensor(g))
        _close(y, ty, 1e-4)
        for got, want in zip(grads, (tx.grad, tw.grad, tb.grad)):
            _close(got, want, 1e-4)
        # forward-mode AD goes through every route too
        _, tangent = jax.jvp(lambda x: ours(x, w, b, **kw), (jnp.asarray(x),), (jnp.ones_like(jnp.asarray(x)),))
        assert tangent.shape == y.shape and bool(jnp.all(jnp.isfinite(tangent)))
    finally:
        conv_module._conv_compiled.clear_cache()


ROUTE_CHOICES = [
    # (x shape, w shape, stride, groups, route): ResNet-18 at 64x64, batch 8, and friends
    ((8, 512, 2, 2), (512, 512, 3, 3), 1, 1, "im2col_small"),  # layer4: 4 output positions
    ((8, 256, 4, 4), (512, 256, 3, 3), 2, 1, "im2col_small"),  # layer4's first conv, strided
    ((32, 256, 2, 2), (256, 256, 3, 3), 1, 1, "im2col_small"),  # ResNet-18 at 32x32, layer3
    ((8, 64, 16, 16), (64, 64, 3, 3), 1, 1, "xla"),  # layer1: 256 positions, 576 columns for 64 channels
    ((2, 4, 8, 8), (32, 4, 3, 3), 1, 1, "im2col"),  # a first layer: 36 columns for 32 channels
    ((2, 4, 8, 8), (8, 4, 3, 3), 1, 1, "xla"),  # 36 columns for 8 channels, 64 positions
    ((4096, 4, 64, 64), (32, 4, 3, 3), 1, 1, "xla"),  # patches far over the size limit
    ((8, 256, 16, 16), (512, 256, 1, 1), 1, 1, "matmul"),  # 1x1, no padding
    ((8, 128, 28, 28), (128, 1, 3, 3), 1, 128, "depthwise"),
    ((8, 128, 28, 28), (256, 1, 3, 3), 1, 128, "depthwise"),  # channel multiplier 2
    ((8, 128, 28, 28), (128, 32, 3, 3), 1, 4, "xla"),  # grouped, not depthwise
]


@pytest.mark.parametrize("xshape, wshape, stride, groups, route", ROUTE_CHOICES)
def test_route_choice_from_shapes(xshape, wshape, stride, groups, route) -> None:
    from funcnn.nn.functional import _conv_routes

    n = len(wshape) - 2
    pads = tuple((k // 2, k // 2) for k in wshape[2:])
    assert _conv_routes.choose_route(xshape, wshape, (stride,) * n, pads, (1,) * n, groups) == route


def test_routes_show_in_the_compiled_program() -> None:
    """The chosen route is what XLA compiles on a CPU: no ``convolution`` op where a route
    replaces it."""

    def compiled(x_shape, w_shape, **kw):
        x, w = jnp.ones(x_shape), jnp.ones(w_shape)
        return jax.jit(lambda x, w: F.conv2d(x, w, **kw)).lower(x, w).compile().as_text()

    assert "convolution(" not in compiled((2, 4, 8, 8), (32, 4, 3, 3))  # im2col: a first layer
    assert "convolution(" in compiled((2, 4, 8, 8), (8, 4, 3, 3))  # 36 columns for 8 channels
    assert "convolution(" not in compiled((2, 64, 2, 2), (64, 64, 3, 3), padding=1)  # im2col_small
    assert "convolution(" not in compiled((2, 16, 9, 9), (16, 1, 3, 3), groups=16)  # depthwise
    assert "convolution(" in compiled((2, 16, 9, 9), (16, 4, 3, 3), groups=4)  # grouped: XLA's


def test_functional_conv_transpose_takes_groups_before_dilation(rng) -> None:
    x = rng.standard_normal((2, 4, 3, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    # positional order: bias, stride, padding, output_padding, groups, dilation
    ours = F.conv_transpose2d(x, w, None, 2, 1, 1, 2, 2)
    theirs = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), None, 2, 1, 1, 2, 2)
    _close(ours, theirs, 1e-4)
    ours1 = F.conv_transpose1d(x[0, :, 0], w[:, :, 0], None, 3, 0, 2, 1, 1)
    theirs1 = torch.nn.functional.conv_transpose1d(
        torch.tensor(x[0, :, 0]), torch.tensor(w[:, :, 0]), None, 3, 0, 2, 1, 1
    )
    _close(ours1, theirs1, 1e-4)


PADS = [
    ("constant", (1, 2)),
    ("constant", (-1, 2, 0, 3)),
    ("constant", (1, 1, 1, 1, 1, 1)),  # pads the first axis too
    ("reflect", (2, 1, 0, 3)),
    ("reflect", (-1, 2)),
    ("replicate", (3, 0, 2, 2)),
    ("replicate", (1, -2)),
    ("circular", (4, 1, 1, 3)),
    ("circular", (-1, 2)),
]


@pytest.mark.parametrize("mode, amounts", PADS, ids=[f"{m}-{p}" for m, p in PADS])
def test_pad_matches_torch(rng, mode, amounts) -> None:
    x = rng.standard_normal((2, 4, 5)).astype(np.float32)
    _close(F.pad(x, amounts, mode=mode), torch.nn.functional.pad(torch.tensor(x), amounts, mode=mode), 0)


def test_pad_constant_value_and_gradient(rng) -> None:
    x = rng.standard_normal((3, 4)).astype(np.float32)
    _close(F.pad(x, (1, 1), value=2.5), torch.nn.functional.pad(torch.tensor(x), (1, 1), value=2.5), 0)
    # reflect: edge-adjacent entries are read twice, so their gradient is 2
    g = jax.grad(lambda a: F.pad(a, (2, 0), mode="reflect").sum())(jnp.arange(4.0).reshape(1, 1, 4))
    assert g.tolist() == [[[1.0, 2.0, 2.0, 1.0]]]


# ---------------------------------------------------------------------------- layers
def test_conv_init_follows_torch_fan_in_rules() -> None:
    cases = [
        (nn.Conv2d(6, 4, (3, 5), groups=2), 3 * 15),
        (nn.Conv1d(3, 6, 4, groups=3), 1 * 4),
        (nn.ConvTranspose2d(6, 8, 3, groups=2), 4 * 9),  # fan_in from (in, out/groups, k, k): out/groups * k*k
        (nn.ConvTranspose1d(2, 5, 2), 5 * 2),
    ]
    for layer, fan_in in cases:
        p = layer.init(jax.random.key(1))
        bound = 1 / math.sqrt(fan_in)
        for name in ("weight", "bias"):
            v = np.asarray(p[name])
            assert v.dtype == np.float32
            assert np.abs(v).max() <= bound
        weight = np.asarray(p["weight"])
        assert np.abs(weight).max() > 0.8 * bound, f"{layer!r}: weight does not fill U(-{bound:.3f}, {bound:.3f})"
    a, b = nn.Conv2d(2, 3, 3).init(jax.random.key(0)), nn.Conv2d(2, 3, 3).init(jax.random.key(0))
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "args, kwargs, layer",
    [
        ((3, 8, 3), {}, "Conv2d"),
        ((3, 8, (3, 5)), dict(stride=2, padding=(1, 2), dilation=2, groups=1, bias=False), "Conv2d"),
        ((4, 8, 2), dict(padding="same", padding_mode="reflect", groups=4), "Conv1d"),
        ((2, 2, 3), dict(padding="valid"), "Conv3d"),
        ((4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2), "ConvTranspose2d"),
        ((4, 6, 3), dict(bias=False), "ConvTranspose1d"),
    ],
)
def test_conv_repr_matches_torch(args, kwargs, layer) -> None:
    assert repr(getattr(nn, layer)(*args, **kwargs)) == repr(getattr(torch.nn, layer)(*args, **kwargs))


def test_small_cnn_matches_torch_end_to_end(rng) -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(6 * 4 * 4, 5),
    )  # fmt: skip
    tmodel = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(6 * 4 * 4, 5),
    )  # fmt: skip
    params, _ = funcnn.load_state_dict(model, tmodel.state_dict())
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    y = np.array([0, 3, 1])
    loss, grads = jax.value_and_grad(lambda p: F.cross_entropy(model.apply(p, x), y))(params)
    tloss = torch.nn.functional.cross_entropy(tmodel(torch.tensor(x)), torch.tensor(y))
    tloss.backward()
    _close(loss, tloss)
    for name, g in funcnn.state_dict(grads).items():
        _close(g, dict(tmodel.named_parameters())[name].grad, 1e-5)


def test_conv_transpose_output_size_argument() -> None:
    layer = nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1)
    params = layer.init(jax.random.key(0))
    x = jnp.ones((1, 2, 4, 4))
    assert layer.apply(params, x).shape == (1, 3, 10, 10)
    assert layer.apply(params, x, output_size=(12, 11)).shape == (1, 3, 12, 11)
    assert layer.apply(params, x, output_size=(1, 3, 11, 10)).shape == (1, 3, 11, 10)


def test_conv_layer_compiles_once_and_vmaps() -> None:
    layer = nn.Conv2d(2, 3, 3, padding="same", padding_mode="circular")
    params = layer.init(jax.random.key(0))
    traces = []

    @jax.jit
    def f(p, x):
        traces.append(1)
        return layer.apply(p, x)

    x = jnp.ones((4, 2, 2, 5, 5))
    f(params, x[0])
    f(params, x[1])
    assert len(traces) == 1
    batched = jax.vmap(lambda xi: layer.apply(params, xi))(x)
    assert batched.shape == (4, 2, 3, 5, 5)


# ----------------------------------------------------------------------------- errors
CONSTRUCTOR_ERRORS = [
    (lambda: nn.Conv2d(5, 4, 3, groups=2), ValueError, "Conv2d: `in_channels` (=5) must be divisible by `groups` (=2)"),
    (
        lambda: nn.Conv2d(4, 6, 3, groups=4),
        ValueError,
        "Conv2d: `out_channels` (=6) must be divisible by `groups` (=4)",
    ),
    (lambda: nn.Conv2d(4, 6, 3, groups=0), ValueError, "Conv2d: `groups` must be a positive integer, got 0"),
    (lambda: nn.Conv2d(0, 6, 3), ValueError, "Conv2d: `in_channels` must be a positive integer, got 0"),
    (
        lambda: nn.Conv1d(2, 6, 3, stride=2, padding="same"),
        ValueError,
        "Conv1d: padding='same' is not supported for strided",
    ),
    (
        lambda: nn.Conv2d(2, 6, 3, padding="full"),
        ValueError,
        "Conv2d: `padding` must be an int, a tuple of 2 ints, 'same' or 'valid', got 'full'",
    ),
    (lambda: nn.Conv2d(2, 6, 3, padding=-1), ValueError, "Conv2d: `padding` must be non-negative, got -1"),
    (
        lambda: nn.Conv2d(2, 6, (3, 3, 3)),
        TypeError,
        "Conv2d: `kernel_size` must be an int or a tuple of 2 ints, got (3, 3, 3)",
    ),
    (lambda: nn.Conv2d(2, 6, 0), ValueError, "Conv2d: `kernel_size` must be positive, got 0"),
    (lambda: nn.Conv2d(2, 6, 3, stride=0), ValueError, "Conv2d: `stride` must be positive, got 0"),
    (lambda: nn.Conv3d(2, 6, 3, dilation=(1, 0, 1)), ValueError, "Conv3d: `dilation` must be positive, got (1, 0, 1)"),
    (
        lambda: nn.Conv2d(2, 6, 3, padding_mode="mirror"),
        ValueError,
        "Conv2d: `padding_mode` must be one of ['zeros', 'reflect', 'replicate', 'circular'], got 'mirror'",
    ),
    (lambda: nn.Conv2d(2, 6, 3, bias=None), TypeError, "Conv2d: `bias` must be True or False, got None"),
    (
        lambda: nn.ConvTranspose2d(2, 6, 3, padding_mode="reflect"),
        ValueError,
        "ConvTranspose2d: only padding_mode='zeros' is supported",
    ),
    (
        lambda: nn.ConvTranspose1d(2, 6, 3, padding="same"),
        ValueError,
        "ConvTranspose1d: `padding` must be an int or a tuple of 1 ints, got 'same'",
    ),
    (
        lambda: nn.ConvTranspose2d(2, 6, 3, stride=2, output_padding=2),
        ValueError,
        "ConvTranspose2d: `output_padding` (=(2, 2)) must be smaller than either `stride` (=(2, 2)) or `dilation` (=(1, 1))",
    ),
]


@pytest.mark.parametrize("make, error, message", CONSTRUCTOR_ERRORS, ids=[m for _, _, m in CONSTRUCTOR_ERRORS])
def test_constructor_errors(make, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make()


def _layer_call(layer, shape, *args):
    return lambda: layer.apply(layer.init(jax.random.key(0)), jnp.ones(shape), *args)


RUNTIME_ERRORS = [
    (
        _layer_call(nn.Conv2d(3, 4, 3), (2, 5, 8, 8)),
        ValueError,
        "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1)): expected input with 3 channels at dimension -3, got shape (2, 5, 8, 8)",
    ),
    (
        _layer_call(nn.Conv2d(3, 4, 3), (8, 8)),
        ValueError,
        "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1)): expected a 3-D or 4-D input (C, H, W) or (N, C, H, W), got shape (8, 8)",
    ),
    (
        _layer_call(nn.Conv2d(3, 4, 5, padding=1), (1, 3, 2, 8)),
        ValueError,
        "Conv2d(3, 4, kernel_size=(5, 5), stride=(1, 1), padding=(1, 1)): padded input size (4, 10) is smaller than "
        "the dilated kernel size (5, 5)",
    ),
    (
        _layer_call(nn.Conv1d(2, 2, 3, padding=3, padding_mode="reflect"), (1, 2, 3)),
        ValueError,
        "Conv1d(2, 2, kernel_size=(3,), stride=(1,), padding=(3,), padding_mode=reflect): mode='reflect' needs each pad "
        "smaller than the dim it pads",
    ),
    (
        _layer_call(nn.ConvTranspose2d(2, 3, 3, stride=2), (1, 2, 4, 4), (5, 5)),
        ValueError,
        "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2)): requested output size (5, 5) is not reachable from "
        "input shape (1, 2, 4, 4): dimension 0 must lie in [9, 10]",
    ),
    (
        _layer_call(nn.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4), (1, 2, 3)),
        ValueError,
        "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(1, 1)): `output_size` must hold 2 spatial sizes (or 4 sizes like "
        "the input's shape (1, 2, 4, 4)), got (1, 2, 3)",
    ),
    (
        lambda: nn.Conv2d(1, 1, 1).apply(nn.Conv2d(1, 1, 1).init(jax.random.key(0)), jnp.ones((1, 1, 2, 2), jnp.int32)),
        TypeError,
        "Conv2d(1, 1, kernel_size=(1, 1), stride=(1, 1)): expected a floating-point input, got dtype int32",
    ),
]


@pytest.mark.parametrize("call, error, message", RUNTIME_ERRORS, ids=[m[:60] for _, _, m in RUNTIME_ERRORS])
def test_runtime_errors_name_the_layer(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


x4 = np.ones((1, 4, 5, 5), np.float32)
FUNCTIONAL_ERRORS = [
    (
        lambda: F.conv2d(x4, np.ones((2, 4, 3))),
        "conv2d: expected a 4-D weight (out_channels, in_channels / groups, H, W), got shape (2, 4, 3)",
    ),
    (
        lambda: F.conv2d(x4[0, 0], np.ones((2, 4, 3, 3))),
        "conv2d: expected a 3-D (unbatched: C, H, W) or 4-D (batched: N, C, H, W) input, got shape (5, 5)",
    ),
    (
        lambda: F.conv2d(x4, np.ones((2, 3, 3, 3))),
        "conv2d: weight of shape (2, 3, 3, 3) with groups=1 expects input with 3 channels (dimension -3), got shape (1, 4, 5, 5)",
    ),
    (
        lambda: F.conv2d(x4, np.ones((3, 2, 3, 3)), groups=2),
        "conv2d: weight of shape (3, 2, 3, 3) has 3 output channels, not divisible by groups=2",
    ),
    (lambda: F.conv2d(x4, np.ones((2, 4, 3, 3)), groups=0), "conv2d: `groups` must be a positive integer, got 0"),
    (lambda: F.conv2d(x4, np.ones((2, 4, 3, 3)), np.ones(3)), "conv2d: expected a bias of shape (2,), got shape (3,)"),
    (
        lambda: F.conv2d(x4, np.ones((2, 4, 3, 3)), stride=2, padding="same"),
        "conv2d: padding='same' is not supported for strided convolutions",
    ),
    (
        lambda: F.conv1d(x4[0, :, 0], np.ones((2, 4, 7))),
        "conv1d: padded input size (5,) is smaller than the dilated kernel size (7,)",
    ),
    (
        lambda: F.conv_transpose2d(x4, np.ones((4, 2, 3))),
        "conv_transpose2d: expected a 4-D weight (in_channels, out_channels / groups, H, W), got shape (4, 2, 3)",
    ),
    (
        lambda: F.conv_transpose2d(x4, np.ones((3, 2, 3, 3))),
        "conv_transpose2d: weight of shape (3, 2, 3, 3) expects input with 3 channels (dimension -3), got shape (1, 4, 5, 5)",
    ),
    (
        lambda: F.conv_transpose2d(x4, np.ones((4, 2, 3, 3)), groups=3),
        "conv_transpose2d: weight of shape (4, 2, 3, 3) has 4 input channels, not divisible by groups=3",
    ),
    (
        lambda: F.conv_transpose2d(x4, np.ones((4, 2, 3, 3)), groups=-1),
        "conv_transpose2d: `groups` must be a positive integer, got -1",
    ),
    (
        lambda: F.conv_transpose2d(x4, np.ones((4, 2, 3, 3)), output_padding=1),
        "conv_transpose2d: `output_padding` (=(1, 1)) must be smaller than either `stride` (=(1, 1)) or `dilation` (=(1, 1))",
    ),
    (
        lambda: F.conv_transpose2d(x4, np.ones((4, 2, 3, 3)), padding=6),
        "conv_transpose2d: output size (-5, -5) is too small",
    ),
    (lambda: F.pad(x4, (1, 1, 1)), "pad: `pad` must have an even length (pairs of left/right amounts), got (1, 1, 1)"),
    (
        lambda: F.pad(x4[0, 0], (1, 1, 1, 1, 1, 1)),
        "pad: `pad` (1, 1, 1, 1, 1, 1) pads 3 dims but the input has shape (5, 5)",
    ),
    (
        lambda: F.pad(x4, (1, 1), mode="mirror"),
        "pad: `mode` must be one of ['constant', 'reflect', 'replicate', 'circular'], got 'mirror'",
    ),
    (lambda: F.pad(x4, (-3, -3)), "pad: negative padding (-3, -3) crops more than the input shape (1, 4, 5, 5) holds"),
    (lambda: F.pad(x4, (1, 1), mode="reflect", value=1.0), "pad: mode='reflect' takes no fill `value`, got value=1.0"),
    (
        lambda: F.pad(x4, (1, 1), mode="replicate"),
        "pad: mode='replicate' pads 1 to 3 trailing dims of a (N, C, *spatial) or (C, *spatial) input; got `pad` of length 2 for input shape (1, 4, 5, 5)",
    ),
    (
        lambda: F.pad(np.ones((2, 0)), (1, 1), mode="replicate"),
        "pad: mode='replicate' cannot pad dimension 1 of input shape (2, 0) by (1, 1)",
    ),
    (
        lambda: F.pad(x4, (5, 0, 0, 0), mode="reflect"),
        "pad: mode='reflect' needs each pad smaller than the dim it pads, got (5, 0) for dimension 3",
    ),
    (lambda: F.pad(x4, (0, 0, -2, 4), mode="circular"), "pad: mode='circular' wraps around at most once"),
]


@pytest.mark.parametrize("call, message", FUNCTIONAL_ERRORS, ids=[m[:60] for _, m in FUNCTIONAL_ERRORS])
def test_functional_value_errors(call, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_functional_type_errors() -> None:
    with pytest.raises(TypeError, match=re.escape("conv2d: `stride` must be an int or a tuple of 2 ints, got 1.5")):
        F.conv2d(x4, np.ones((2, 4, 3, 3)), stride=1.5)
    with pytest.raises(
        TypeError,
        match=re.escape("pad: `pad` must be a tuple of ints (left, right, ...) starting from the last dim, got 2"),
    ):
        F.pad(x4, 2)
    with pytest.raises(TypeError, match=re.escape("conv1d: expected a floating-point input, got dtype int32")):
        F.conv1d(np.ones((1, 2, 3), np.int32), np.ones((1, 2, 1)))


# ------------------------------------------------------------- conv_tbc, 3-D transposed
@pytest.mark.parametrize("pad", [0, 2])
def test_conv_tbc_matches_torch_with_gradients(rng, pad) -> None:
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((7, 2, 3), (3, 3, 4), (4,)))
    y, vjp = jax.vjp(lambda x, w, b: F.conv_tbc(x, w, b, pad), jnp.asarray(x), jnp.asarray(w), jnp.asarray(b))
    g = rng.standard_normal(y.shape).astype(np.float32)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    ty = torch.conv_tbc(tx, tw, tb, pad)
    ty.backward(torch.tensor(g))
    _close(y, ty, 1e-4)
    for got, want in zip(vjp(jnp.asarray(g)), (tx.grad, tw.grad, tb.grad)):
        _close(got, want, 1e-4)


def test_functional_conv_transpose3d_matches_torch(rng) -> None:
    x = rng.standard_normal((1, 4, 2, 3, 2)).astype(np.float32)
    w = rng.standard_normal((4, 1, 2, 2, 3)).astype(np.float32)
    kw = dict(stride=(1, 2, 2), padding=(0, 1, 1), output_padding=(0, 1, 0), groups=4, dilation=(2, 1, 1))
    ours = F.conv_transpose3d(x, w, None, **kw)
    _close(ours, torch.nn.functional.conv_transpose3d(torch.tensor(x), torch.tensor(w), None, **kw), 1e-4)


def test_conv_transpose3d_repr_and_init_match_torch() -> None:
    layer = nn.ConvTranspose3d(4, 6, (3, 2, 2), stride=2, output_padding=1, groups=2, dilation=(1, 2, 2))
    tlayer = torch.nn.ConvTranspose3d(4, 6, (3, 2, 2), stride=2, output_padding=1, groups=2, dilation=(1, 2, 2))
    assert repr(layer) == repr(tlayer)
    p = layer.init(jax.random.key(0))
    assert {k: v.shape for k, v in p.items()} == {k: tuple(v.shape) for k, v in tlayer.state_dict().items()}
    assert np.abs(p["weight"]).max() <= 1 / math.sqrt(3 * 12)


CONV_TBC_ERRORS = [
    (
        (np.ones((5, 3)), np.ones((2, 3, 4)), np.zeros(4)),
        {},
        "conv_tbc: expected a 3-D input (T, B, C_in), got shape (5, 3)",
    ),
    (
        (np.ones((5, 2, 3)), np.ones((2, 2, 4)), np.zeros(4)),
        {},
        "conv_tbc: expected a 3-D weight (K, C_in, C_out) with C_in = 3 (the input's last dim), got shape (2, 2, 4)",
    ),
    ((np.ones((5, 2, 3)), np.ones((2, 3, 4)), np.zeros(3)), {}, "conv_tbc: expected a bias of shape (4,), got (3,)"),
    ((np.ones((5, 2, 3)), np.ones((2, 3, 4)), None), {}, "conv_tbc: expected a bias of shape (4,), got None"),
    (
        (np.ones((5, 2, 3)), np.ones((2, 3, 4)), np.zeros(4)),
        {"pad": -1},
        "conv_tbc: `pad` must be a non-negative int, got -1",
    ),
    (
        (np.ones((1, 2, 3)), np.ones((2, 3, 4)), np.zeros(4)),
        {},
        "conv_tbc: padded input size (1,) is smaller than the dilated kernel size (2,)",
    ),
]


@pytest.mark.parametrize("args, kwargs, message", CONV_TBC_ERRORS, ids=[m[:60] for _, _, m in CONV_TBC_ERRORS])
def test_conv_tbc_errors(args, kwargs, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        F.conv_tbc(*args, **kwargs)
