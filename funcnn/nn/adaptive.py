"""`AdaptiveLogSoftmaxWithLoss`: the efficient softmax of Grave et al. for large vocabularies.

Classes ``[0, cutoffs[0])`` (the shortlist) are scored by the ``head`` directly; every
later range ``[cutoffs[i], cutoffs[i + 1])`` is a cluster, scored in the head by one
logit and inside the cluster by a small two-layer projection ``tail.i`` whose hidden
size shrinks by ``div_value`` per cluster. Parameters have PyTorch's keys:
``head.weight (shortlist + clusters, in_features)`` (``head.bias`` with ``head_bias``),
``tail.<i>.0.weight (in_features // div_value**(i + 1), in_features)`` and
``tail.<i>.1.weight (cluster size, hidden)``, initialised as PyTorch's ``Linear``.

Every cluster is evaluated for every row (one compiled program, no data-dependent
shapes); rows outside a cluster take no value or gradient from it, so outputs and
gradients equal PyTorch's.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn
  >>> from funcnn import nn
  >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 10, cutoffs=[4, 8], div_value=2.0)
  >>> params = asm.init(jax.random.key(0))
  >>> {k: v.shape for k, v in funcnn.state_dict(params).items()}
  {'head.weight': (6, 16), 'tail.0.0.weight': (8, 16), 'tail.0.1.weight': (4, 8), 'tail.1.0.weight': (4, 16), 'tail.1.1.weight': (2, 4)}
  >>> x, target = jnp.ones((3, 16)), jnp.array([0, 5, 9])
  >>> output, loss = asm.apply(params, x, target)
  >>> output.shape, loss.shape
  ((3,), ())
  >>> bool(jnp.allclose(jax.nn.logsumexp(asm.log_prob(params, x), axis=1), 0.0, atol=1e-5))
  True
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ._checks import check_floating, check_positive, shape_of
from .container import ModuleList, Sequential
from .functional.activation import log_softmax
from .functional.linear import linear
from .linear import Linear
from .module import Module, Params


class _ASMoutput(NamedTuple):
    """``(output, loss)``: the target's log-probability per row and the mean negative log-likelihood."""

    output: jax.Array
    loss: jax.Array


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: a head over frequent classes and clusters, and a small tail per cluster.

    Args:
      in_features: features of the input.
      n_classes: number of classes.
      cutoffs: increasing ints in ``[1, n_classes - 1]`` splitting the classes into the
        shortlist and the clusters.
      div_value: each cluster's hidden size is ``in_features // div_value**(i + 1)``.
      head_bias: give the head a bias.
      dtype: parameter dtype.

    ``apply(params, input, target)``: ``input`` ``(N, in_features)`` with integer
    ``target`` ``(N,)``, or unbatched ``(in_features,)`` with a scalar target. Returns
    ``(output, loss)`` (a named tuple, as PyTorch's): ``output`` ``(N,)`` (unbatched: a
    scalar), the log-probability of each target, and ``loss``, the mean of ``-output``.
    Targets outside ``[0, n_classes)`` raise in an eager call; under ``jit`` their
    output is NaN. See also `log_prob` and `predict`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 6, cutoffs=[2], head_bias=True)
      >>> params = asm.init(jax.random.key(1))
      >>> asm.predict(params, jnp.ones((4, 8))).shape
      (4,)
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Sequence[int],
        div_value: float = 4.0,
        head_bias: bool = False,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        owner = "AdaptiveLogSoftmaxWithLoss"
        check_positive(owner, "in_features", in_features)
        check_positive(owner, "n_classes", n_classes)
        cuts = list(cutoffs) if isinstance(cutoffs, Sequence) else None
        if (
            not cuts
            or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in cuts)
            or cuts != sorted(set(cuts))
            or cuts[0] <= 0
            or cuts[-1] > n_classes - 1
        ):
            raise ValueError(
                f"{owner}: `cutoffs` must be a non-empty sequence of unique, increasing integers in "
                f"[1, n_classes - 1] = [1, {n_classes - 1}], got {cutoffs!r}"
            )
        if isinstance(div_value, bool) or not isinstance(div_value, (int, float)) or div_value <= 0:
            raise ValueError(f"{owner}: `div_value` must be a positive number, got {div_value!r}")
        self.in_features, self.n_classes, self.div_value, self.head_bias = in_features, n_classes, div_value, head_bias
        self.cutoffs = [int(c) for c in cuts] + [n_classes]
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        tails = []
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            if hidden < 1:
                raise ValueError(
                    f"{owner}: cluster {i} gets hidden size in_features // div_value**{i + 1} = {hidden}; "
                    f"use a smaller div_value or fewer cutoffs"
                )
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            tails.append(
                Sequential(
                    Linear(in_features, hidden, bias=False, dtype=dtype), Linear(hidden, size, bias=False, dtype=dtype)
                )
            )
        self.tail = ModuleList(tails)
        self._owner = f"{owner}(in_features={in_features}, n_classes={n_classes}, cutoffs={self.cutoffs[:-1]})"

    def _head(self, params: Params, x: jax.Array) -> jax.Array:
        return log_softmax(linear(x, params["head"]["weight"], params["head"].get("bias")), dim=-1)

    def _cluster(self, params: Params, x: jax.Array, i: int) -> jax.Array:
        t = params["tail"][str(i)]
        return log_softmax(linear(linear(x, t["0"]["weight"]), t["1"]["weight"]), dim=-1)

    def _check_input(self, input: ArrayLike, ndims: tuple[int, ...]) -> jax.Array:
        check_floating(self._owner, input)
        shape = shape_of(input)
        if len(shape) not in ndims or shape[-1] != self.in_features:
            want = " or ".join(["(in_features,)", "(N, in_features)"][n - 1] for n in ndims)
            raise ValueError(
                f"{self._owner}: expected an input of shape {want} with in_features={self.in_features}, got shape {shape}"
            )
        return jnp.asarray(input)

    def forward(
        self, params: Params, input: ArrayLike, target: ArrayLike, *, key: Any = None, train: bool = False
    ) -> _ASMoutput:
        x = self._check_input(input, (1, 2))
        ts = shape_of(target)
        if not jnp.issubdtype(jnp.result_type(target), jnp.integer):
            raise TypeError(
                f"{self._owner}: expected integer class indices as target, got dtype {jnp.result_type(target)}; "
                f"convert them with `target.astype(jnp.int32)`"
            )
        if ts != x.shape[:-1]:
            raise ValueError(
                f"{self._owner}: expected a target of shape {x.shape[:-1]} (one class per input row), got shape {ts}"
            )
        if not isinstance(target, jax.core.Tracer):
            t = np.asarray(target)
            if t.size and (t.min() < 0 or t.max() >= self.n_classes):
                raise ValueError(
                    f"{self._owner}: target values must lie in [0, {self.n_classes - 1}], got values in "
                    f"[{int(t.min())}, {int(t.max())}]"
                )
        unbatched = x.ndim == 1
        x, t = (x[None], jnp.asarray(target)[None]) if unbatched else (x, jnp.asarray(target))
        output = jnp.zeros(t.shape, x.dtype)
        gather = t
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            inside = (t >= low) & (t < high)
            local = jnp.take_along_axis(self._cluster(params, x, i), jnp.clip(t - low, 0, high - low - 1)[:, None], 1)
            output = jnp.where(inside, local[:, 0], output)
            gather = jnp.where(inside, self.shortlist_size + i, gather)
        valid = (t >= 0) & (t < self.n_classes)
        head = jnp.take_along_axis(self._head(params, x), jnp.clip(gather, 0, self.head_size - 1)[:, None], 1)[:, 0]
        output = jnp.where(valid, output + head, jnp.array(jnp.nan, x.dtype))
        loss = jnp.mean(-output)
        return _ASMoutput(output[0] if unbatched else output, loss)

    def log_prob(self, params: Params, input: ArrayLike) -> jax.Array:
        """Log-probabilities of all ``n_classes`` classes.

        Args:
          params: the tree returned by `init`.
          input: ``(N, in_features)`` floating array.

        Returns:
          ``(N, n_classes)``.

        Examples:
          >>> import jax, jax.numpy as jnp
          >>> from funcnn import nn
          >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[2, 4])
          >>> asm.log_prob(asm.init(jax.random.key(0)), jnp.ones((3, 16))).shape
          (3, 6)
        """
        x = self._check_input(input, (2,))
        head = self._head(params, x)
        parts = [head[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            parts.append(self._cluster(params, x, i) + head[:, self.shortlist_size + i, None])
        return jnp.concatenate(parts, axis=1)

    def predict(self, params: Params, input: ArrayLike) -> jax.Array:
        """The most probable class of each row (``log_prob(...).argmax(1)``, ties as PyTorch breaks them).

        Args:
          params: the tree returned by `init`.
          input: ``(N, in_features)`` floating array.

        Returns:
          ``(N,)`` integer classes.

        Examples:
          >>> import jax, jax.numpy as jnp
          >>> from funcnn import nn
          >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[2, 4])
          >>> asm.predict(asm.init(jax.random.key(0)), jnp.ones((3, 16))).shape
          (3,)
        """
        x = self._check_input(input, (2,))
        best_head = jnp.argmax(self._head(params, x), axis=1)
        best = jnp.argmax(self.log_prob(params, x), axis=1)
        # A shortlist class that wins the head wins overall; PyTorch returns it without the full scores.
        return jnp.where(best_head < self.shortlist_size, best_head, best)
