"""Losses: numbers and gradients against ``torch.nn.functional``, jit == eager, every error.

One table of cases (`CASES`) drives the generic checks; each case names the function
(the same in funcnn and torch), builds ``(input, target)`` from a seeded generator, and
carries its options. Arrays in the options are NumPy and go to both libraries.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn.functional as TF

import funcnn
import funcnn.nn.functional as F
from funcnn import nn

# (rtol, atol) per comparison; every entry looser than float32 round-off says why.
TOL: dict[str, tuple[float, float]] = {
    # Same formula, float32 on both sides; sums may be ordered differently.
    "default": (1e-5, 1e-6),
    # jit vs eager, both ours: XLA fuses and reorders reductions under jit (measured up
    # to ~1e-7 relative), so not bit-equal.
    "jit": (1e-6, 1e-6),
}

f32 = np.float32
REDUCTIONS = ("none", "mean", "sum")
KL_REDUCTIONS = ("none", "batchmean", "mean", "sum")


@dataclass(frozen=True)
class Case:
    id: str
    fn: str
    make: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
    kwargs: dict[str, Any] = field(default_factory=dict)
    reductions: tuple[str, ...] = REDUCTIONS
    tol: str = "default"


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    return (z - np.log(np.exp(z).sum(axis=axis, keepdims=True))).astype(f32)


def _regression(shape: tuple[int, ...], ties: bool = False) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    def make(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x, t = (1.5 * r.normal(size=shape)).astype(f32), r.normal(size=shape).astype(f32)
        if ties:  # equal input and target: PyTorch's |d| has gradient sign(0) = 0
            t.flat[::3] = x.flat[::3]
        return x, t

    return make


def _classes(shape: tuple[int, ...], ignore: int | None = None, log_probs: bool = False) -> Callable[..., Any]:
    """Logits (or log-probabilities) of ``shape`` and class indices, a few set to ``ignore``."""

    def make(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        axis = 0 if len(shape) == 1 else 1
        x = (2 * r.normal(size=shape)).astype(f32)
        t = r.integers(0, shape[axis], size=shape[:axis] + shape[axis + 1 :])
        if ignore is not None:
            t.flat[::3] = ignore
        return (_log_softmax(x, axis) if log_probs else x), t

    return make


def _probs(shape: tuple[int, ...]) -> Callable[..., Any]:
    def make(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        axis = 0 if len(shape) == 1 else 1
        x, z = (2 * r.normal(size=shape)).astype(f32), r.normal(size=shape)
        return x, np.exp(_log_softmax(z, axis)).astype(f32)

    return make


def _bce(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return r.uniform(0.02, 0.98, size=(4, 3)).astype(f32), r.uniform(size=(4, 3)).astype(f32)


def _bce_edges(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Probabilities of exactly 0 and 1 (sigmoid saturates in float32): the log clamp and
    # PyTorch's clamped gradient denominator both matter here.
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30], f32)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0], f32)
    return x, t


def _logits_binary(scale: float) -> Callable[..., Any]:
    def make(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return (scale * r.normal(size=(4, 3))).astype(f32), r.uniform(size=(4, 3)).astype(f32)

    return make


def _kl(log_target: bool) -> Callable[..., Any]:
    def make(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = _log_softmax(r.normal(size=(3, 4)), 1)
        t = np.exp(_log_softmax(r.normal(size=(3, 4)), 1))
        if log_target:
            return x, np.log(t).astype(f32)
        t[0, 1] = 0.0  # 0 * log 0 = 0, with gradient 0 as in PyTorch
        return x, t.astype(f32)

    return make


_W4 = np.array([0.5, 2.0, 1.0, 1.5], f32)
_W5 = np.array([0.5, 2.0, 1.0, 1.5, 0.25], f32)
_W34 = np.random.default_rng(1).uniform(0.5, 2.0, size=(3, 4)).astype(f32)
_W43 = np.ascontiguousarray(_W34.T)
_W3 = np.array([0.5, 2.0, 1.5], f32)

CASES = [
    Case("mse", "mse_loss", _regression((3, 4))),
    Case("mse-3d", "mse_loss", _regression((2, 3, 2))),
    Case("mse-weight", "mse_loss", _regression((3, 4)), {"weight": _W34}),
    Case("l1-ties", "l1_loss", _regression((3, 4), ties=True)),
    Case("l1-weight", "l1_loss", _regression((3, 4)), {"weight": _W34}),
    Case("smooth-l1", "smooth_l1_loss", _regression((3, 4))),
    Case("smooth-l1-beta0.5", "smooth_l1_loss", _regression((3, 4)), {"beta": 0.5}),
    Case("smooth-l1-beta0-ties", "smooth_l1_loss", _regression((3, 4), ties=True), {"beta": 0.0}),
    Case("huber", "huber_loss", _regression((3, 4))),
    Case("huber-delta0.5", "huber_loss", _regression((3, 4)), {"delta": 0.5}),
    Case("huber-weight", "huber_loss", _regression((3, 4)), {"weight": _W34, "delta": 2.0}),
    Case("ce", "cross_entropy", _classes((6, 5))),
    Case("ce-unbatched", "cross_entropy", _classes((5,))),
    Case("ce-extra-dims", "cross_entropy", _classes((2, 4, 3, 2))),
    Case("ce-weight", "cross_entropy", _classes((6, 5)), {"weight": _W5}),
    Case("ce-ignore", "cross_entropy", _classes((6, 5), ignore=-100)),
    Case("ce-ignore-in-range", "cross_entropy", _classes((6, 5), ignore=1), {"ignore_index": 1}),
    Case("ce-weight-ignore", "cross_entropy", _classes((6, 5), ignore=-100), {"weight": _W5}),
    Case("ce-smoothing", "cross_entropy", _classes((6, 5)), {"label_smoothing": 0.1}),
    Case(
        "ce-smoothing-weight-ignore-dims",
        "cross_entropy",
        _classes((2, 4, 3), ignore=-1),
        {"weight": _W4, "ignore_index": -1, "label_smoothing": 0.2},
    ),
    Case("ce-smoothing-unbatched", "cross_entropy", _classes((5,)), {"label_smoothing": 0.3}),
    Case("ce-probs", "cross_entropy", _probs((6, 5))),
    Case("ce-probs-unbatched", "cross_entropy", _probs((5,))),
    Case(
        "ce-probs-weight-smoothing-dims",
        "cross_entropy",
        _probs((2, 4, 3)),
        {"weight": _W4, "label_smoothing": 0.3},
    ),
    Case("nll", "nll_loss", _classes((6, 5), log_probs=True)),
    Case("nll-unbatched", "nll_loss", _classes((5,), log_probs=True)),
    Case("nll-extra-dims", "nll_loss", _classes((2, 4, 3, 2), log_probs=True)),
    Case("nll-weight-ignore", "nll_loss", _classes((6, 5), ignore=-100, log_probs=True), {"weight": _W5}),
    Case("nll-ignore-in-range", "nll_loss", _classes((6, 5), ignore=0, log_probs=True), {"ignore_index": 0}),
    Case("bce", "binary_cross_entropy", _bce),
    Case("bce-weight-broadcast", "binary_cross_entropy", _bce, {"weight": _W3}),
    Case("bce-edges", "binary_cross_entropy", _bce_edges),
    Case("bce-logits", "binary_cross_entropy_with_logits", _logits_binary(2.0)),
    Case("bce-logits-weight", "binary_cross_entropy_with_logits", _logits_binary(2.0), {"weight": _W3}),
    Case("bce-logits-pos-weight", "binary_cross_entropy_with_logits", _logits_binary(2.0), {"pos_weight": _W3}),
    Case(
        "bce-logits-both-weights",
        "binary_cross_entropy_with_logits",
        _logits_binary(2.0),
        {"weight": _W43, "pos_weight": _W3},
    ),
    Case("bce-logits-large", "binary_cross_entropy_with_logits", _logits_binary(60.0), {"pos_weight": _W3}),
    Case("kl", "kl_div", _kl(False), reductions=KL_REDUCTIONS),
    Case("kl-log-target", "kl_div", _kl(True), {"log_target": True}, reductions=KL_REDUCTIONS),
]


def _inputs(case: Case) -> tuple[np.ndarray, np.ndarray]:
    return case.make(np.random.default_rng(0))


def _torch_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _torch_loss(case: Case, x: torch.Tensor, t: torch.Tensor, reduction: str) -> torch.Tensor:
    with warnings.catch_warnings():
        # torch warns that kl_div's 'mean' will change meaning; we mirror today's meaning.
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides", category=UserWarning)
        return getattr(TF, case.fn)(x, t, reduction=reduction, **_torch_kwargs(case.kwargs))


def _float_target(t: np.ndarray) -> bool:
    return np.issubdtype(t.dtype, np.floating)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_matches_torch_eager_and_jit(case: Case) -> None:
    """For every reduction: the eager loss equals torch's; under jit (one compile for all
    reductions) the loss equals the eager one and the gradients with respect to the input
    (and a float target) equal torch's."""
    x, t = _inputs(case)
    fn = getattr(F, case.fn)
    float_target = _float_target(t)
    eager = {red: fn(x, t, reduction=red, **case.kwargs) for red in case.reductions}
    rng = np.random.default_rng(2)
    cots = {red: rng.normal(size=eager[red].shape).astype(f32) for red in case.reductions}

    @jax.jit
    def losses_and_grads(a: jax.Array, b: jax.Array) -> dict[str, Any]:
        out = {}
        for red in case.reductions:
            loss_fn = functools.partial(fn, reduction=red, **case.kwargs)
            if float_target:
                loss, vjp = jax.vjp(loss_fn, a, b)
            else:
                loss, vjp = jax.vjp(lambda a: loss_fn(a, b), a)
            out[red] = (loss, vjp(cots[red]))
        return out

    jitted = losses_and_grads(x, t)

    for red in case.reductions:
        tx = torch.tensor(x, requires_grad=True)
        tt = torch.tensor(t, requires_grad=float_target)
        tloss = _torch_loss(case, tx, tt, red)
        tloss.backward(torch.from_numpy(cots[red]))
        loss, grads = jitted[red]

        rtol, atol = TOL[case.tol]
        assert eager[red].shape == tuple(tloss.shape) and eager[red].dtype == jnp.float32, red
        np.testing.assert_allclose(eager[red], tloss.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{red} loss")
        np.testing.assert_allclose(loss, eager[red], *TOL["jit"], err_msg=f"{red}: jit != eager")
        np.testing.assert_allclose(grads[0], tx.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"{red}: d loss / d input")
        if float_target:
            theirs = tt.grad.numpy()
            if case.fn == "kl_div" and not case.kwargs.get("log_target"):
                # At t = 0 torch differentiates xlogy(t, t) to 0/0 = NaN; we take d(t log t)/dt
                # as 0 there, so only the finite gradient of the -t * input term remains.
                zero = t == 0
                assert np.isnan(theirs[zero]).all() and np.isfinite(grads[1][zero]).all()
                theirs = np.where(zero, grads[1], theirs)
            np.testing.assert_allclose(grads[1], theirs, rtol=rtol, atol=atol, err_msg=f"{red}: d loss / d target")


# ----------------------------------------------------------------- ignore_index / labels
@pytest.mark.parametrize(
    "fn, kwargs",
    [
        ("cross_entropy", {}),
        ("cross_entropy", {"weight": _W4}),
        ("cross_entropy", {"weight": _W4, "label_smoothing": 0.1}),
        ("nll_loss", {}),
        ("nll_loss", {"weight": _W4}),
    ],
    ids=["ce", "ce-weight", "ce-weight-smoothing", "nll", "nll-weight"],
)
def test_all_ignored_batch_matches_torch(fn: str, kwargs: dict[str, Any]) -> None:
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(f32)
    t = np.full(3, -100)
    for reduction in REDUCTIONS:
        ours = np.asarray(getattr(F, fn)(x, t, reduction=reduction, **kwargs))
        theirs = getattr(TF, fn)(torch.tensor(x), torch.tensor(t), reduction=reduction, **_torch_kwargs(kwargs)).numpy()
        np.testing.assert_array_equal(ours, theirs)
    assert np.isnan(getattr(F, fn)(x, t, **kwargs))  # 0 / 0 for 'mean', as in PyTorch


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        ("cross_entropy", {}),
        ("cross_entropy", {"weight": _W5, "label_smoothing": 0.1}),
        ("nll_loss", {}),
    ],
    ids=["ce", "ce-weight-smoothing", "nll"],
)
def test_out_of_range_label_under_jit_gives_nan(fn: str, kwargs: dict[str, Any]) -> None:
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(f32)
    t = np.array([0, 5, -1, -100])  # valid, too large, negative, ignored
    loss_fn = getattr(F, fn)

    @jax.jit
    def run(x: jax.Array, t: jax.Array) -> tuple[jax.Array, ...]:
        none = loss_fn(x, t, reduction="none", **kwargs)
        mean, grad = jax.value_and_grad(lambda a: loss_fn(a, t, **kwargs))(x)
        per_sample = jax.vmap(lambda a, b: loss_fn(a, b, **kwargs))(x, t)  # vmap cannot look either
        return none, mean, loss_fn(x, t, reduction="sum", **kwargs), grad, per_sample

    none, mean, total, grad, per_sample = run(x, t)
    assert np.isfinite(none[0]) and np.isnan(none[1:3]).all() and none[3] == 0.0
    assert np.isnan(mean) and np.isnan(total)
    assert np.isnan(grad[1]).any() and np.isnan(grad[2]).any()  # a NaN gradient too: it cannot go unnoticed
    assert np.isfinite(per_sample[0]) and np.isnan(per_sample[1:]).all()  # alone, an ignored sample is 0 / 0
    with pytest.raises(ValueError, match=r"target holds class index 5, out of range for C=5 classes"):
        loss_fn(x, t, **kwargs)
    with pytest.raises(ValueError, match=r"target holds class index -1, out of range for C=5 classes"):
        loss_fn(x[2:], t[2:], **kwargs)


