"""Parameter names, shape checks and argument checks of the recurrent ops (`funcnn.nn.functional.rnn`).

Examples:
  >>> from funcnn.nn.functional._rnn_params import rnn_param_names
  >>> rnn_param_names(1, True, bias=False, proj=True)
  ['weight_ih_l1_reverse', 'weight_hh_l1_reverse', 'weight_hr_l1_reverse']
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_floating, shape_of

# Gate blocks per mode: rows of ``weight_ih``/``weight_hh`` are ``gates * hidden_size``.
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


# -------------------------------------------------------------------- checking
def rnn_param_names(layer: int, reverse: bool, bias: bool, proj: bool = False) -> list[str]:
    """PyTorch's names (and ``state_dict`` order) of one layer and direction's parameters."""
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")
    names = [f"weight_ih{sfx}", f"weight_hh{sfx}"]
    if bias:
        names += [f"bias_ih{sfx}", f"bias_hh{sfx}"]
    return names + [f"weight_hr{sfx}"] if proj else names


def _sizes(
    owner: str, mode: str, params: Mapping[str, Any], num_layers: int, num_directions: int
) -> tuple[int, int, bool, int]:
    """``(input_size, hidden_size, bias, proj_size)`` read from the parameter dict, with its keys checked."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{owner}: expected `params` as a dict of arrays from `init`, got {type(params).__name__}")
    bias = "bias_ih_l0" in params
    proj = mode == "lstm" and "weight_hr_l0" in params
    want = [n for k in range(num_layers) for d in range(num_directions) for n in rnn_param_names(k, d == 1, bias, proj)]
    missing = [n for n in want if n not in params]
    extra = [n for n in params if n not in want]
    if missing or extra:
        raise ValueError(
            f"{owner}: `params` must have the keys {want}, got {sorted(params)} "
            f"(missing {missing}, unexpected {extra}); pass the dict from the layer's `init`"
        )
    w_ih, w_hh = shape_of(params["weight_ih_l0"]), shape_of(params["weight_hh_l0"])
    if proj:
        w_hr = shape_of(params["weight_hr_l0"])
        if (
            len(w_hh) != 2
            or len(w_ih) != 2
            or len(w_hr) != 2
            or w_ih[0] != w_hh[0]
            or w_hh[0] != 4 * w_hr[1]
            or w_hh[1] != w_hr[0]
            or w_hr[0] >= w_hr[1]
        ):
            raise ValueError(
                f"{owner}: expected weight_ih_l0 of shape (4*hidden_size, input_size), weight_hh_l0 of shape "
                f"(4*hidden_size, proj_size) and weight_hr_l0 of shape (proj_size, hidden_size) with "
                f"proj_size < hidden_size, got {w_ih}, {w_hh} and {w_hr}"
            )
        return w_ih[1], w_hr[1], bias, w_hr[0]
    if len(w_hh) != 2 or len(w_ih) != 2 or w_hh[0] != GATES[mode] * w_hh[1] or w_ih[0] != w_hh[0]:
        raise ValueError(
            f"{owner}: expected weight_ih_l0 of shape ({GATES[mode]}*hidden_size, input_size) and "
            f"weight_hh_l0 of shape ({GATES[mode]}*hidden_size, hidden_size), got {w_ih} and {w_hh}"
        )
    return w_ih[1], w_hh[1], bias, 0


def _check_state(owner: str, what: str, h: Any, want: tuple[int, ...]) -> jax.Array:
    check_floating(owner, h, what)
    if shape_of(h) != want:
        raise ValueError(f"{owner}: expected {what} of shape {want}, got shape {shape_of(h)}")
    return jnp.asarray(h)


def _check_lengths(owner: str, lengths: Any, n: int, seq_len: int) -> jax.Array:
    if not hasattr(lengths, "dtype"):  # a list or tuple of ints
        lengths = np.asarray(lengths)
    if not jnp.issubdtype(jnp.result_type(lengths), jnp.integer):
        raise TypeError(
            f"{owner}: expected integer `lengths`, got dtype {jnp.result_type(lengths)}; "
            f"pass e.g. jnp.array([5, 3], dtype=jnp.int32)"
        )
    if shape_of(lengths) != (n,):
        raise ValueError(
            f"{owner}: expected `lengths` of shape ({n},), one length per sequence of the batch, "
            f"got shape {shape_of(lengths)}"
        )
    if not isinstance(lengths, jax.core.Tracer):
        values = np.asarray(lengths)
        if n and (values.min() < 1 or values.max() > seq_len):
            raise ValueError(
                f"{owner}: every entry of `lengths` must be in [1, {seq_len}] (the padded sequence "
                f"length), got {values.tolist()}"
            )
    return jnp.asarray(lengths)
