"""`TransformerDecoderLayer` and `TransformerDecoder`, with PyTorch's parameters and numbers.

Parameter keys are those of ``torch.nn.TransformerDecoderLayer`` (``self_attn.*``,
``multihead_attn.*``, ``linear1.*``, ``linear2.*``, ``norm1.*``, ``norm2.*``,
``norm3.*``) and of ``torch.nn.TransformerDecoder`` (``layers.0.*``, ..., ``norm.*``).
Dropout is active only with ``train=True`` (and then needs ``key``); every dropout
layer draws its own mask by the container key rule.

Masks follow `MultiheadAttention`: boolean True = masked, or float added to the
scores. ``tgt_is_causal`` and ``memory_is_causal`` are hints that the matching mask is
causal, as in PyTorch; the mask is always what is used, so a hint without its mask is
an error.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
  >>> decoder = nn.TransformerDecoder(layer, num_layers=2, norm=nn.LayerNorm(8))
  >>> params = decoder.init(jax.random.key(0))
  >>> sorted(params), sorted(params["layers"]["0"])
  (['layers', 'norm'], ['linear1', 'linear2', 'multihead_attn', 'norm1', 'norm2', 'norm3', 'self_attn'])
  >>> tgt, memory = jnp.ones((3, 4, 8)), jnp.ones((3, 6, 8))       # (N, T, E), (N, S, E)
  >>> mask = nn.generate_square_subsequent_mask(4)
  >>> decoder.apply(params, tgt, memory, tgt_mask=mask, tgt_is_causal=True).shape
  (3, 4, 8)
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._checks import check_positive, check_probability, shape_of
from .attention import MultiheadAttention
from .container import ChildRunner, ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module, Params, State
from .normalization import LayerNorm
from .transformer import _ACTIVATIONS, _check_activation


def _check_sequence(owner: str, name: str, x: Any, d_model: int, batch_first: bool, length: str) -> None:
    """ValueError unless ``x`` is ``(L, N, E)`` / ``(N, L, E)`` or unbatched ``(L, E)`` with ``E = d_model``."""
    shape = shape_of(x)
    if len(shape) not in (2, 3) or shape[-1] != d_model:
        layout = f"(N, {length}, E)" if batch_first else f"({length}, N, E)"
        raise ValueError(
            f"{owner}: expected {name} of shape {layout} or unbatched ({length}, E) with E = {d_model}, "
            f"got shape {shape}"
        )


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's memory, and a feed-forward block.

    Post-norm (default): ``x = norm1(x + sa(x)); x = norm2(x + mha(x, memory));
    x = norm3(x + ff(x))``; with ``norm_first``: ``x = x + sa(norm1(x));
    x = x + mha(norm2(x), memory); x = x + ff(norm3(x))``, where
    ``sa(x) = dropout1(self_attn(x, x, x))``, ``mha(x, m) = dropout2(multihead_attn(x, m, m))``
    and ``ff(x) = dropout3(linear2(dropout(activation(linear1(x)))))``.

    Args:
      d_model: features ``E`` of the input.
      nhead: attention heads (``E % nhead == 0``).
      dim_feedforward: hidden size of the feed-forward block.
      dropout: dropout probability (attention weights and the four dropout layers).
      activation: ``"relu"``, ``"gelu"`` (exact), a function ``x -> y``, or a funcnn
        module (registered as child ``activation``, as a torch module would be).
      layer_norm_eps: LayerNorm epsilon.
      batch_first: ``(N, T, E)`` instead of ``(T, N, E)``.
      norm_first: pre-norm instead of post-norm.
      bias: biases in the linear, attention and LayerNorm layers.
      dtype: parameter dtype.

    ``apply(params, tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=False,
    memory_is_causal=False, *, key=None, train=False)``: ``tgt`` ``(T, N, E)``
    (``batch_first``: ``(N, T, E)``; unbatched ``(T, E)``), ``memory`` ``(S, N, E)`` in the
    same layout; ``tgt_mask`` ``(T, T)`` or ``(N * nhead, T, T)``, ``memory_mask``
    ``(T, S)`` or ``(N * nhead, T, S)``, ``tgt_key_padding_mask`` ``(N, T)``,
    ``memory_key_padding_mask`` ``(N, S)``. Returns the shape of ``tgt``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, norm_first=True)
      >>> params = layer.init(jax.random.key(0))
      >>> layer.apply(params, jnp.ones((4, 3, 8)), jnp.ones((6, 3, 8))).shape   # (T, N, E), (S, N, E)
      (4, 3, 8)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[jax.Array], jax.Array] | Module = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        check_positive("TransformerDecoderLayer", "d_model", d_model)
        check_positive("TransformerDecoderLayer", "nhead", nhead)
        owner = f"TransformerDecoderLayer(d_model={d_model}, nhead={nhead})"
        check_positive(owner, "dim_feedforward", dim_feedforward)
        check_probability(owner, "dropout", dropout)
        _check_activation(owner, activation)
        self.d_model, self.nhead, self.dim_feedforward = d_model, nhead, dim_feedforward
        self.dropout_p, self.activation, self.layer_norm_eps = float(dropout), activation, layer_norm_eps
        self.batch_first, self.norm_first, self.bias = batch_first, norm_first, bias
        self._owner = owner

        def attention() -> MultiheadAttention:
            return MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype)

        def norm() -> LayerNorm:
            return LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)

        children: dict[str, Module] = {
            "self_attn": attention(),
            "multihead_attn": attention(),
            "linear1": Linear(d_model, dim_feedforward, bias=bias, dtype=dtype),
            "dropout": Dropout(dropout),
            "linear2": Linear(dim_feedforward, d_model, bias=bias, dtype=dtype),
            "norm1": norm(),
            "norm2": norm(),
            "norm3": norm(),
            "dropout1": Dropout(dropout),
            "dropout2": Dropout(dropout),
            "dropout3": Dropout(dropout),
        }
        if isinstance(activation, Module):
            children["activation"] = activation
        self._children = children

    def _members(self) -> dict[str, Any]:
        return self._children  # `activation` (a module) last, whatever the attribute order

    def forward(
        self,
        params: Params,
        tgt: ArrayLike,
        memory: ArrayLike,
        tgt_mask: ArrayLike | None = None,
        memory_mask: ArrayLike | None = None,
        tgt_key_padding_mask: ArrayLike | None = None,
        memory_key_padding_mask: ArrayLike | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> jax.Array:
        owner = self._owner
        _check_sequence(owner, "tgt", tgt, self.d_model, self.batch_first, "T")
        _check_sequence(owner, "memory", memory, self.d_model, self.batch_first, "S")
        if len(shape_of(tgt)) != len(shape_of(memory)):
            raise ValueError(
                f"{owner}: expected tgt and memory both batched (3-D) or both unbatched (2-D), got shapes "
                f"{shape_of(tgt)} and {shape_of(memory)}"
            )
        run = ChildRunner(self, params, {}, key=key, train=train)

        def self_attention(x: jax.Array) -> jax.Array:
            y, _ = run(
                "self_attn",
                x,
                x,
                x,
                attn_mask=tgt_mask,
                key_padding_mask=tgt_key_padding_mask,
                need_weights=False,
                is_causal=tgt_is_causal,
            )
            return run("dropout1", y)

        def cross_attention(x: jax.Array) -> jax.Array:
            y, _ = run(
                "multihead_attn",
                x,
                memory,
                memory,
                attn_mask=memory_mask,
                key_padding_mask=memory_key_padding_mask,
                need_weights=False,
                is_causal=memory_is_causal,
            )
            return run("dropout2", y)

        def feed_forward(x: jax.Array) -> jax.Array:
            h = run("linear1", x)
            if "activation" in self._children:
                h = run("activation", h)
            else:
                h = (_ACTIVATIONS[self.activation] if isinstance(self.activation, str) else self.activation)(h)
            return run("dropout3", run("linear2", run("dropout", h)))

        x = jnp.asarray(tgt)
        if self.norm_first:
            x = x + self_attention(run("norm1", x))
            x = x + cross_attention(run("norm2", x))
            x = x + feed_forward(run("norm3", x))
        else:
            x = run("norm1", x + self_attention(x))
            x = run("norm2", x + cross_attention(x))
            x = run("norm3", x + feed_forward(x))
        return x


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then an optional ``norm``.

    Args:
      decoder_layer: the layer to copy (a `TransformerDecoderLayer` or any module with
        its ``apply`` signature); the copies get independent parameters.
      num_layers: number of layers (> 0).
      norm: applied to the output of the last layer (e.g. ``LayerNorm(d_model)``).

    Params: ``layers.<i>.*`` for each layer and ``norm.*``, as in PyTorch. Layer ``i``
    receives key ``fold_in(fold_in(key, 0), i)`` and the norm ``fold_in(key, 1)``.

    ``apply(params, tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None,
    memory_is_causal=False, *, key=None, train=False)``: shapes and masks as
    `TransformerDecoderLayer`; every layer sees the same ``memory`` and masks.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, dim_feedforward=16), 1)
      >>> params = decoder.init(jax.random.key(0))
      >>> decoder.apply(params, jnp.ones((4, 8)), jnp.ones((5, 8))).shape   # unbatched (T, E), (S, E)
      (4, 8)
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        if not isinstance(decoder_layer, Module):
            raise TypeError(
                f"TransformerDecoder: `decoder_layer` must be a funcnn.nn.Module such as "
                f"nn.TransformerDecoderLayer(...), got {type(decoder_layer).__name__}"
            )
        check_positive("TransformerDecoder", "num_layers", num_layers)
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(
                f"TransformerDecoder: `norm` must be a funcnn.nn.Module such as nn.LayerNorm(d_model) or None, "
                f"got {type(norm).__name__}"
            )
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm  # children: `layers`, then `norm` (when given)

    def forward(
        self,
        params: Params,
        tgt: ArrayLike,
        memory: ArrayLike,
        tgt_mask: ArrayLike | None = None,
        memory_mask: ArrayLike | None = None,
        tgt_key_padding_mask: ArrayLike | None = None,
        memory_key_padding_mask: ArrayLike | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> jax.Array:
        return self.apply_with_state(
            params,
            {},
            tgt,
            memory,
            tgt_mask,
            memory_mask,
            tgt_key_padding_mask,
            memory_key_padding_mask,
            tgt_is_causal,
            memory_is_causal,
            key=key,
            train=train,
        )[0]

    def apply_with_state(
        self,
        params: Params,
        state: State,
        tgt: ArrayLike,
        memory: ArrayLike,
        tgt_mask: ArrayLike | None = None,
        memory_mask: ArrayLike | None = None,
        tgt_key_padding_mask: ArrayLike | None = None,
        memory_key_padding_mask: ArrayLike | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> tuple[jax.Array, State]:
        run = ChildRunner(self, params, state, key=key, train=train)
        x = tgt
        for i in range(self.num_layers):
            x = run(
                f"layers.{i}",
                x,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            x = run("norm", x)
        return x, run.state