def test_nonfinite_label_loss_is_visible_in_a_train_step() -> None:
    model = nn.Linear(3, 4)
    params = model.init(jax.random.key(0))
    opt = optax.sgd(0.1)
    criterion = nn.CrossEntropyLoss()
    step = funcnn.train.make_train_step(lambda p, x, y: criterion(model.apply(p, x), y), opt)
    x = jnp.ones((2, 3))
    params, opt_state, loss = step(params, opt.init(params), x, jnp.array([0, 3]))
    assert np.isfinite(loss)
    _, _, loss = step(params, opt_state, x, jnp.array([0, 4]))
    assert np.isnan(loss)


def test_label_dtypes_are_accepted() -> None:
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(f32)
    ref = F.cross_entropy(x, np.array([0, 3, 1], np.int32))
    for dtype in (np.uint8, np.int16, np.int64):
        np.testing.assert_allclose(F.cross_entropy(x, np.array([0, 3, 1], dtype)), ref)


# ------------------------------------------------------------------------------ errors
X34 = np.zeros((3, 4), f32)
T3 = np.array([0, 1, 2])
P01 = np.full((3, 4), 0.5, f32)

ERRORS = [
    # reduction strings, functional
    (
        "mse-reduction",
        lambda: F.mse_loss(X34, X34, reduction="avg"),
        ValueError,
        r"mse_loss: `reduction` must be one of \['none', 'mean', 'sum'\], got 'avg'",
    ),
    (
        "l1-reduction",
        lambda: F.l1_loss(X34, X34, reduction="batchmean"),
        ValueError,
        r"l1_loss: `reduction` must be one of",
    ),
    (
        "smooth-l1-reduction",
        lambda: F.smooth_l1_loss(X34, X34, reduction="avg"),
        ValueError,
        r"smooth_l1_loss: `reduction` must be one of",
    ),
    ("huber-reduction", lambda: F.huber_loss(X34, X34, "avg"), ValueError, r"huber_loss: `reduction` must be one of"),
    (
        "ce-reduction",
        lambda: F.cross_entropy(X34, T3, reduction="avg"),
        ValueError,
        r"cross_entropy: `reduction` must be one of",
    ),
    (
        "nll-reduction",
        lambda: F.nll_loss(X34, T3, reduction="avg"),
        ValueError,
        r"nll_loss: `reduction` must be one of",
    ),
    (
        "bce-reduction",
        lambda: F.binary_cross_entropy(P01, P01, reduction="avg"),
        ValueError,
        r"binary_cross_entropy: `reduction` must be one of",
    ),
    (
        "bcel-reduction",
        lambda: F.binary_cross_entropy_with_logits(X34, X34, reduction="avg"),
        ValueError,
        r"binary_cross_entropy_with_logits: `reduction` must be one of",
    ),
    (
        "kl-reduction",
        lambda: F.kl_div(X34, X34, reduction="avg"),
        ValueError,
        r"kl_div: `reduction` must be one of \['none', 'batchmean', 'mean', 'sum'\], got 'avg'",
    ),
    # shapes of elementwise losses
    (
        "mse-shape",
        lambda: F.mse_loss(X34, np.zeros((3, 1), f32)),
        ValueError,
        r"mse_loss: expected target of the same shape as input \(3, 4\), got target shape \(3, 1\)",
    ),
    ("l1-shape", lambda: F.l1_loss(X34, np.zeros(4, f32)), ValueError, r"l1_loss: expected target of the same shape"),
    (
        "smooth-l1-shape",
        lambda: F.smooth_l1_loss(X34, np.zeros(4, f32)),
        ValueError,
        r"smooth_l1_loss: expected target of the same shape",
    ),
    (
        "huber-shape",
        lambda: F.huber_loss(X34, np.zeros(4, f32)),
        ValueError,
        r"huber_loss: expected target of the same shape",
    ),
    (
        "bce-shape",
        lambda: F.binary_cross_entropy(P01, np.zeros((3, 1), f32)),
        ValueError,
        r"binary_cross_entropy: expected target of the same shape as input \(3, 4\), got target shape \(3, 1\)",
    ),
    (
        "bcel-shape",
        lambda: F.binary_cross_entropy_with_logits(X34, np.zeros(4, f32)),
        ValueError,
        r"binary_cross_entropy_with_logits: expected target of the same shape",
    ),
    ("kl-shape", lambda: F.kl_div(X34, np.zeros(4, f32)), ValueError, r"kl_div: expected target of the same shape"),
    # weights
    (
        "mse-weight-shape",
        lambda: F.mse_loss(X34, X34, weight=np.ones(4, f32)),
        ValueError,
        r"mse_loss: expected `weight` of the same shape as input \(3, 4\), got shape \(4,\)",
    ),
    (
        "huber-weight-shape",
        lambda: F.huber_loss(X34, X34, weight=np.ones(4, f32)),
        ValueError,
        r"huber_loss: expected `weight` of the same shape",
    ),
    (
        "ce-weight-shape",
        lambda: F.cross_entropy(X34, T3, np.ones(3, f32)),
        ValueError,
        r"cross_entropy: expected `weight` of shape \(4,\), one per class, got shape \(3,\)",
    ),
    (
        "nll-weight-shape",
        lambda: F.nll_loss(X34, T3, np.ones((1, 4), f32)),
        ValueError,
        r"nll_loss: expected `weight` of shape \(4,\), one per class, got shape \(1, 4\)",
    ),
    (
        "bce-weight-shape",
        lambda: F.binary_cross_entropy(P01, P01, np.ones((2, 4), f32)),
        ValueError,
        r"binary_cross_entropy: expected `weight` broadcastable to the input shape \(3, 4\), got shape \(2, 4\)",
    ),
    (
        "bce-weight-grows",
        lambda: F.binary_cross_entropy(P01, P01, np.ones((2, 3, 4), f32)),
        ValueError,
        r"expected `weight` broadcastable to the input shape \(3, 4\), got shape \(2, 3, 4\)",
    ),
    (
        "bcel-weight-shape",
        lambda: F.binary_cross_entropy_with_logits(X34, P01, np.ones(3, f32)),
        ValueError,
        r"binary_cross_entropy_with_logits: expected `weight` broadcastable",
    ),
    (
        "bcel-pos-weight-shape",
        lambda: F.binary_cross_entropy_with_logits(X34, P01, pos_weight=np.ones(3, f32)),
        ValueError,
        r"expected `pos_weight` broadcastable to the input shape \(3, 4\), got shape \(3,\)",
    ),
    # dtypes
    (
        "mse-int-input",
        lambda: F.mse_loss(np.zeros(3, np.int32), np.zeros(3, f32)),
        TypeError,
        r"mse_loss: expected a floating-point input, got dtype int32",
    ),
    (
        "ce-int-input",
        lambda: F.cross_entropy(np.zeros((3, 4), np.int32), T3),
        TypeError,
        r"cross_entropy: expected a floating-point input, got dtype int32",
    ),
    (
        "nll-int-input",
        lambda: F.nll_loss(np.zeros((3, 4), np.int32), T3),
        TypeError,
        r"nll_loss: expected a floating-point input",
    ),
    (
        "bce-int-input",
        lambda: F.binary_cross_entropy(np.zeros(3, np.int32), np.zeros(3, f32)),
        TypeError,
        r"binary_cross_entropy: expected a floating-point input",
    ),
    (
        "bcel-int-input",
        lambda: F.binary_cross_entropy_with_logits(np.zeros(3, np.int32), np.zeros(3, f32)),
        TypeError,
        r"binary_cross_entropy_with_logits: expected a floating-point input",
    ),
    (
        "kl-int-input",
        lambda: F.kl_div(np.zeros(3, np.int32), np.zeros(3, f32)),
        TypeError,
        r"kl_div: expected a floating-point input",
    ),
    (
        "ce-float-labels",
        lambda: F.cross_entropy(X34, T3.astype(f32)),
        TypeError,
        r"cross_entropy: expected integer class indices of shape \(3,\) or float probabilities of shape \(3, 4\), got a float32 target of shape \(3,\); convert labels with `target.astype\(jnp.int32\)`",
    ),
    (
        "nll-float-labels",
        lambda: F.nll_loss(X34, T3.astype(f32)),
        TypeError,
        r"nll_loss: expected integer class indices of shape \(3,\), got a float32 target",
    ),
    (
        "ce-int-probs",
        lambda: F.cross_entropy(X34, np.zeros((3, 4), np.int32)),
        TypeError,
        r"cross_entropy: a target of the input's shape \(3, 4\) holds class probabilities and must be floating, got dtype int32",
    ),
    (
        "ce-bool-labels",
        lambda: F.cross_entropy(X34, np.array([True, False, True])),
        TypeError,
        r"expected integer class indices of shape \(3,\) .*got a bool target",
    ),
    # class-index shapes and values
    (
        "ce-scalar-input",
        lambda: F.cross_entropy(np.float32(1.0), np.array(0)),
        ValueError,
        r"cross_entropy: expected input of shape \(C,\), \(N, C\) or \(N, C, d1, ...\), got shape \(\)",
    ),
    (
        "nll-scalar-input",
        lambda: F.nll_loss(np.float32(1.0), np.array(0)),
        ValueError,
        r"nll_loss: expected input of shape \(C,\)",
    ),
    (
        "ce-target-shape",
        lambda: F.cross_entropy(X34, np.array([0, 1])),
        ValueError,
        r"cross_entropy: expected integer class indices of shape \(3,\) or float probabilities of shape \(3, 4\) for input of shape \(3, 4\), got target shape \(2,\)",
    ),
    (
        "ce-target-shape-dims",
        lambda: F.cross_entropy(np.zeros((2, 4, 3), f32), np.zeros((2, 4), np.int32)),
        ValueError,
        r"expected integer class indices of shape \(2, 3\) .*got target shape \(2, 4\)",
    ),
    (
        "ce-float-target-bad-shape",
        lambda: F.cross_entropy(X34, np.zeros((4, 3), f32)),
        ValueError,
        r"cross_entropy: expected integer class indices .* got target shape \(4, 3\)",
    ),
    (
        "nll-target-shape",
        lambda: F.nll_loss(X34, np.zeros((3, 4), np.int32)),
        ValueError,
        r"nll_loss: expected integer class indices of shape \(3,\) for input of shape \(3, 4\), got target shape \(3, 4\)",
    ),
    (
        "ce-label-too-large",
        lambda: F.cross_entropy(X34, np.array([0, 4, 1])),
        ValueError,
        r"cross_entropy: target holds class index 4, out of range for C=4 classes; class indices must lie in \[0, 4\) or equal ignore_index=-100",
    ),
    (
        "ce-label-negative",
        lambda: F.cross_entropy(X34, np.array([0, -1, 1])),
        ValueError,
        r"target holds class index -1, out of range for C=4",
    ),
    (
        "ce-label-not-the-ignore-index",
        lambda: F.cross_entropy(X34, np.array([0, -100, 1]), ignore_index=-1),
        ValueError,
        r"target holds class index -100, .* or equal ignore_index=-1",
    ),
    (
        "nll-label-too-large",
        lambda: F.nll_loss(X34, jnp.array([7, 0, 1])),
        ValueError,
        r"nll_loss: target holds class index 7, out of range for C=4 classes",
    ),
    (
        "ce-label-unbatched",
        lambda: F.cross_entropy(np.zeros(4, f32), np.array(9)),
        ValueError,
        r"target holds class index 9, out of range for C=4",
    ),
    (
        "ce-probs-ignore-index",
        lambda: F.cross_entropy(X34, P01, ignore_index=0),
        ValueError,
        r"cross_entropy: ignore_index=0 is not supported with class-probability targets; leave it at its default -100",
    ),
    # options
    (
        "ce-ignore-index-type",
        lambda: F.cross_entropy(X34, T3, ignore_index=1.0),
        TypeError,
        r"cross_entropy: `ignore_index` must be an int, got 1.0 of type float",
    ),
    (
        "nll-ignore-index-type",
        lambda: F.nll_loss(X34, T3, ignore_index=None),
        TypeError,
        r"nll_loss: `ignore_index` must be an int, got None",
    ),
    (
        "ce-smoothing-range",
        lambda: F.cross_entropy(X34, T3, label_smoothing=1.5),
        ValueError,
        r"cross_entropy: `label_smoothing` must be a probability in \[0, 1\], got 1.5",
    ),
    (
        "smooth-l1-beta-negative",
        lambda: F.smooth_l1_loss(X34, X34, beta=-1.0),
        ValueError,
        r"smooth_l1_loss: `beta` must be >= 0, got -1.0; use beta=0 for the L1 loss",
    ),
    (
        "smooth-l1-beta-type",
        lambda: F.smooth_l1_loss(X34, X34, beta=jnp.ones(())),
        TypeError,
        r"smooth_l1_loss: `beta` must be a Python number, got .* of type ArrayImpl",
    ),
    (
        "huber-delta-zero",
        lambda: F.huber_loss(X34, X34, delta=0.0),
        ValueError,
        r"huber_loss: `delta` must be > 0, got 0.0",
    ),
    (
        "huber-delta-type",
        lambda: F.huber_loss(X34, X34, delta="1"),
        TypeError,
        r"huber_loss: `delta` must be a Python number, got '1' of type str",
    ),
    (
        "kl-log-target-type",
        lambda: F.kl_div(X34, X34, log_target="yes"),
        TypeError,
        r"kl_div: `log_target` must be a bool, got 'yes'",
    ),
    # values
    (
        "bce-input-range",
        lambda: F.binary_cross_entropy(np.array([0.5, 1.5], f32), np.ones(2, f32)),
        ValueError,
        r"binary_cross_entropy: expected input probabilities in \[0, 1\], got a value 1.5; apply sigmoid first, or pass logits to binary_cross_entropy_with_logits",
    ),
    (
        "bce-input-nan",
        lambda: F.binary_cross_entropy(np.array([np.nan], f32), np.ones(1, f32)),
        ValueError,
        r"expected input probabilities in \[0, 1\], got a value nan",
    ),
    # constructors
    (
        "MSELoss-reduction",
        lambda: nn.MSELoss(reduction="avg"),
        ValueError,
        r"MSELoss: `reduction` must be one of \['none', 'mean', 'sum'\], got 'avg'",
    ),
    (
        "L1Loss-reduction",
        lambda: nn.L1Loss(reduction="elementwise_mean"),
        ValueError,
        r"L1Loss: `reduction` must be one of",
    ),
    (
        "SmoothL1Loss-reduction",
        lambda: nn.SmoothL1Loss(reduction="avg"),
        ValueError,
        r"SmoothL1Loss: `reduction` must be one of",
    ),
    ("HuberLoss-reduction", lambda: nn.HuberLoss("avg"), ValueError, r"HuberLoss: `reduction` must be one of"),
    (
        "CrossEntropyLoss-reduction",
        lambda: nn.CrossEntropyLoss(reduction="batchmean"),
        ValueError,
        r"CrossEntropyLoss: `reduction` must be one of \['none', 'mean', 'sum'\]",
    ),
    ("NLLLoss-reduction", lambda: nn.NLLLoss(reduction="avg"), ValueError, r"NLLLoss: `reduction` must be one of"),
    ("BCELoss-reduction", lambda: nn.BCELoss(reduction="avg"), ValueError, r"BCELoss: `reduction` must be one of"),
    (
        "BCEWithLogitsLoss-reduction",
        lambda: nn.BCEWithLogitsLoss(reduction="avg"),
        ValueError,
        r"BCEWithLogitsLoss: `reduction` must be one of",
    ),
    (
        "KLDivLoss-reduction",
        lambda: nn.KLDivLoss(reduction="avg"),
        ValueError,
        r"KLDivLoss: `reduction` must be one of \['none', 'batchmean', 'mean', 'sum'\]",
    ),
    (
        "SmoothL1Loss-beta",
        lambda: nn.SmoothL1Loss(beta=-0.5),
        ValueError,
        r"SmoothL1Loss: `beta` must be >= 0, got -0.5",
    ),
    ("HuberLoss-delta", lambda: nn.HuberLoss(delta=-1), ValueError, r"HuberLoss: `delta` must be > 0, got -1"),
    (
        "HuberLoss-delta-type",
        lambda: nn.HuberLoss(delta=None),
        TypeError,
        r"HuberLoss: `delta` must be a Python number, got None",
    ),
    (
        "CrossEntropyLoss-weight",
        lambda: nn.CrossEntropyLoss(np.ones((2, 2), f32)),
        ValueError,
        r"CrossEntropyLoss: expected `weight` of shape \(C,\), one per class, got shape \(2, 2\)",
    ),
    (
        "NLLLoss-weight",
        lambda: nn.NLLLoss(np.float32(1.0)),
        ValueError,
        r"NLLLoss: expected `weight` of shape \(C,\), one per class, got shape \(\)",
    ),
    (
        "CrossEntropyLoss-ignore-index",
        lambda: nn.CrossEntropyLoss(ignore_index="0"),
        TypeError,
        r"CrossEntropyLoss: `ignore_index` must be an int, got '0' of type str",
    ),
    (
        "NLLLoss-ignore-index",
        lambda: nn.NLLLoss(ignore_index=True),
        TypeError,
        r"NLLLoss: `ignore_index` must be an int, got True of type bool",
    ),
    (
        "CrossEntropyLoss-smoothing",
        lambda: nn.CrossEntropyLoss(label_smoothing=-0.1),
        ValueError,
        r"CrossEntropyLoss: `label_smoothing` must be a probability in \[0, 1\], got -0.1",
    ),
    (
        "KLDivLoss-log-target",
        lambda: nn.KLDivLoss(log_target=1),
        TypeError,
        r"KLDivLoss: `log_target` must be a bool, got 1",
    ),
    # constructors name themselves in call-time errors
    (
        "CrossEntropyLoss-call-shape",
        lambda: nn.CrossEntropyLoss(label_smoothing=0.1)(X34, np.array([0, 1])),
        ValueError,
        r"CrossEntropyLoss\(reduction='mean', label_smoothing=0.1\): expected integer class indices of shape \(3,\)",
    ),
    (
        "CrossEntropyLoss-call-weight",
        lambda: nn.CrossEntropyLoss(np.ones(3, f32))(X34, T3),
        ValueError,
        r"CrossEntropyLoss\(weight=Array\(shape=\(3,\), dtype=float32\), reduction='mean'\): expected `weight` of shape \(4,\)",
    ),
    (
        "NLLLoss-call-label",
        lambda: nn.NLLLoss()(X34, np.array([0, 9, 1])),
        ValueError,
        r"NLLLoss\(reduction='mean'\): target holds class index 9",
    ),
    (
        "MSELoss-call-shape",
        lambda: nn.MSELoss()(X34, np.zeros(4, f32)),
        ValueError,
        r"MSELoss\(reduction='mean'\): expected target of the same shape",
    ),
    (
        "L1Loss-call-dtype",
        lambda: nn.L1Loss()(np.zeros(3, np.int32), np.zeros(3, f32)),
        TypeError,
        r"L1Loss\(reduction='mean'\): expected a floating-point input",
    ),
    (
        "SmoothL1Loss-call-shape",
        lambda: nn.SmoothL1Loss(beta=0.5)(X34, np.zeros(4, f32)),
        ValueError,
        r"SmoothL1Loss\(reduction='mean', beta=0.5\): expected target",
    ),
    (
        "HuberLoss-call-shape",
        lambda: nn.HuberLoss()(X34, np.zeros(4, f32)),
        ValueError,
        r"HuberLoss\(reduction='mean'\): expected target",
    ),
    (
        "BCELoss-call-range",
        lambda: nn.BCELoss()(X34 - 1, X34),
        ValueError,
        r"BCELoss\(reduction='mean'\): expected input probabilities in \[0, 1\], got a value -1.0",
    ),
    (
        "BCEWithLogitsLoss-call-pos-weight",
        lambda: nn.BCEWithLogitsLoss(pos_weight=np.ones(3, f32))(X34, X34),
        ValueError,
        r"BCEWithLogitsLoss\(reduction='mean', pos_weight=Array\(shape=\(3,\), dtype=float32\)\): expected `pos_weight`",
    ),
    (
        "KLDivLoss-call-shape",
        lambda: nn.KLDivLoss(reduction="batchmean")(X34, np.zeros(4, f32)),
        ValueError,
        r"KLDivLoss\(reduction='batchmean'\): expected target",
    ),
]


