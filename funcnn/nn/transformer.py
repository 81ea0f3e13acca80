"""`TransformerEncoderLayer` and `TransformerEncoder`, with PyTorch's parameters and numbers.

Parameter keys are those of ``torch.nn.TransformerEncoderLayer`` (``self_attn.*``,
``linear1.*``, ``linear2.*``, ``norm1.*``, ``norm2.*``) and of
``torch.nn.TransformerEncoder`` (``layers.0.*``, ..., ``norm.*``). Dropout is active
only with ``train=True`` (and then needs ``key``); every dropout layer draws its own mask
by the container key rule. PyTorch's inference "fast path" (nested tensors, fused
kernels) is an implementation detail with the same meaning and has no counterpart here.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
  >>> encoder = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(8))
  >>> params = encoder.init(jax.random.key(0))
  >>> sorted(params)
  ['layers', 'norm']
  >>> x = jnp.ones((3, 5, 8))                                   # (N, S, E)
  >>> pad = jnp.array([[False] * 5, [False] * 4 + [True], [False] * 3 + [True] * 2])
  >>> encoder.apply(params, x, src_key_padding_mask=pad).shape
  (3, 5, 8)
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import functional as F
from ._checks import check_positive, check_probability, shape_of
from .attention import MultiheadAttention
from .dropout import Dropout
from .holders import ModuleList
from .linear import Linear
from .module import Module, Params
from .normalization import LayerNorm
from .runner import ChildRunner

_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {"relu": F.relu, "gelu": F.gelu}


def generate_square_subsequent_mask(sz: int, dtype: Any = jnp.float32) -> jax.Array:
    """The causal float mask ``(sz, sz)``: 0 on and below the diagonal, ``-inf`` above.

    PyTorch's ``nn.Transformer.generate_square_subsequent_mask``; pass it as
    ``attn_mask``/``src_mask`` (with ``is_causal=True`` as a hint, if you like).

    Args:
      sz: sequence length.
      dtype: floating dtype of the mask.

    Returns:
      ``(sz, sz)`` array of ``dtype``.

    Examples:
      >>> from funcnn import nn
      >>> nn.generate_square_subsequent_mask(3).tolist()
      [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
    """
    check_positive("generate_square_subsequent_mask", "sz", sz)
    return jnp.where(jnp.triu(jnp.ones((sz, sz), bool), k=1), -jnp.inf, 0.0).astype(dtype)


def _check_activation(owner: str, activation: Any) -> None:
    """A transformer layer's ``activation``: 'relu', 'gelu', a function or a module."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"{owner}: `activation` must be 'relu', 'gelu', a function or a module, got {activation!r}"
            )
    elif not callable(activation) and not isinstance(activation, Module):
        raise TypeError(
            f"{owner}: `activation` must be 'relu', 'gelu', a function or a module, got a {type(activation).__name__}"
        )


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm.

    Post-norm (default): ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``; with
    ``norm_first``: ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``, where
    ``sa(x) = dropout1(self_attn(x, x, x))`` and
    ``ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))``.

    Args:
      d_model: features ``E`` of the input.
      nhead: attention heads (``E % nhead == 0``).
      dim_feedforward: hidden size of the feed-forward block.
      dropout: dropout probability (attention weights and the three dropout layers).
      activation: ``"relu"``, ``"gelu"`` (exact), a function ``x -> y``, or a funcnn
        module (registered as child ``activation``, as a torch module would be).
      layer_norm_eps: LayerNorm epsilon.
      batch_first: ``(N, S, E)`` instead of ``(S, N, E)``.
      norm_first: pre-norm instead of post-norm.
      bias: biases in the linear, attention and LayerNorm layers.
      dtype: parameter dtype.

    ``apply(params, src, src_mask=None, src_key_padding_mask=None, is_causal=False, *,
    key=None, train=False)``: ``src`` ``(S, N, E)`` (``batch_first``: ``(N, S, E)``;
    unbatched ``(S, E)``); ``src_mask`` ``(S, S)`` or ``(N * nhead, S, S)``,
    ``src_key_padding_mask`` ``(N, S)``, both boolean (True = masked) or float (added),
    as in `MultiheadAttention`; ``is_causal`` is a hint that ``src_mask`` is causal.
    Returns the same shape as ``src``.
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
        check_positive("TransformerEncoderLayer", "d_model", d_model)
        check_positive("TransformerEncoderLayer", "nhead", nhead)
        owner = f"TransformerEncoderLayer(d_model={d_model}, nhead={nhead})"
        check_positive(owner, "dim_feedforward", dim_feedforward)
        check_probability(owner, "dropout", dropout)
        _check_activation(owner, activation)
        self.d_model, self.nhead, self.dim_feedforward = d_model, nhead, dim_feedforward
        self.dropout_p, self.activation, self.layer_norm_eps = float(dropout), activation, layer_norm_eps
        self.batch_first, self.norm_first, self.bias = batch_first, norm_first, bias
        self._owner = owner
        children: dict[str, Module] = {
            "self_attn": MultiheadAttention(
                d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
            ),
            "linear1": Linear(d_model, dim_feedforward, bias=bias, dtype=dtype),
            "dropout": Dropout(dropout),
            "linear2": Linear(dim_feedforward, d_model, bias=bias, dtype=dtype),
            "norm1": LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            "norm2": LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            "dropout1": Dropout(dropout),
            "dropout2": Dropout(dropout),
        }
        if isinstance(activation, Module):
            children["activation"] = activation
        self._children = children

    def _members(self) -> dict[str, Any]:
        return self._children  # `activation` (a module) last, whatever the attribute order

    def forward(
        self,
        params: Params,
        src: ArrayLike,
        src_mask: ArrayLike | None = None,
        src_key_padding_mask: ArrayLike | None = None,
        is_causal: bool = False,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> jax.Array:
        shape = shape_of(src)
        if len(shape) not in (2, 3) or shape[-1] != self.d_model:
            layout = "(N, S, E)" if self.batch_first else "(S, N, E)"
            raise ValueError(
                f"{self._owner}: expected src of shape {layout} or unbatched (S, E) with E = {self.d_model}, "
                f"got shape {shape}"
            )
        run = ChildRunner(self, params, {}, key=key, train=train)

        def self_attention(x: jax.Array) -> jax.Array:
            y, _ = run(
                "self_attn",
                x,
                x,
                x,
                attn_mask=src_mask,
                key_padding_mask=src_key_padding_mask,
                need_weights=False,
                is_causal=is_causal,
            )
            return run("dropout1", y)

        def feed_forward(x: jax.Array) -> jax.Array:
            h = run("linear1", x)
            h = run("activation", h) if "activation" in self._children else self._activation_fn(h)
            return run("dropout2", run("linear2", run("dropout", h)))

        x = jnp.asarray(src)
        if self.norm_first:
            x = x + self_attention(run("norm1", x))
            x = x + feed_forward(run("norm2", x))
        else:
            x = run("norm1", x + self_attention(x))
            x = run("norm2", x + feed_forward(x))
        return x

    def _activation_fn(self, x: jax.Array) -> jax.Array:
        fn = _ACTIVATIONS[self.activation] if isinstance(self.activation, str) else self.activation
        return fn(x)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then an optional ``norm``.

    Args:
      encoder_layer: the layer to copy (a `TransformerEncoderLayer` or any module with
        its ``apply`` signature); the copies get independent parameters.
      num_layers: number of layers (> 0).
      norm: applied to the output of the last layer (e.g. ``LayerNorm(d_model)``).
      enable_nested_tensor: PyTorch's switch for its nested-tensor fast path; accepted
        for compatibility, with no effect (the meaning is the same).
      mask_check: PyTorch's other switch for that fast path; accepted for
        compatibility, with no effect.

    Params: ``layers.<i>.*`` for each layer and ``norm.*``, as in PyTorch. Layer ``i``
    receives key ``fold_in(fold_in(key, 0), i)`` and the norm ``fold_in(key, 1)``.

    ``apply(params, src, mask=None, src_key_padding_mask=None, is_causal=None, *,
    key=None, train=False)``: shapes and masks as `TransformerEncoderLayer`;
    ``is_causal`` is a hint that ``mask`` is causal (the mask is always what is used).
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        if not isinstance(encoder_layer, Module):
            raise TypeError(
                f"TransformerEncoder: `encoder_layer` must be a funcnn.nn.Module such as "
                f"nn.TransformerEncoderLayer(...), got {type(encoder_layer).__name__}"
            )
        check_positive("TransformerEncoder", "num_layers", num_layers)
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(
                f"TransformerEncoder: `norm` must be a funcnn.nn.Module such as nn.LayerNorm(d_model) or None, "
                f"got {type(norm).__name__}"
            )
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(
        self,
        run: ChildRunner,
        src: ArrayLike,
        mask: ArrayLike | None = None,
        src_key_padding_mask: ArrayLike | None = None,
        is_causal: bool | None = None,
    ) -> jax.Array:
        """Each layer in turn, then ``norm``; see the class docstring.

        Examples:
          >>> import jax, jax.numpy as jnp
          >>> from funcnn import nn
          >>> enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), num_layers=1)
          >>> enc.apply(enc.init(jax.random.key(0)), jnp.ones((3, 2, 4))).shape
          (3, 2, 4)
        """
        x = src
        for layer in run.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return x if self.norm is None else run.norm(x)
