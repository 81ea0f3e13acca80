"""Cases for the losses added after `tests/test_loss.py`'s table: each loss module next to torch's.

The generic checks then compare values and gradients (with respect to every float
input: inputs, float targets, variances) with torch, jit with eager, vmap with a
loop, and float64 gradients with finite differences. Every loss runs with
``reduction='none'`` somewhere, and with its non-default flags.

Two adjustments on the torch side, both for checks rather than numbers:

* torch registers a class ``weight`` as a buffer, so it would appear in its
  ``state_dict``; funcnn keeps it as a fixed option (as for `CrossEntropyLoss`), so
  the torch module's buffer is made non-persistent.
* torch's CTC backward returns the gradient for the logits, not for ``log_probs``
  (see `funcnn.nn.functional.loss_ctc`), so CTC runs on logits through
  ``log_softmax`` on both sides, which is how it is trained.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn

f32 = np.float32


def _nonpersistent(module):
    weight = module._buffers.pop("weight")
    module.register_buffer("weight", weight, persistent=False)
    return module


def _normal(*shape, scale=1.0):
    return lambda g: (scale * g.standard_normal(shape)).astype(f32)


def _signs(*shape, dtype=f32):
    return lambda g: np.where(g.standard_normal(shape) > 0, 1, -1).astype(dtype)


def _inputs(*makers):
    return lambda g: tuple(m(g) for m in makers)


_W5 = np.array([0.5, 2.0, 1.0, 1.5, 0.25], f32)


def _multilabel_target(g):
    """(4, 5) label lists ending in -1: rows with 2, 1, 0 and 5 labels."""
    t = np.full((4, 5), -1, np.int64)
    t[0, :2] = g.permutation(5)[:2]
    t[1, 0] = g.integers(5)
    t[2, 1] = 3  # after the first -1: ignored
    t[3] = g.permutation(5)
    return t


def _counts(g):
    # Non-integer counts keep float64 finite differences off the Stirling term's jump at t = 1.
    return g.uniform(0.05, 4.0, size=(3, 4)).astype(f32)


def _triplet(*shape):
    return _inputs(_normal(*shape), _normal(*shape), _normal(*shape))


def _l1_jax(x1, x2):
    return jnp.abs(x1 - x2).sum(-1)


def _l1_torch(x1, x2):
    return (x1 - x2).abs().sum(-1)


# ------------------------------------------------------------------------------ CTC
class _CTCOnLogits(nn.Module):
    def __init__(self, **kwargs):
        self.ctc = nn.CTCLoss(**kwargs)

    def forward(self, params, logits, targets, input_lengths, target_lengths, *, key=None, train=False):
        return self.ctc(jax.nn.log_softmax(logits, -1), targets, input_lengths, target_lengths)


class _TorchCTCOnLogits(torch.nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.ctc = torch.nn.CTCLoss(**kwargs)

    def forward(self, logits, targets, input_lengths, target_lengths):
        return self.ctc(logits.log_softmax(-1), targets, input_lengths, target_lengths)


def _ctc_inputs(concatenated=False, impossible=False, unbatched=False, blank=0):
    """Logits (T=7, N=4, C=5) with target lengths 3, 1, 0, 4 (the last too long for 3 steps if impossible)."""

    def make(g):
        lengths = np.array([3, 1, 0, 4])
        inputs = np.array([7, 6, 2, 3 if impossible else 7])
        targets = g.integers(1, 5, size=(4, 4))
        targets[targets == blank] = 0  # labels are never the blank
        targets[0, :2] = [2, 2]  # a repeated label needs a blank between
        if impossible:
            targets[3] = [1, 1, 2, 2]  # needs 6 steps with its blanks
        logits = g.standard_normal((7, 4, 5)).astype(f32)
        if unbatched:
            return logits[:, 0], targets[0, : lengths[0]], np.array(inputs[0]), np.array(lengths[0])
        if concatenated:
            targets = np.concatenate([targets[n, : lengths[n]] for n in range(4)])
        return logits, targets, inputs, lengths

    return make


def _ctc(name, inputs, **kwargs):
    return LayerCase(f"loss-ctc-{name}", lambda: _CTCOnLogits(**kwargs), lambda: _TorchCTCOnLogits(**kwargs), inputs)


CASES = [
    # regression / likelihood
    LayerCase("loss-poisson", nn.PoissonNLLLoss, torch.nn.PoissonNLLLoss, _inputs(_normal(3, 4), _counts)),
    LayerCase(
        "loss-poisson-rates-full-none",
        lambda: nn.PoissonNLLLoss(False, True, eps=1e-3, reduction="none"),
        lambda: torch.nn.PoissonNLLLoss(False, True, eps=1e-3, reduction="none"),
        _inputs(lambda g: g.uniform(0.1, 3.0, size=(3, 4)).astype(f32), _counts),
    ),
    LayerCase(
        "loss-gaussian",
        nn.GaussianNLLLoss,
        torch.nn.GaussianNLLLoss,
        _inputs(_normal(4, 3), _normal(4, 3), lambda g: g.uniform(0.2, 2.0, size=(4, 3)).astype(f32)),
    ),
    LayerCase(
        "loss-gaussian-var-per-sample-full-sum",
        lambda: nn.GaussianNLLLoss(full=True, reduction="sum"),
        lambda: torch.nn.GaussianNLLLoss(full=True, reduction="sum"),
        _inputs(_normal(4, 3), _normal(4, 3), lambda g: g.uniform(0.2, 2.0, size=(4,)).astype(f32)),
    ),
    LayerCase(
        "loss-gaussian-var-size1-none",
        lambda: nn.GaussianNLLLoss(reduction="none"),
        lambda: torch.nn.GaussianNLLLoss(reduction="none"),
        _inputs(_normal(2, 3, 5), _normal(2, 3, 5), lambda g: g.uniform(0.2, 2.0, size=(2, 1, 5)).astype(f32)),
    ),
    # Variances below eps are clamped, and (as in torch) the clamp passes the gradient
    # through unchanged: a deliberate non-derivative, so finite differences cannot agree.
    LayerCase(
        "loss-gaussian-var-clamped",
        lambda: nn.GaussianNLLLoss(eps=0.1, reduction="none"),
        lambda: torch.nn.GaussianNLLLoss(eps=0.1, reduction="none"),
        _inputs(_normal(3, 4), _normal(3, 4), lambda g: g.uniform(0.01, 0.3, size=(3, 4)).astype(f32)),
        grad_check=False,
    ),
    # pairwise margins
    LayerCase(
        "loss-margin-ranking",
        lambda: nn.MarginRankingLoss(0.3),
        lambda: torch.nn.MarginRankingLoss(0.3),
        _inputs(_normal(7), _normal(7), _signs(7)),
    ),
    LayerCase(
        "loss-margin-ranking-none",
        lambda: nn.MarginRankingLoss(reduction="none"),
        lambda: torch.nn.MarginRankingLoss(reduction="none"),
        _inputs(_normal(7), _normal(7), _signs(7)),
    ),
    LayerCase(
        "loss-hinge-embedding",
        lambda: nn.HingeEmbeddingLoss(0.7),
        lambda: torch.nn.HingeEmbeddingLoss(0.7),
        _inputs(_normal(3, 5), _signs(3, 5)),
        diff_argnums=(0,),
    ),
    LayerCase(
        "loss-hinge-embedding-none-int-target",
        lambda: nn.HingeEmbeddingLoss(reduction="none"),
        lambda: torch.nn.HingeEmbeddingLoss(reduction="none"),
        _inputs(_normal(3, 5, scale=2.0), _signs(3, 5, dtype=np.int64)),
    ),
    LayerCase(
        "loss-soft-margin",
        nn.SoftMarginLoss,
        torch.nn.SoftMarginLoss,
        _inputs(_normal(3, 5, scale=3.0), _signs(3, 5)),
        diff_argnums=(0,),  # torch refuses a gradient for the target here
    ),
    LayerCase(
        "loss-cosine-embedding",
        lambda: nn.CosineEmbeddingLoss(0.2),
        lambda: torch.nn.CosineEmbeddingLoss(0.2),
        _inputs(_normal(6, 3), _normal(6, 3), _signs(6, dtype=np.int64)),
    ),
    LayerCase(
        "loss-cosine-embedding-unbatched-none",
        lambda: nn.CosineEmbeddingLoss(-0.5, reduction="none"),
        lambda: torch.nn.CosineEmbeddingLoss(-0.5, reduction="none"),
        _inputs(_normal(5), _normal(5), lambda g: np.array(-1, np.int64)),
    ),
    # class-score margins
    LayerCase(
        "loss-multi-margin",
        nn.MultiMarginLoss,
        torch.nn.MultiMarginLoss,
        _inputs(_normal(4, 5), lambda g: g.integers(0, 5, size=4)),
    ),
    LayerCase(
        "loss-multi-margin-p2-weight-none",
        lambda: nn.MultiMarginLoss(2, 0.6, _W5, reduction="none"),
        lambda: _nonpersistent(torch.nn.MultiMarginLoss(2, 0.6, torch.tensor(_W5), reduction="none")),
        _inputs(_normal(4, 5), lambda g: g.integers(0, 5, size=4)),
    ),
    LayerCase(
        "loss-multi-margin-unbatched",
        lambda: nn.MultiMarginLoss(margin=2.0),
        lambda: torch.nn.MultiMarginLoss(margin=2.0),
        _inputs(_normal(5), lambda g: np.array(g.integers(0, 5))),
    ),
    LayerCase(
        "loss-multilabel-margin",
        nn.MultiLabelMarginLoss,
        torch.nn.MultiLabelMarginLoss,
        _inputs(_normal(4, 5), _multilabel_target),
    ),
    LayerCase(
        "loss-multilabel-margin-none-unbatched",
        lambda: nn.MultiLabelMarginLoss(reduction="none"),
        lambda: torch.nn.MultiLabelMarginLoss(reduction="none"),
        _inputs(_normal(5), lambda g: np.array([4, 1, -1, 0, 2])),
    ),
    LayerCase(
        "loss-multilabel-soft-margin",
        nn.MultiLabelSoftMarginLoss,
        torch.nn.MultiLabelSoftMarginLoss,
        _inputs(_normal(4, 5, scale=2.0), lambda g: g.integers(0, 2, size=(4, 5)).astype(f32)),
    ),
    LayerCase(
        "loss-multilabel-soft-margin-weight-none",
        lambda: nn.MultiLabelSoftMarginLoss(_W5, reduction="none"),
        lambda: _nonpersistent(torch.nn.MultiLabelSoftMarginLoss(torch.tensor(_W5), reduction="none")),
        _inputs(_normal(4, 5, scale=2.0), lambda g: g.uniform(size=(4, 5)).astype(f32)),
    ),
    # triplets
    LayerCase("loss-triplet", nn.TripletMarginLoss, torch.nn.TripletMarginLoss, _triplet(5, 3)),
    LayerCase(
        "loss-triplet-p1-swap-none",
        lambda: nn.TripletMarginLoss(0.5, 1.0, 1e-3, True, reduction="none"),
        lambda: torch.nn.TripletMarginLoss(0.5, 1.0, 1e-3, True, reduction="none"),
        _triplet(5, 3),
    ),
    LayerCase(
        "loss-triplet-p3-unbatched",
        lambda: nn.TripletMarginLoss(margin=3.0, p=3),
        lambda: torch.nn.TripletMarginLoss(margin=3.0, p=3),
        _triplet(4),
    ),
    LayerCase(
        "loss-triplet-distance-default-swap",
        lambda: nn.TripletMarginWithDistanceLoss(swap=True, reduction="sum"),
        lambda: torch.nn.TripletMarginWithDistanceLoss(swap=True, reduction="sum"),
        _triplet(5, 3),
    ),
    LayerCase(
        "loss-triplet-distance-l1-none",
        lambda: nn.TripletMarginWithDistanceLoss(distance_function=_l1_jax, margin=2.0, reduction="none"),
        lambda: torch.nn.TripletMarginWithDistanceLoss(distance_function=_l1_torch, margin=2.0, reduction="none"),
        _triplet(5, 3),
    ),
    # CTC
    _ctc("mean", _ctc_inputs()),
    _ctc("sum-concatenated-blank4", _ctc_inputs(concatenated=True, blank=4), blank=4, reduction="sum"),
    _ctc("zero-infinity-none", _ctc_inputs(impossible=True), zero_infinity=True, reduction="none"),
    _ctc("unbatched", _ctc_inputs(unbatched=True)),
    # a loss with parameters
    LayerCase(
        "loss-linear-cross-entropy",
        lambda: nn.LinearCrossEntropyLoss(5, 7, bias=True),
        lambda: torch.nn.LinearCrossEntropyLoss(5, 7, bias=True),
        _inputs(_normal(4, 5), lambda g: g.integers(0, 7, size=4)),
        tol="accum",
    ),
    LayerCase(
        "loss-linear-cross-entropy-kdim-smoothing-none",
        lambda: nn.LinearCrossEntropyLoss(5, 3, out_features=(2, 3), label_smoothing=0.1, reduction="none"),
        lambda: torch.nn.LinearCrossEntropyLoss(5, 3, out_features=(2, 3), label_smoothing=0.1, reduction="none"),
        _inputs(_normal(4, 5), lambda g: g.integers(0, 3, size=(4, 2, 3))),
        tol="accum",
    ),
    LayerCase(
        "loss-linear-cross-entropy-probs-weight",
        lambda: nn.LinearCrossEntropyLoss(5, 4, weight=_W5[:4], reduction="sum"),
        lambda: _nonpersistent(torch.nn.LinearCrossEntropyLoss(5, 4, weight=torch.tensor(_W5[:4]), reduction="sum")),
        _inputs(_normal(3, 5), lambda g: g.dirichlet(np.ones(4), size=3).astype(f32)),
        tol="accum",
    ),
    LayerCase(
        "loss-linear-cross-entropy-chunked-ignore-weight",
        lambda: nn.LinearCrossEntropyLoss(
            5, 7, bias=True, weight=np.linspace(0.5, 2.0, 7, dtype=f32), ignore_index=2,
            options=nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None),
        ),
        lambda: _nonpersistent(
            torch.nn.LinearCrossEntropyLoss(
                5, 7, bias=True, weight=torch.linspace(0.5, 2.0, 7), ignore_index=2,
                options=torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None),
            )
        ),
        _inputs(_normal(5, 5), lambda g: np.array([0, 2, 6, 3, 2])),
        tol="accum",
    ),
]  # fmt: skip
