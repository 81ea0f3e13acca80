"""`Transformer`: an encoder-decoder model with ``torch.nn.Transformer``'s parameters and numbers.

Parameter keys are PyTorch's: ``encoder.layers.<i>.*``, ``encoder.norm.*``,
``decoder.layers.<i>.*``, ``decoder.norm.*``. As in PyTorch, every parameter with more
than one dimension starts xavier-uniform (this replaces the layers' own defaults);
biases and LayerNorm parameters keep theirs.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn
  >>> from funcnn import nn
  >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
  ...                        dim_feedforward=16, batch_first=True)
  >>> params = model.init(jax.random.key(0))
  >>> [k for k in funcnn.state_dict(params) if k.endswith("norm.weight")]
  ['encoder.norm.weight', 'decoder.norm.weight']
  >>> src, tgt = jnp.ones((2, 5, 8)), jnp.ones((2, 3, 8))            # (N, S, E), (N, T, E)
  >>> out = model.apply(params, src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(3))
  >>> out.shape
  (2, 3, 8)
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _rng
from . import init as init_
from ._checks import check_positive, shape_of
from .container import ChildRunner
from .module import Module, Params, State
from .normalization import LayerNorm
from .transformer import TransformerEncoder, TransformerEncoderLayer, generate_square_subsequent_mask
from .transformer_decoder import TransformerDecoder, TransformerDecoderLayer


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", as ``torch.nn.Transformer``.

    Args:
      d_model: features ``E`` of the inputs.
      nhead: attention heads (``E % nhead == 0``).
      num_encoder_layers: encoder layers (> 0).
      num_decoder_layers: decoder layers (> 0).
      dim_feedforward: hidden size of the feed-forward blocks.
      dropout: dropout probability.
      activation: ``"relu"``, ``"gelu"``, a function or a funcnn module.
      custom_encoder: a module used instead of the default encoder, called as
        ``apply(params, src, mask=..., src_key_padding_mask=..., is_causal=...)``.
      custom_decoder: a module used instead of the default decoder, called as
        ``apply(params, tgt, memory, tgt_mask=..., memory_mask=..., ...)`` (see
        `TransformerDecoder`).
      layer_norm_eps: LayerNorm epsilon.
      batch_first: ``(N, S, E)`` instead of ``(S, N, E)``.
      norm_first: pre-norm layers.
      bias: biases in the linear, attention and LayerNorm layers.
      dtype: parameter dtype.

    ``apply(params, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False, *, key=None,
    train=False)``: ``src`` ``(S, N, E)``, ``tgt`` ``(T, N, E)`` (``batch_first``:
    ``(N, S, E)``, ``(N, T, E)``; unbatched ``(S, E)``, ``(T, E)``); ``src_mask``
    ``(S, S)``, ``tgt_mask`` ``(T, T)``, ``memory_mask`` ``(T, S)`` (or with a leading
    ``N * nhead``), key padding masks ``(N, S)``, ``(N, T)``, ``(N, S)``; boolean True =
    masked, or float added. Returns ``(T, N, E)`` (the layout of ``tgt``). The encoder
    receives key ``fold_in(key, 0)``, the decoder ``fold_in(key, 1)``.

    Examples:
      >>> from funcnn import nn
      >>> nn.Transformer.generate_square_subsequent_mask(2).tolist()
      [[0.0, -inf], [0.0, 0.0]]
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[jax.Array], jax.Array] | Module = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        check_positive("Transformer", "d_model", d_model)
        check_positive("Transformer", "nhead", nhead)
        for name, custom in (("custom_encoder", custom_encoder), ("custom_decoder", custom_decoder)):
            if custom is not None and not isinstance(custom, Module):
                raise TypeError(
                    f"Transformer: `{name}` must be a funcnn.nn.Module or None, got {type(custom).__name__}"
                )
        layer_args = (
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation,
            layer_norm_eps,
            batch_first,
            norm_first,
            bias,
        )

        def norm() -> LayerNorm:
            return LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)

        if custom_encoder is None:
            check_positive("Transformer", "num_encoder_layers", num_encoder_layers)
            custom_encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, dtype=dtype), num_encoder_layers, norm()
            )
        if custom_decoder is None:
            check_positive("Transformer", "num_decoder_layers", num_decoder_layers)
            custom_decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, dtype=dtype), num_decoder_layers, norm()
            )
        self.encoder, self.decoder = custom_encoder, custom_decoder  # the children, in PyTorch's order
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> jax.Array:
        """The causal float mask ``(sz, sz)``: 0 on and below the diagonal, ``-inf`` above.

        Args:
          sz: sequence length.
          device: accepted for PyTorch compatibility; unused.
          dtype: floating dtype of the mask (default float32).

        Returns:
          ``(sz, sz)`` array.

        Examples:
          >>> from funcnn import nn
          >>> nn.Transformer.generate_square_subsequent_mask(3).shape
          (3, 3)
        """
        del device
        return generate_square_subsequent_mask(sz, jnp.float32 if dtype is None else dtype)

    def init(self, key: jax.Array) -> Params:
        init_key, xavier_key = _rng.split(key, 2)
        params = super().init(init_key)
        # PyTorch's Transformer re-initialises every parameter with more than one dimension.
        keys = iter(_rng.split(xavier_key, max(len(jax.tree.leaves(params)), 1)))

        def xavier(tree: Any) -> Any:  # rebuilt key by key: dict order is state_dict order
            if isinstance(tree, dict):
                return {name: xavier(sub) for name, sub in tree.items()}
            k = next(keys)
            return init_.xavier_uniform(k, tree.shape, tree.dtype) if tree.ndim > 1 else tree

        return xavier(params)

    def forward(
        self,
        params: Params,
        src: ArrayLike,
        tgt: ArrayLike,
        src_mask: ArrayLike | None = None,
        tgt_mask: ArrayLike | None = None,
        memory_mask: ArrayLike | None = None,
        src_key_padding_mask: ArrayLike | None = None,
        tgt_key_padding_mask: ArrayLike | None = None,
        memory_key_padding_mask: ArrayLike | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> jax.Array:
        return self.apply_with_state(
            params,
            {},
            src,
            tgt,
            src_mask,
            tgt_mask,
            memory_mask,
            src_key_padding_mask,
            tgt_key_padding_mask,
            memory_key_padding_mask,
            src_is_causal,
            tgt_is_causal,
            memory_is_causal,
            key=key,
            train=train,
        )[0]

    def apply_with_state(
        self,
        params: Params,
        state: State,
        src: ArrayLike,
        tgt: ArrayLike,
        src_mask: ArrayLike | None = None,
        tgt_mask: ArrayLike | None = None,
        memory_mask: ArrayLike | None = None,
        src_key_padding_mask: ArrayLike | None = None,
        tgt_key_padding_mask: ArrayLike | None = None,
        memory_key_padding_mask: ArrayLike | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> tuple[jax.Array, State]:
        owner = f"Transformer(d_model={self.d_model}, nhead={self.nhead})"
        ss, ts = shape_of(src), shape_of(tgt)
        batch_axis = 0 if self.batch_first else 1
        if len(ss) == 3 and (len(ts) != 3 or ss[batch_axis] != ts[batch_axis]):
            raise ValueError(
                f"{owner}: expected src and tgt with the same batch size at dimension {batch_axis}, "
                f"got shapes {ss} and {ts}"
            )
        if not ss or not ts or ss[-1] != self.d_model or ts[-1] != self.d_model:
            raise ValueError(
                f"{owner}: expected src and tgt with last dimension d_model={self.d_model}, got shapes {ss} and {ts}"
            )
        run = ChildRunner(self, params, state, key=key, train=train)
        memory = run("encoder", src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        out = run(
            "decoder",
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )
        return out, run.state
