"""Attention: `scaled_dot_product_attention` and `multi_head_attention_forward`.

Both follow ``torch.nn.functional``: same arguments, defaults, mask conventions and
numbers. Mask conventions differ between the two, exactly as in PyTorch:

* `scaled_dot_product_attention`: a boolean ``attn_mask`` marks the pairs that *take
  part* (True = attend); a float mask is added to the scores.
* `multi_head_attention_forward` (and `funcnn.nn.MultiheadAttention`): a boolean
  ``attn_mask`` or ``key_padding_mask`` marks what is *left out* (True = masked); a float
  mask is added to the scores.

A query whose keys are all masked gets zeros from `scaled_dot_product_attention` (and
from the multi-head path with ``need_weights=False``, which uses it), but NaN from the
multi-head path with ``need_weights=True``, as in PyTorch.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> q = k = v = jnp.ones((2, 4, 5, 8))          # (N, heads, L, head_dim)
  >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
  (2, 4, 5, 8)
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_floating, check_probability, shape_of
from .dropout import dropout as _dropout
from .linear import linear


def _float_mask(owner: str, name: str, mask: Any, dtype: Any, *, true_means_masked: bool) -> jax.Array | None:
    """A boolean or float mask as an additive float bias (``-inf`` where masked)."""
    if mask is None:
        return None
    mask = jnp.asarray(mask)
    if mask.dtype == jnp.bool_:
        keep = jnp.logical_not(mask) if true_means_masked else mask
        return jnp.where(keep, jnp.zeros((), dtype), jnp.array(-jnp.inf, dtype))
    if jnp.issubdtype(mask.dtype, jnp.floating):
        return mask.astype(dtype)
    raise TypeError(
        f"{owner}: only boolean and floating-point `{name}` are supported, got dtype {mask.dtype}; "
        f"convert it with `{name}.astype(bool)`"
    )


def _softmax(scores: jax.Array, safe: bool) -> jax.Array:
    """Softmax over the last axis; ``safe`` gives 0 (and a zero gradient) for all-``-inf`` rows.

    The safe form shifts by the row maximum (0 for a dead row, whose exponentials are then
    all 0) and divides by a sum that is 1 where it would be 0: no pass over the scores
    beyond the softmax's own.
    """
    if not safe:
        return jax.nn.softmax(scores, axis=-1)
    top = jax.lax.stop_gradient(jnp.max(scores, axis=-1, keepdims=True))
    e = jnp.exp(scores - jnp.where(jnp.isneginf(top), jnp.zeros((), scores.dtype), top))
    total = jnp.sum(e, axis=-1, keepdims=True)
    return e / jnp.where(total == 0, jnp.ones((), total.dtype), total)


def _attend(
    q: jax.Array,
    k: jax.Array,
    v: jax.Array,
    bias: jax.Array | None,
    scale: float,
    dropout_p: float,
    dropout_key: jax.Array | None,
    *,
    safe: bool,
) -> tuple[jax.Array, jax.Array]:
    """``softmax(q k^T * scale + bias) v`` over ``(..., L, E)``, ``(..., S, E)``, ``(..., S, Ev)``.

    Returns ``(output (..., L, Ev), weights (..., L, S))``; weights are after dropout.
    """
    scores = jnp.einsum("...le,...se->...ls", q * jnp.asarray(scale, q.dtype), k)
    if bias is not None:  # a mask of fewer dims than the scores (or more) gains leading unit dims
        rank = max(scores.ndim, bias.ndim)
        lift = lambda a: a.reshape((1,) * (rank - a.ndim) + a.shape)  # noqa: E731
        scores = lift(scores) + lift(bias)
    weights = _softmax(scores, safe)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p, training=True, key=dropout_key)
    return jnp.einsum("...ls,...sd->...ld", weights, v), weights


def scaled_dot_product_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    attn_mask: ArrayLike | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    dropout_key: jax.Array | None = None,
) -> jax.Array:
    """``softmax(query @ key^T * scale + mask) @ value``, as ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
      query: ``(*, L, E)`` floating array (``*`` batch dims, e.g. ``(N, heads)``).
      key: ``(*, S, E)``, same dtype. Batch dims broadcast against ``query``'s.
      value: ``(*, S, Ev)``, same dtype.
      attn_mask: ``None``, a boolean mask broadcastable to ``(*, L, S)`` where True means
        the pair *takes part*, or a float mask of that shape added to the scores.
      dropout_p: probability of dropping an attention weight (applied whenever > 0, as
        in PyTorch: pass ``0.0`` in evaluation); needs ``dropout_key``.
      is_causal: attend only to keys at positions ``<= `` the query's (a top-left
        aligned lower-triangular ``(L, S)`` mask). Not together with ``attn_mask``.
      scale: score scale; default ``1 / sqrt(E)``.
      enable_gqa: grouped-query attention: ``key``/``value`` have ``Hk`` heads on axis
        -3 that are repeated to ``query``'s ``Hq`` heads (``Hq % Hk == 0``).
      dropout_key: PRNG key for the attention dropout.

    Returns:
      ``(*, L, Ev)`` array of ``query``'s dtype. A query whose keys are all masked
      gives zeros (PyTorch's behaviour, not NaN).

    Raises:
      ValueError: mismatched shapes, ``is_causal`` with ``attn_mask``, a bad
        ``dropout_p``, or ``dropout_p > 0`` without ``dropout_key``.
      TypeError: integer inputs or a mask that is neither boolean nor floating.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> q = jax.random.normal(jax.random.key(0), (2, 3, 4))
      >>> mask = jnp.tril(jnp.ones((3, 3), bool))
      >>> out = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
      >>> out.shape, bool(jnp.allclose(out, F.scaled_dot_product_attention(q, q, q, is_causal=True)))
      ((2, 3, 4), True)
    """
    owner = "scaled_dot_product_attention"
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_floating(owner, x, name)
    qs, ks, vs = shape_of(query), shape_of(key), shape_of(value)
    if len(qs) < 2 or len(ks) < 2 or len(vs) < 2:
        raise ValueError(
            f"{owner}: expected query (*, L, E), key (*, S, E) and value (*, S, Ev) with at least 2 dimensions, "
            f"got shapes {qs}, {ks}, {vs}"
        )
    if ks[-1] != qs[-1] or vs[-2] != ks[-2]:
        raise ValueError(
            f"{owner}: expected query (*, L, E), key (*, S, E) and value (*, S, Ev) with matching E and S, "
            f"got shapes {qs}, {ks}, {vs}"
        )
    check_probability(owner, "dropout_p", dropout_p)
    if dropout_p > 0.0 and dropout_key is None:
        raise ValueError(
            f"{owner}: dropout_p={dropout_p} drops attention weights at random and needs a PRNG key, got "
            f"dropout_key=None; pass `dropout_key=jax.random.key(step)`, or dropout_p=0.0 in evaluation"
        )
    q, k, v = jnp.asarray(query), jnp.asarray(key), jnp.asarray(value)
    if enable_gqa:
        if len(qs) < 3 or len(ks) < 3 or ks[-3] != vs[-3] or qs[-3] % ks[-3]:
            raise ValueError(
                f"{owner}: enable_gqa=True needs heads on axis -3 with query heads a multiple of key/value "
                f"heads, got shapes {qs}, {ks}, {vs}"
            )
        k = jnp.repeat(k, qs[-3] // ks[-3], axis=-3)
        v = jnp.repeat(v, qs[-3] // ks[-3], axis=-3)
    L, S = qs[-2], ks[-2]
    bias = _float_mask(owner, "attn_mask", attn_mask, q.dtype, true_means_masked=False)
    if is_causal:
        if bias is not None:
            raise ValueError(
                f"{owner}: pass either is_causal=True or an explicit attn_mask, not both; "
                f"for a causal mask combined with padding, build one boolean mask and pass only attn_mask"
            )
        bias = _float_mask(owner, "attn_mask", jnp.tril(jnp.ones((L, S), bool)), q.dtype, true_means_masked=False)
    if bias is not None:
        try:
            jnp.broadcast_shapes(bias.shape, (*jnp.broadcast_shapes(qs[:-2], ks[:-2]), L, S))
        except ValueError:
            raise ValueError(
                f"{owner}: expected attn_mask broadcastable to (*, L, S) = (*, {L}, {S}), got shape {bias.shape}"
            ) from None
    scale = 1.0 / math.sqrt(qs[-1]) if scale is None else scale
    return _attend(q, k, v, bias, scale, dropout_p, dropout_key, safe=True)[0]


def multi_head_attention_impl(
    owner: str,
    query: Any,
    key: Any,
    value: Any,
    num_heads: int,
    weights: tuple[Any, Any, Any] | Any,
    biases: tuple[Any, Any, Any] | Any | None,
    out_proj_weight: Any,
    out_proj_bias: Any,
    *,
    dropout_p: float,
    training: bool,
    key_padding_mask: Any,
    need_weights: bool,
    attn_mask: Any,
    average_attn_weights: bool,
    is_causal: bool,
    dropout_key: jax.Array | None,
    bias_k: Any = None,
    bias_v: Any = None,
    add_zero_attn: bool = False,
    batch_first: bool = False,
) -> tuple[jax.Array, jax.Array | None]:
    """Multi-head attention over ``(L, N, E)`` (``batch_first``: ``(N, L, E)``; unbatched ``(L, E)``).

    ``weights`` is ``(w_q, w_k, w_v)`` or the packed ``(3E, E)`` projection (``biases``
    likewise); packed weights with ``query is key is value`` (self-attention) project in
    one matmul, as PyTorch does. See the public function for the rest.
    """
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_floating(owner, x, name)
    qs, ks, vs = shape_of(query), shape_of(key), shape_of(value)
    packed = not isinstance(weights, tuple)
    if packed:
        embed_dim = kdim = vdim = shape_of(weights)[1]
    else:
        embed_dim, kdim, vdim = (shape_of(w)[1] for w in weights)
    batch_first = batch_first and len(qs) == 3
    if len(qs) not in (2, 3):
        want = "(N, L, E)" if batch_first else "(L, N, E)"
        raise ValueError(f"{owner}: expected a 3-D query {want} or an unbatched 2-D query (L, E), got shape {qs}")
    batched = len(qs) == 3
    t, n = (1, 0) if batch_first else (0, 1)  # the sequence and batch axes
    layout = ("(N, S, dim)" if batch_first else "(S, N, dim)") if batched else "(S, dim)"
    if len(ks) != len(qs) or len(vs) != len(qs):
        raise ValueError(
            f"{owner}: expected key and value with the query's {len(qs)} dimensions {layout}, "
            f"got query {qs}, key {ks}, value {vs}"
        )
    if qs[-1] != embed_dim or ks[-1] != kdim or vs[-1] != vdim:
        raise ValueError(
            f"{owner}: expected query, key and value with last dimensions {embed_dim}, {kdim}, {vdim} "
            f"(embed_dim, kdim, vdim), got shapes {qs}, {ks}, {vs}"
        )
    if ks[:-1] != vs[:-1] or (batched and qs[n] != ks[n]):
        raise ValueError(
            f"{owner}: expected key and value with the same sequence length and query, key and value with the "
            f"same batch size, got shapes {qs}, {ks}, {vs}"
        )
    if embed_dim % num_heads:
        raise ValueError(f"{owner}: `embed_dim` (={embed_dim}) must be divisible by `num_heads` (={num_heads})")
    check_probability(owner, "dropout_p", dropout_p)
    dropout_p = dropout_p if training else 0.0
    if dropout_p > 0.0 and dropout_key is None:
        raise ValueError(
            f"{owner}: training with dropout={dropout_p} samples random numbers and needs a PRNG key, got "
            f"key=None; pass a new key each step, e.g. `key=jax.random.key(step)`"
        )
    if is_causal and attn_mask is None:
        raise ValueError(
            f"{owner}: is_causal=True is a hint that `attn_mask` is the causal mask and needs that mask, got "
            f"attn_mask=None; pass attn_mask=nn.generate_square_subsequent_mask(L) as well"
        )
    L, S = qs[t], ks[t]
    N = qs[n] if batched else 1
    dtype = jnp.result_type(query)
    kpm = _float_mask(owner, "key_padding_mask", key_padding_mask, dtype, true_means_masked=True)
    if kpm is not None and kpm.shape != ((N, S) if batched else (S,)):
        want = f"(N, S) = ({N}, {S})" if batched else f"(S,) = ({S},)"
        raise ValueError(f"{owner}: expected key_padding_mask of shape {want}, got {kpm.shape}")
    mask = _float_mask(owner, "attn_mask", attn_mask, dtype, true_means_masked=True)
    if mask is not None and mask.shape not in ((L, S), (N * num_heads, L, S)):
        lead = "N * num_heads" if batched else "num_heads"
        raise ValueError(
            f"{owner}: expected a 2-D attn_mask of shape (L, S) = ({L}, {S}) or a 3-D one of shape "
            f"({lead}, L, S) = ({N * num_heads}, {L}, {S}), got {mask.shape}"
        )

    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{owner}: pass both `bias_k` and `bias_v` or neither, got only one")
    for name, b in (("bias_k", bias_k), ("bias_v", bias_v)):
        if b is not None and shape_of(b) != (1, 1, embed_dim):
            raise ValueError(f"{owner}: expected `{name}` of shape (1, 1, {embed_dim}), got {shape_of(b)}")

    head_dim = embed_dim // num_heads
    self_attention = packed and query is key and key is value
    q, k, v = (jnp.asarray(x) for x in (query, key, value))
    if not batched:
        q, k, v = q[:, None], k[:, None], v[:, None]
    if self_attention:
        q, k, v = jnp.split(linear(q, weights, biases), 3, axis=-1)
    else:
        ws = tuple(jnp.split(jnp.asarray(weights), 3)) if packed else weights
        bs = tuple(jnp.split(jnp.asarray(biases), 3)) if packed and biases is not None else biases
        b_q, b_k, b_v = bs if bs is not None else (None, None, None)
        q, k, v = linear(q, ws[0], b_q), linear(k, ws[1], b_k), linear(v, ws[2], b_v)

    def heads(x: jax.Array) -> jax.Array:  # (T, N, E) or (N, T, E) -> (N, H, T, head_dim)
        if batch_first:
            return x.reshape(N, x.shape[1], num_heads, head_dim).transpose(0, 2, 1, 3)
        return x.reshape(x.shape[0], N, num_heads, head_dim).transpose(1, 2, 0, 3)

    q, k, v = heads(q), heads(k), heads(v)
    if bias_k is not None:  # one learned key/value appended to every sequence

        def append(x: jax.Array, b: Any) -> jax.Array:
            b = jnp.asarray(b, x.dtype).reshape(1, num_heads, 1, head_dim)
            return jnp.concatenate([x, jnp.broadcast_to(b, (N, num_heads, 1, head_dim))], axis=2)

        k, v = append(k, bias_k), append(v, bias_v)
    if add_zero_attn:  # one all-zero key/value per head appended
        k = jnp.concatenate([k, jnp.zeros(k.shape[:2] + (1, head_dim), k.dtype)], axis=2)
        v = jnp.concatenate([v, jnp.zeros(v.shape[:2] + (1, head_dim), v.dtype)], axis=2)
    extra = (bias_k is not None) + bool(add_zero_attn)
    if extra:  # the appended keys are never masked
        pad = lambda m: None if m is None else jnp.pad(m, [(0, 0)] * (m.ndim - 1) + [(0, extra)])  # noqa: E731
        mask, kpm, S = pad(mask), pad(kpm), S + extra
    bias = None
    if mask is not None:
        bias = mask[None, None] if mask.ndim == 2 else mask.reshape(N, num_heads, L, S)
    if kpm is not None:
        kpm = kpm.reshape(N, 1, 1, S)
        bias = kpm if bias is None else bias + kpm
    out, attn = _attend(q, k, v, bias, 1.0 / math.sqrt(head_dim), dropout_p, dropout_key, safe=not need_weights)
    if batch_first:
        out = out.transpose(0, 2, 1, 3).reshape(N, L, embed_dim)
    else:
        out = out.transpose(2, 0, 1, 3).reshape(L, N, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not need_weights:
        return (out if batched else out[:, 0]), None
    if average_attn_weights:
        attn = attn.mean(axis=1)
    return (out, attn) if batched else (out[:, 0], attn[0])


def multi_head_attention_forward(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: ArrayLike | None,
    in_proj_bias: ArrayLike | None,
    bias_k: ArrayLike | None,
    bias_v: ArrayLike | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: ArrayLike,
    out_proj_bias: ArrayLike | None,
    training: bool = True,
    key_padding_mask: ArrayLike | None = None,
    need_weights: bool = True,
    attn_mask: ArrayLike | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: ArrayLike | None = None,
    k_proj_weight: ArrayLike | None = None,
    v_proj_weight: ArrayLike | None = None,
    static_k: ArrayLike | None = None,
    static_v: ArrayLike | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
    *,
    dropout_key: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array | None]:
    """Multi-head attention, as ``torch.nn.functional.multi_head_attention_forward``.

    Inputs are sequence-first. ``static_k`` and ``static_v`` exist for PyTorch's
    signature and must stay None.

    Args:
      query: ``(L, N, E)`` floating array, or unbatched ``(L, E)``.
      key: ``(S, N, kdim)`` or ``(S, kdim)``.
      value: ``(S, N, vdim)`` or ``(S, vdim)``.
      embed_dim_to_check: ``E``.
      num_heads: number of heads ``H`` (``E % H == 0``).
      in_proj_weight: packed ``(3E, E)`` q/k/v projection (when not
        ``use_separate_proj_weight``).
      in_proj_bias: ``(3E,)`` or None.
      bias_k: ``(1, 1, E)`` key appended to every sequence after the projection
        (``bias_k`` and ``bias_v`` both or neither); masks get a column that keeps it.
      bias_v: ``(1, 1, E)`` value appended to every sequence after the projection
        (both or neither, with ``bias_k``).
      add_zero_attn: append an all-zero key and value per head (after ``bias_k``).
      dropout_p: dropout on the attention weights, active when ``training``.
      out_proj_weight: ``(E, E)``.
      out_proj_bias: ``(E,)`` or None.
      training: apply dropout (default True, as PyTorch's functional form).
      key_padding_mask: ``(N, S)`` (unbatched ``(S,)``); boolean True = ignore that key,
        or float added to the scores.
      need_weights: also return the attention weights.
      attn_mask: ``(L, S)`` or ``(N * H, L, S)`` (unbatched ``(H, L, S)``); boolean True =
        not allowed to attend, or float added to the scores.
      use_separate_proj_weight: use ``q_proj_weight (E, E)``, ``k_proj_weight (E, kdim)``,
        ``v_proj_weight (E, vdim)`` instead of ``in_proj_weight``.
      q_proj_weight: ``(E, E)``, with ``use_separate_proj_weight``.
      k_proj_weight: ``(E, kdim)``, with ``use_separate_proj_weight``.
      v_proj_weight: ``(E, vdim)``, with ``use_separate_proj_weight``.
      static_k: unsupported; None.
      static_v: unsupported; None.
      average_attn_weights: average the returned weights over heads.
      is_causal: a hint that ``attn_mask`` is the causal mask; the mask is required
        and is what is used.
      dropout_key: PRNG key for the dropout (needed when training with ``dropout_p > 0``).

    Returns:
      ``(attn_output, attn_weights)``: ``(L, N, E)`` (unbatched ``(L, E)``) and, when
      ``need_weights``, ``(N, L, S')`` averaged or ``(N, H, L, S')`` per head (unbatched
      without ``N``), else None, where ``S'`` counts the appended keys. Weights are those
      after dropout, as in PyTorch.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> x = jnp.ones((5, 2, 4))                       # (L, N, E)
      >>> out, w = F.multi_head_attention_forward(
      ...     x, x, x, 4, 2, jnp.ones((12, 4)), jnp.zeros(12), None, None, False, 0.0,
      ...     jnp.eye(4), jnp.zeros(4))
      >>> out.shape, w.shape
      ((5, 2, 4), (2, 5, 5))
    """
    owner = "multi_head_attention_forward"
    for name, val in (("static_k", static_k), ("static_v", static_v)):
        if val is not None:
            raise ValueError(f"{owner}: `{name}` is not supported, got an array; pass {name}=None")
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(
                f"{owner}: use_separate_proj_weight=True needs q_proj_weight, k_proj_weight and v_proj_weight"
            )
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if in_proj_weight is None or shape_of(in_proj_weight) != (3 * embed_dim_to_check, embed_dim_to_check):
            raise ValueError(
                f"{owner}: expected in_proj_weight of shape (3 * E, E) = "
                f"{(3 * embed_dim_to_check, embed_dim_to_check)}, got "
                f"{None if in_proj_weight is None else shape_of(in_proj_weight)}"
            )
        weights = in_proj_weight
    if use_separate_proj_weight and shape_of(weights[0]) != (embed_dim_to_check, embed_dim_to_check):
        raise ValueError(
            f"{owner}: expected a query projection of shape (E, E) = {(embed_dim_to_check,) * 2}, "
            f"got {shape_of(weights[0])}"
        )
    if in_proj_bias is None or not use_separate_proj_weight:
        biases = in_proj_bias
    else:
        biases = tuple(jnp.split(jnp.asarray(in_proj_bias), 3))
    return multi_head_attention_impl(
        owner,
        query,
        key,
        value,
        num_heads,
        weights,
        biases,
        out_proj_weight,
        out_proj_bias,
        dropout_p=dropout_p,
        training=training,
        key_padding_mask=key_padding_mask,
        need_weights=need_weights,
        attn_mask=attn_mask,
        average_attn_weights=average_attn_weights,
        is_causal=is_causal,
        dropout_key=dropout_key,
        bias_k=bias_k,
        bias_v=bias_v,
        add_zero_attn=add_zero_attn,
    )
