"""The recurrence kernel behind `funcnn.nn.functional.rnn`: one layer, one direction.

``_recurrence(mode, xs, state, w_hh, b_hn, mask, reverse, precision, unroll)`` scans
one step function over time-major per-gate inputs ``xs`` (the input projection is
already done) and returns ``(outputs (L, N, H), final state)``.

Differentiation: the kernel is a ``jax.custom_jvp`` whose tangent rule is itself a
linear scan written for its transpose. The tangent of ``h_{t-1} @ W_hh.T`` splits into
``dh_{t-1} @ W_hh.T`` (inside the tangent scan) and ``h_{t-1} @ dW_hh.T``, which is
one matmul over all steps before that scan. So forward mode (``jax.jvp``,
``jax.jacfwd``) runs one tangent scan, and reverse mode (``jax.grad``, ``jax.vjp``),
JAX's transpose of that rule, is the usual hand-written backward pass of cuDNN and
PyTorch: the backward scan carries only the state cotangents and does one
``d_gates @ W_hh`` per step, and the weight gradient is a single matmul over all
steps afterwards, where automatic differentiation of the plain scan would
accumulate it step by step. Gate activations are saved by the forward scan, never
recomputed. See ``benchmarks/lstm_formulations.py``.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax import lax


def _hh(h: jax.Array, w_hh: jax.Array, precision: Any) -> jax.Array:
    """``h @ w_hh.T`` without materialising the transpose."""
    return lax.dot_general(h, w_hh, (((h.ndim - 1,), (1,)), ((), ())), precision=precision)


def _cell_forward(
    mode: str,
    xp: Sequence[jax.Array],
    state: tuple[jax.Array, ...],
    w_hh: jax.Array,
    b_hn: jax.Array | None,
    precision: Any,
    w_hr: jax.Array | None = None,
) -> tuple[tuple[jax.Array, ...], tuple[jax.Array, ...]]:
    """One step from the projected input, one ``(N, H)`` array per gate (biases added,
    except the GRU's ``b_hh``, which is ``b_hn`` here). Returns ``(new state, saved)``,
    ``saved`` being the activations `_cell_tangent` needs. An LSTM with ``w_hr``
    (``(P, H)``, PyTorch's ``proj_size``) projects its hidden state: ``h = (o * tanh(c)) @ w_hr.T``."""
    h = state[0]
    hp = _hh(h, w_hh, precision)
    if mode == "lstm":
        hi, hf, hg, ho = jnp.split(hp, 4, axis=-1)
        i, f = jax.nn.sigmoid(xp[0] + hi), jax.nn.sigmoid(xp[1] + hf)
        g, o = jnp.tanh(xp[2] + hg), jax.nn.sigmoid(xp[3] + ho)
        c = f * state[1] + i * g
        tc = jnp.tanh(c)
        h = o * tc if w_hr is None else _hh(o * tc, w_hr, precision)
        return (h, c), (i, f, g, o, tc)
    if mode == "gru":
        if b_hn is not None:
            hp = hp + jnp.expand_dims(b_hn, tuple(range(hp.ndim - 1)))
        hr, hz, hn = jnp.split(hp, 3, axis=-1)
        r, z = jax.nn.sigmoid(xp[0] + hr), jax.nn.sigmoid(xp[1] + hz)
        n = jnp.tanh(xp[2] + r * hn)
        return ((1 - z) * n + z * h,), (r, z, n, hn)
    pre = xp[0] + hp
    h = jnp.tanh(pre) if mode == "rnn_tanh" else jax.nn.relu(pre)
    return (h,), (h,)


def _cell_tangent(
    mode: str,
    saved: tuple[jax.Array, ...],
    prev: tuple[jax.Array, ...],
    d_prev: tuple[jax.Array, ...],
    d_xp: Sequence[jax.Array],
    d_hw: jax.Array,
    d_b_hn: jax.Array | None,
    w_hh: jax.Array,
    precision: Any,
    w_hr: jax.Array | None = None,
    d_hr: jax.Array | None = None,
) -> tuple[jax.Array, ...]:
    """The tangent of one step, linear in ``d_prev``, ``d_xp``, ``d_hw`` (``h @ dW_hh.T``),
    ``d_b_hn`` and ``d_hr`` (``(o * tanh(c)) @ dW_hr.T``); ``saved`` and ``prev`` are the
    step's activations and input state."""
    d_hp = _hh(d_prev[0], w_hh, precision) + d_hw
    if mode == "lstm":
        i, f, g, o, tc = saved
        hi, hf, hg, ho = jnp.split(d_hp, 4, axis=-1)
        di, df = (d_xp[0] + hi) * i * (1 - i), (d_xp[1] + hf) * f * (1 - f)
        dg, do = (d_xp[2] + hg) * (1 - g * g), (d_xp[3] + ho) * o * (1 - o)
        dc = df * prev[1] + f * d_prev[1] + di * g + i * dg
        dh = do * tc + o * (1 - tc * tc) * dc
        return (dh if w_hr is None else _hh(dh, w_hr, precision) + d_hr, dc)
    if mode == "gru":
        r, z, n, hn = saved
        if d_b_hn is not None:
            d_hp = d_hp + jnp.expand_dims(d_b_hn, tuple(range(d_hp.ndim - 1)))
        hr, hz, d_hn = jnp.split(d_hp, 3, axis=-1)
        dr, dz = (d_xp[0] + hr) * r * (1 - r), (d_xp[1] + hz) * z * (1 - z)
        dn = (d_xp[2] + dr * hn + r * d_hn) * (1 - n * n)
        return ((1 - z) * dn + dz * (prev[0] - n) + z * d_prev[0],)
    (h,) = saved
    d_pre = d_xp[0] + d_hp
    return (d_pre * (1 - h * h) if mode == "rnn_tanh" else jnp.where(h > 0, d_pre, 0),)


def _masked(
    new: tuple[jax.Array, ...], carry: tuple[jax.Array, ...], m_t: jax.Array | None
) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    """``(output, state)`` of a step: past a sequence's end the output is zero and the
    state passes through unchanged."""
    out = new[0]
    if m_t is None:
        return out, new
    return jnp.where(m_t, out, jnp.zeros((), out.dtype)), tuple(jnp.where(m_t, a, b) for a, b in zip(new, carry))


def _recurrence_scan(
    mode: str,
    xs: tuple[jax.Array, ...],
    state: tuple[jax.Array, ...],
    w_hh: jax.Array,
    b_hn: jax.Array | None,
    w_hr: jax.Array | None,
    mask: jax.Array | None,
    reverse: bool,
    precision: Any,
    unroll: int,
    keep: bool,
) -> Any:
    def body(carry, inp):
        xp_t, m_t = inp
        new, saved = _cell_forward(mode, xp_t, carry, w_hh, b_hn, precision, w_hr)
        out, new = _masked(new, carry, m_t)
        return new, ((out, carry, saved) if keep else out)

    return lax.scan(body, state, (xs, mask), reverse=reverse, unroll=unroll)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 7, 8, 9))
