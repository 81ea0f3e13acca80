"""The losses added beside `tests/test_loss.py`'s: functional forms called as torch's, every
reduction, constructor ``repr``, and the behaviours the layer harness
(`tests/cases/loss.py`) cannot see: CTC's target formats and ``'mean'``, Gaussian
variance shapes, `LinearCrossEntropyOptions`' chunk sizes, `NLLLoss2d`'s warning.

Error messages are in `tests/test_error_messages.py`.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import funcnn.nn.functional as F
from funcnn import nn

f32 = np.float32
R = np.random.default_rng(0)
X35, Y35, Z35 = (R.normal(size=(3, 5)).astype(f32) for _ in range(3))
S35 = np.where(R.normal(size=(3, 5)) > 0, 1.0, -1.0).astype(f32)
S3 = S35[:, 0].copy()
V3 = R.normal(size=3).astype(f32)
T3 = np.array([4, 0, 2])
ML = np.array([[1, 3, -1, 0, 0], [4, -1, 2, 2, 2], [0, 1, 2, 3, 4]])
W5 = np.linspace(0.5, 2.0, 5, dtype=f32)
COUNTS = R.uniform(0.0, 4.0, size=(3, 5)).astype(f32)

# (id, function name, positional args as torch takes them, keyword args); arrays go to both libraries.
FUNCTIONAL: list[tuple[str, str, tuple, dict[str, Any]]] = [
    ("poisson", "poisson_nll_loss", (X35, COUNTS), {}),
    ("poisson-rates-full", "poisson_nll_loss", (np.abs(X35), COUNTS, False, True), {"eps": 1e-4}),
    ("gaussian-float-var", "gaussian_nll_loss", (X35, Y35, 0.5), {}),
    ("gaussian-full", "gaussian_nll_loss", (X35, Y35, np.abs(Z35), True, 1e-3), {}),
    ("margin-ranking", "margin_ranking_loss", (V3, V3[::-1].copy(), S3, 0.2), {}),
    ("hinge", "hinge_embedding_loss", (X35, S35, 0.5), {}),
    ("hinge-other-labels", "hinge_embedding_loss", (X35, np.round(Z35)), {}),
    ("soft-margin", "soft_margin_loss", (X35, S35), {}),
    ("cosine", "cosine_embedding_loss", (X35, Y35, S3, 0.1), {}),
    ("cosine-zero-vector", "cosine_embedding_loss", (np.zeros((3, 5), f32), Y35, S3), {}),
    ("multilabel-soft", "multilabel_soft_margin_loss", (X35, (S35 > 0).astype(f32), W5), {}),
    ("multi-margin", "multi_margin_loss", (X35, T3, 2, 0.5, W5), {}),
    ("multilabel-margin", "multilabel_margin_loss", (X35, ML), {}),
    ("triplet", "triplet_margin_loss", (X35, Y35, Z35, 0.5, 1.5, 1e-4, True), {}),
    ("triplet-inf-norm", "triplet_margin_loss", (X35, Y35, Z35), {"p": float("inf")}),
    ("triplet-distance", "triplet_margin_with_distance_loss", (X35, Y35, Z35), {"margin": 0.3, "swap": True}),
]


def _to_torch(v: Any) -> Any:
    return torch.from_numpy(v) if isinstance(v, np.ndarray) else v


@pytest.mark.parametrize("name, args, kwargs", [c[1:] for c in FUNCTIONAL], ids=[c[0] for c in FUNCTIONAL])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_functional_matches_torch_for_every_reduction(name: str, args: tuple, kwargs: dict, reduction: str) -> None:
    ours = getattr(F, name)(*args, **kwargs, reduction=reduction)
    theirs = getattr(TF, name)(*[_to_torch(a) for a in args], **kwargs, reduction=reduction)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == jnp.float32
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_linear_cross_entropy_functional_matches_torch() -> None:
    x, w, b = X35, R.normal(size=(4, 2, 5)).astype(f32), R.normal(size=(4, 2)).astype(f32)
    t = R.integers(0, 4, size=(3, 2))
    for kwargs in ({}, {"ignore_index": 1, "label_smoothing": 0.2}, {"weight": W5[:4], "reduction": "none"}):
        ours = F.linear_cross_entropy(x, w, t, linear_bias=b, **kwargs)
        tkw = {k: _to_torch(v) for k, v in kwargs.items()}
        theirs = TF.linear_cross_entropy(
            torch.tensor(x), torch.tensor(w), torch.tensor(t), linear_bias=torch.tensor(b), **tkw
        )
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-5)
    # unbatched, chunked: a scalar target
    w2 = w[:, 0]
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=1, chunking_method=None)
    for reduction in ("none", "mean"):
        ours = F.linear_cross_entropy(x[0], w2, np.array(3), reduction=reduction, options=opts)
        theirs = TF.linear_cross_entropy(torch.tensor(x[0]), torch.tensor(w2), torch.tensor(3), reduction=reduction)
        assert ours.shape == ()
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5)


@pytest.mark.parametrize("n, d, c", [(64, 8, 32), (7, 3, 100), (1000, 16, 50000), (5, 50, 10)])
@pytest.mark.parametrize("method", ["auto", "aspect_ratio", "aspect_ratio:4"])
def test_chunk_size_rule_matches_torch(n: int, d: int, c: int, method: str) -> None:
    ours = nn.LinearCrossEntropyOptions(chunking_method=method).chunk_size(n, d, c)
    theirs = torch.nn.LinearCrossEntropyOptions(chunking_method=method)._adjust(n, d, c, torch.float32, None)
    assert ours == theirs.batch_chunk_size


def test_chunked_linear_cross_entropy_equals_reference_under_jit() -> None:
    x, w = R.normal(size=(11, 6)).astype(f32), R.normal(size=(9, 6)).astype(f32)
    t = np.array([0, 8, -100, 3, 3, 1, 2, 5, -100, 7, 6])
    ref = jax.grad(lambda a, b: F.linear_cross_entropy(a, b, t), argnums=(0, 1))(x, w)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=4, chunking_method=None)
    fn = jax.jit(jax.value_and_grad(lambda a, b: F.linear_cross_entropy(a, b, t, options=opts), argnums=(0, 1)))
    loss, grads = fn(x, w)
    np.testing.assert_allclose(loss, F.linear_cross_entropy(x, w, t), rtol=1e-6)
    for g, r in zip(grads, ref):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_linear_cross_entropy_state_dict_keys_and_repr_match_torch() -> None:
    ours, theirs = (
        nn.LinearCrossEntropyLoss(5, 4, out_features=(3,), bias=True),
        torch.nn.LinearCrossEntropyLoss(5, 4, out_features=(3,), bias=True),
    )
    params = ours.init(jax.random.key(0))
    assert {f"linear.{k}": v.shape for k, v in params["linear"].items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------------------ CTC
def _ctc_batch() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r = np.random.default_rng(5)
    log_probs = np.asarray(jax.nn.log_softmax(r.normal(size=(9, 3, 6)), axis=2), f32)
    targets = r.integers(1, 6, size=(3, 5))
    return log_probs, targets, np.array([9, 8, 6]), np.array([5, 2, 3])


def test_ctc_concatenated_equals_padded_also_under_jit() -> None:
    lp, padded, il, tl = _ctc_batch()
    cat = np.concatenate([padded[n, : tl[n]] for n in range(3)])
    want = F.ctc_loss(lp, padded, il, tl, reduction="none")
    np.testing.assert_allclose(F.ctc_loss(lp, cat, il, tl, reduction="none"), want, rtol=1e-6)
    jitted = jax.jit(lambda *a: F.ctc_loss(*a, reduction="none"))(lp, cat, il, tl)  # lengths traced
    np.testing.assert_allclose(jitted, want, rtol=1e-6)
    theirs = TF.ctc_loss(*map(torch.tensor, (lp, cat, il, tl)), reduction="none")
    np.testing.assert_allclose(want, theirs.numpy(), rtol=1e-5)


def test_ctc_mean_divides_each_loss_by_its_target_length() -> None:
    lp, padded, il, tl = _ctc_batch()
    tl = np.array([5, 0, 3])
    per = F.ctc_loss(lp, padded, il, tl, reduction="none")
    np.testing.assert_allclose(F.ctc_loss(lp, padded, il, tl), np.mean(per / np.maximum(tl, 1)), rtol=1e-6)
    theirs = TF.ctc_loss(*map(torch.tensor, (lp, padded, il, tl)))
    np.testing.assert_allclose(F.ctc_loss(lp, padded, il, tl), theirs.numpy(), rtol=1e-5)


def test_ctc_impossible_alignment_is_inf_or_zero_with_finite_gradients() -> None:
    lp, padded, il, tl = _ctc_batch()
    il = np.array([9, 8, 2])  # 3 labels cannot fit in 2 steps
    assert np.isinf(F.ctc_loss(lp, padded, il, tl, reduction="none")[2])
    grad = jax.grad(lambda a: F.ctc_loss(a, padded, il, tl, zero_infinity=True))(jnp.asarray(lp))
    assert np.isfinite(np.asarray(grad)).all() and np.all(np.asarray(grad)[:, 2] == 0)


def test_ctc_loss_trains_in_a_jitted_step() -> None:
    lp, padded, il, tl = _ctc_batch()
    logits = jnp.zeros((9, 3, 6))
    loss_fn = jax.jit(jax.value_and_grad(lambda z: nn.CTCLoss()(jax.nn.log_softmax(z, 2), padded, il, tl)))
    first, _ = loss_fn(logits)
    for _ in range(20):
        loss, g = loss_fn(logits)
        logits = logits - 5.0 * g
    assert loss < 0.5 * first
    assert loss_fn._cache_size() == 1


# ---------------------------------------------------------------------- Gaussian var
@pytest.mark.parametrize("var_shape", [(3, 5), (3,), (3, 1), (1, 5)], ids=str)
def test_gaussian_var_shapes_follow_torch(var_shape: tuple[int, ...]) -> None:
    var = np.abs(R.normal(size=var_shape)).astype(f32) + 0.1
    ours = F.gaussian_nll_loss(X35, Y35, var, reduction="none")
    theirs = TF.gaussian_nll_loss(torch.tensor(X35), torch.tensor(Y35), torch.tensor(var), reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6)


def test_gaussian_clamped_var_gets_torch_gradient() -> None:
    var = np.array([1e-9, 0.5, 2.0], f32)
    g = jax.grad(lambda v: F.gaussian_nll_loss(X35[0, :3], Y35[0, :3], v, eps=0.1))(var)
    tv = torch.tensor(var, requires_grad=True)
    TF.gaussian_nll_loss(torch.tensor(X35[0, :3]), torch.tensor(Y35[0, :3]), tv, eps=0.1).backward()
    np.testing.assert_allclose(g, tv.grad.numpy(), rtol=1e-5)


# ---------------------------------------------------------------------- constructors
CTORS: list[tuple[str, Callable[[], Any], Callable[..., Any], tuple]] = [
    ("PoissonNLLLoss", lambda: nn.PoissonNLLLoss(False, eps=1e-3), lambda *a: F.poisson_nll_loss(*a, False, eps=1e-3), (np.abs(X35), COUNTS)),
    ("GaussianNLLLoss", lambda: nn.GaussianNLLLoss(full=True), lambda *a: F.gaussian_nll_loss(*a, full=True), (X35, Y35, np.abs(Z35))),
    ("MarginRankingLoss", lambda: nn.MarginRankingLoss(0.1), lambda *a: F.margin_ranking_loss(*a, 0.1), (V3, V3, S3)),
    ("HingeEmbeddingLoss", lambda: nn.HingeEmbeddingLoss(2.0), lambda *a: F.hinge_embedding_loss(*a, 2.0), (X35, S35)),
    ("SoftMarginLoss", lambda: nn.SoftMarginLoss(reduction="sum"), lambda *a: F.soft_margin_loss(*a, reduction="sum"), (X35, S35)),
    ("CosineEmbeddingLoss", lambda: nn.CosineEmbeddingLoss(0.3), lambda *a: F.cosine_embedding_loss(*a, 0.3), (X35, Y35, S3)),
    ("MultiLabelMarginLoss", nn.MultiLabelMarginLoss, F.multilabel_margin_loss, (X35, ML)),
    ("MultiLabelSoftMarginLoss", lambda: nn.MultiLabelSoftMarginLoss(W5), lambda *a: F.multilabel_soft_margin_loss(*a, W5), (X35, S35 > 0)),
    ("MultiMarginLoss", lambda: nn.MultiMarginLoss(2, 0.5, W5), lambda *a: F.multi_margin_loss(*a, 2, 0.5, W5), (X35, T3)),
    ("TripletMarginLoss", lambda: nn.TripletMarginLoss(p=1), lambda *a: F.triplet_margin_loss(*a, p=1), (X35, Y35, Z35)),
    (
        "TripletMarginWithDistanceLoss",
        lambda: nn.TripletMarginWithDistanceLoss(swap=True),
        lambda *a: F.triplet_margin_with_distance_loss(*a, swap=True),
        (X35, Y35, Z35),
    ),
    ("CTCLoss", lambda: nn.CTCLoss(reduction="sum"), lambda *a: F.ctc_loss(*a, reduction="sum"), _ctc_batch()),
]  # fmt: skip


@pytest.mark.parametrize("make, fn, args", [c[1:] for c in CTORS], ids=[c[0] for c in CTORS])
def test_constructor_equals_functional(make: Callable[[], Any], fn: Callable[..., Any], args: tuple) -> None:
    criterion = make()
    np.testing.assert_array_equal(criterion(*args), fn(*args))
    assert criterion.init(jax.random.key(0)) == {}
    np.testing.assert_array_equal(criterion.apply({}, *args), fn(*args))


@pytest.mark.parametrize(
    "criterion, text",
    [
        (nn.PoissonNLLLoss(), "PoissonNLLLoss(reduction='mean')"),
        (
            nn.PoissonNLLLoss(False, True, eps=0.1),
            "PoissonNLLLoss(log_input=False, full=True, eps=0.1, reduction='mean')",
        ),
        (nn.GaussianNLLLoss(reduction="sum"), "GaussianNLLLoss(reduction='sum')"),
        (nn.MarginRankingLoss(0.5), "MarginRankingLoss(margin=0.5, reduction='mean')"),
        (
            nn.MultiMarginLoss(2, weight=W5),
            "MultiMarginLoss(p=2, weight=Array(shape=(5,), dtype=float32), reduction='mean')",
        ),
        (nn.TripletMarginLoss(swap=True), "TripletMarginLoss(swap=True, reduction='mean')"),
        (nn.CTCLoss(3, "none", True), "CTCLoss(blank=3, reduction='none', zero_infinity=True)"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_repr(criterion: nn.Module, text: str) -> None:
    assert repr(criterion) == text


def test_nllloss2d_is_nllloss_and_warns_like_torch() -> None:
    with pytest.warns(FutureWarning, match=r"NLLLoss2d has been deprecated \(as in PyTorch\); use NLLLoss"):
        criterion = nn.NLLLoss2d(W5[:3], ignore_index=1)
    x = np.asarray(jax.nn.log_softmax(R.normal(size=(2, 3, 4, 4)), axis=1), f32)
    t = R.integers(0, 3, size=(2, 4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = torch.nn.NLLLoss2d(torch.tensor(W5[:3]), ignore_index=1)(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(criterion(x, t), theirs.numpy(), rtol=1e-5)