@pytest.mark.parametrize("call, exc, match", [pytest.param(c, e, m, id=i) for i, c, e, m in ERRORS])
def test_errors(call: Callable[[], Any], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------------ constructors
CTORS = [
    ("MSELoss", nn.MSELoss(reduction="sum"), "mse_loss", {"reduction": "sum"}, "mse"),
    ("L1Loss", nn.L1Loss(), "l1_loss", {}, "l1-ties"),
    ("SmoothL1Loss", nn.SmoothL1Loss(beta=0.5), "smooth_l1_loss", {"beta": 0.5}, "smooth-l1"),
    ("HuberLoss", nn.HuberLoss("none", 0.5), "huber_loss", {"reduction": "none", "delta": 0.5}, "huber"),
    (
        "CrossEntropyLoss",
        nn.CrossEntropyLoss(_W4, ignore_index=-1, label_smoothing=0.2),
        "cross_entropy",
        {"weight": _W4, "ignore_index": -1, "label_smoothing": 0.2},
        "ce-smoothing-weight-ignore-dims",
    ),
    (
        "NLLLoss",
        nn.NLLLoss(_W5, reduction="none"),
        "nll_loss",
        {"weight": _W5, "reduction": "none"},
        "nll-weight-ignore",
    ),
    ("BCELoss", nn.BCELoss(_W3), "binary_cross_entropy", {"weight": _W3}, "bce"),
    (
        "BCEWithLogitsLoss",
        nn.BCEWithLogitsLoss(_W3, pos_weight=2 * _W3),
        "binary_cross_entropy_with_logits",
        {"weight": _W3, "pos_weight": 2 * _W3},
        "bce-logits",
    ),
    (
        "KLDivLoss",
        nn.KLDivLoss(reduction="batchmean", log_target=True),
        "kl_div",
        {"reduction": "batchmean", "log_target": True},
        "kl-log-target",
    ),
]


@pytest.mark.parametrize("criterion, fn, kwargs, case_id", [pytest.param(*c[1:], id=c[0]) for c in CTORS])
def test_constructor_equals_functional(criterion: nn.Module, fn: str, kwargs: dict[str, Any], case_id: str) -> None:
    x, t = _inputs(next(c for c in CASES if c.id == case_id))
    expected = getattr(F, fn)(x, t, **kwargs)
    np.testing.assert_array_equal(criterion(x, t), expected)
    # A loss is also a parameter-free Module.
    assert isinstance(criterion, nn.Module) and criterion.init(jax.random.key(0)) == {}
    np.testing.assert_array_equal(criterion.apply({}, x, t), expected)


@pytest.mark.parametrize(
    "criterion, text",
    [
        (nn.MSELoss(), "MSELoss(reduction='mean')"),
        (nn.L1Loss(reduction="sum"), "L1Loss(reduction='sum')"),
        (nn.SmoothL1Loss(), "SmoothL1Loss(reduction='mean')"),
        (nn.SmoothL1Loss(beta=0.5), "SmoothL1Loss(reduction='mean', beta=0.5)"),
        (nn.HuberLoss(delta=2), "HuberLoss(reduction='mean', delta=2.0)"),
        (nn.CrossEntropyLoss(), "CrossEntropyLoss(reduction='mean')"),
        (nn.CrossEntropyLoss(label_smoothing=0.1), "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"),
        (
            nn.CrossEntropyLoss(_W4, ignore_index=0, reduction="sum"),
            "CrossEntropyLoss(weight=Array(shape=(4,), dtype=float32), ignore_index=0, reduction='sum')",
        ),
        (nn.NLLLoss(ignore_index=-1), "NLLLoss(ignore_index=-1, reduction='mean')"),
        (nn.BCELoss(), "BCELoss(reduction='mean')"),
        (
            nn.BCEWithLogitsLoss(pos_weight=_W3),
            "BCEWithLogitsLoss(reduction='mean', pos_weight=Array(shape=(3,), dtype=float32))",
        ),
        (nn.KLDivLoss(reduction="batchmean", log_target=True), "KLDivLoss(reduction='batchmean', log_target=True)"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_repr(criterion: nn.Module, text: str) -> None:
    assert repr(criterion) == text


def test_constructor_in_a_jitted_train_step() -> None:
    model = nn.Linear(3, 4)
    params = model.init(jax.random.key(0))
    opt = optax.sgd(0.5)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    step = funcnn.train.make_train_step(lambda p, x, y: criterion(model.apply(p, x), y), opt)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(8, 3)), jnp.float32)
    y = jnp.arange(8) % 4
    opt_state = opt.init(params)
    losses = []
    for _ in range(5):
        params, opt_state, loss = step(params, opt_state, x, y)
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    assert step._cache_size() == 1
