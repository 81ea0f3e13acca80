"""`MultiheadAttention`, with ``torch.nn.MultiheadAttention``'s parameters and numbers.

The PyTorch forward is ``mha(query, key, value, ...)``, where ``key`` is the keys
tensor; in funcnn every ``apply`` already has a keyword ``key=`` for the PRNG key. So
query, key and value are passed **positionally** (as almost everyone writes them in
PyTorch too), and ``key=`` stays the PRNG key of the Module contract::

    out, weights = mha.apply(params, q, k, v, key_padding_mask=m)            # eval
    out, weights = mha.apply(params, q, k, v, key=jax.random.key(step), train=True)

Passing the keys tensor as ``key=k`` is caught with an error that shows this call.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn
  >>> from funcnn import nn
  >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
  >>> params = mha.init(jax.random.key(0))
  >>> {k: v.shape for k, v in funcnn.state_dict(params).items()}
  {'in_proj_weight': (24, 8), 'in_proj_bias': (24,), 'out_proj.weight': (8, 8), 'out_proj.bias': (8,)}
  >>> x = jnp.ones((3, 5, 8))                     # (N, L, E)
  >>> out, w = mha.apply(params, x, x, x)
  >>> out.shape, w.shape
  ((3, 5, 8), (3, 5, 5))
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _rng
from . import init as init_
from ._checks import check_positive, check_probability, shape_of
from .functional.attention import multi_head_attention_impl
from .linear import Linear
from .module import Module, Params, check_train_key


def _is_prng_key(key: Any) -> bool:
    dtype = getattr(key, "dtype", None)
    if dtype is None:
        return False
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return True
    return dtype == jnp.uint32 and shape_of(key)[-1:] == (2,)


class MultiheadAttention(Module):
    """Multi-head attention: ``Concat(head_1, ..., head_H) W_out``, ``head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)``.

    Args:
      embed_dim: model dimension ``E`` (> 0).
      num_heads: number of heads ``H``; ``E % H == 0``, each head has ``E // H`` features.
      dropout: dropout probability on the attention weights (only with ``train=True``).
      bias: learn biases for the input and output projections.
      add_bias_kv: learn a key ``bias_k`` and a value ``bias_v`` appended to every
        key/value sequence after the projection.
      add_zero_attn: append an all-zero key and value per head (after ``bias_k``).
      kdim: features of the keys (default ``E``).
      vdim: features of the values (default ``E``).
      batch_first: inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``.
      dtype: parameter dtype.

    Params (PyTorch's names and initialisation): ``in_proj_weight (3E, E)``
    (xavier-uniform) when ``kdim == vdim == E``, else ``q_proj_weight (E, E)``,
    ``k_proj_weight (E, kdim)``, ``v_proj_weight (E, vdim)`` (each xavier-uniform);
    ``in_proj_bias (3E,)`` zeros; ``out_proj.weight (E, E)`` ``U(±1/sqrt(E))`` as a Linear;
    ``out_proj.bias (E,)`` zeros; with ``add_bias_kv``, ``bias_k`` and ``bias_v``
    ``(1, 1, E)`` (xavier-normal).

    ``apply(params, query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False, *, key=None, train=False)``
    with query, key and value **positional** (``key=`` is the PRNG key, see the module
    docstring):

    * query ``(L, N, E)`` (``batch_first``: ``(N, L, E)``; unbatched ``(L, E)``), key
      ``(S, N, kdim)``, value ``(S, N, vdim)`` in the same layout.
    * ``key_padding_mask`` ``(N, S)`` (unbatched ``(S,)``): boolean True = ignore that key,
      or float added to the scores.
    * ``attn_mask`` ``(L, S)`` or ``(N * H, L, S)`` (unbatched ``(H, L, S)``): boolean True
      = not allowed to attend, or float added to the scores.
    * ``is_causal``: a hint that ``attn_mask`` is the causal mask (required with it).

    Returns ``(attn_output, attn_weights)``: the output in the query's layout and, when
    ``need_weights``, weights ``(N, L, S)`` averaged over heads or ``(N, H, L, S)`` per
    head (unbatched: without ``N``), else ``None``; ``S`` counts the keys appended by
    ``add_bias_kv`` and ``add_zero_attn``. A query whose keys are all masked
    gets NaN with ``need_weights=True`` and zeros without, as in PyTorch.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        check_positive("MultiheadAttention", "embed_dim", embed_dim)
        check_positive("MultiheadAttention", "num_heads", num_heads)
        owner = f"MultiheadAttention(embed_dim={embed_dim}, num_heads={num_heads})"
        if embed_dim % num_heads:
            raise ValueError(f"{owner}: `embed_dim` (={embed_dim}) must be divisible by `num_heads` (={num_heads})")
        check_probability(owner, "dropout", dropout)
        self.add_bias_kv, self.add_zero_attn = bool(add_bias_kv), bool(add_zero_attn)
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        check_positive(owner, "kdim", self.kdim)
        check_positive(owner, "vdim", self.vdim)
        self.embed_dim, self.num_heads, self.dropout, self.bias = embed_dim, num_heads, float(dropout), bias
        self.batch_first, self.dtype = batch_first, dtype
        self.head_dim = embed_dim // num_heads
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._owner = owner

    def children(self) -> Mapping[str, Module]:
        return {"out_proj": self.out_proj}

    def init(self, key: jax.Array) -> Params:
        E = self.embed_dim
        keys = _rng.split(key, 4)
        params: Params = {}
        if self._qkv_same_embed_dim:
            params["in_proj_weight"] = init_.xavier_uniform(keys[0], (3 * E, E), self.dtype)
        else:
            for i, (name, dim) in enumerate((("q", E), ("k", self.kdim), ("v", self.vdim))):
                params[f"{name}_proj_weight"] = init_.xavier_uniform(keys[i], (E, dim), self.dtype)
        if self.bias:
            params["in_proj_bias"] = init_.zeros(None, (3 * E,), self.dtype)
        if self.add_bias_kv:
            key_k, key_v = _rng.split(jax.random.fold_in(key, 4), 2)  # the four keys above stay as they were
            params["bias_k"] = init_.xavier_normal(key_k, (1, 1, E), self.dtype)
            params["bias_v"] = init_.xavier_normal(key_v, (1, 1, E), self.dtype)
        out = {"weight": self.out_proj.init(keys[3])["weight"]}
        if self.bias:
            out["bias"] = init_.zeros(None, (E,), self.dtype)
        params["out_proj"] = out
        return params

    def forward(
        self,
        params: Params,
        query: ArrayLike | None = None,
        key_input: ArrayLike | None = None,
        value: ArrayLike | None = None,
        key_padding_mask: ArrayLike | None = None,
        need_weights: bool = True,
        attn_mask: ArrayLike | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> tuple[jax.Array, jax.Array | None]:
        """See the class docstring; ``key_input`` is PyTorch's ``key`` (the keys tensor)."""
        owner = self._owner
        if key is not None and not _is_prng_key(key):
            raise TypeError(
                f"{owner}: the keyword `key=` is the PRNG key, got an array of dtype {jnp.result_type(key)} and "
                f"shape {shape_of(key)}; pass query, key and value positionally, "
                f"`mha.apply(params, query, key, value, key=jax.random.key(step), train=True)`"
            )
        if query is None or key_input is None or value is None:
            given = [n for n, x in (("query", query), ("key", key_input), ("value", value)) if x is not None]
            raise TypeError(
                f"{owner}: expected query, key and value, got only {given}; pass all three positionally, "
                f"`mha.apply(params, query, key, value)` (for self-attention: `mha.apply(params, x, x, x)`)"
            )
        check_train_key(owner, key, train and self.dropout > 0)
        if self._qkv_same_embed_dim:
            weights = params["in_proj_weight"]
            biases = params.get("in_proj_bias")
        else:
            weights = (params["q_proj_weight"], params["k_proj_weight"], params["v_proj_weight"])
            bias = params.get("in_proj_bias")
            biases = None if bias is None else tuple(jnp.split(bias, 3))
        out, attn = multi_head_attention_impl(
            owner,
            query,
            key_input,
            value,
            self.num_heads,
            weights,
            biases,
            params["out_proj"]["weight"],
            params["out_proj"].get("bias"),
            dropout_p=self.dropout,
            training=train,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
            dropout_key=key,
            bias_k=params.get("bias_k"),
            bias_v=params.get("bias_v"),
            add_zero_attn=self.add_zero_attn,
            batch_first=self.batch_first,
        )
        return out, attn