def _recurrence(
    mode: str,
    xs: tuple[jax.Array, ...],
    state: tuple[jax.Array, ...],
    w_hh: jax.Array,
    b_hn: jax.Array | None,
    w_hr: jax.Array | None,
    mask: jax.Array | None,
    reverse: bool,
    precision: Any,
    unroll: int,
) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    """Outputs ``(L, N, H)`` (``(L, N, P)`` with ``w_hr``) and final state of one direction over per-gate inputs ``xs``."""
    final, out = _recurrence_scan(mode, xs, state, w_hh, b_hn, w_hr, mask, reverse, precision, unroll, keep=False)
    return out, final


@_recurrence.defjvp
def _recurrence_jvp(mode, reverse, precision, unroll, primals, tangents):
    xs, state, w_hh, b_hn, w_hr, mask = primals
    d_xs, d_state, d_w_hh, d_b_hn, d_w_hr, _ = tangents
    final, (out, prev, saved) = _recurrence_scan(
        mode, xs, state, w_hh, b_hn, w_hr, mask, reverse, precision, unroll, keep=True
    )
    # ``h_{t-1} @ dW_hh.T`` (and ``(o * tanh(c_t)) @ dW_hr.T``) for every step at once: the
    # transpose of each is one weight-gradient matmul over all steps.
    over_steps = (((2,), (1,)), ((), ()))
    d_hw = lax.dot_general(prev[0], d_w_hh, over_steps, precision=precision)
    d_hr = None if w_hr is None else lax.dot_general(saved[3] * saved[4], d_w_hr, over_steps, precision=precision)

    def body(carry, inp):
        d_xp_t, d_hw_t, d_hr_t, prev_t, saved_t, m_t = inp
        new = _cell_tangent(mode, saved_t, prev_t, carry, d_xp_t, d_hw_t, d_b_hn, w_hh, precision, w_hr, d_hr_t)
        return _masked(new, carry, m_t)[::-1]

    d_final, d_out = lax.scan(body, d_state, (d_xs, d_hw, d_hr, prev, saved, mask), reverse=reverse, unroll=unroll)
    return (out, final), (d_out, d_final)
