"""bfloat16 mixed precision trains the digits CNN as well as float32.

The same CNN, data, key and settings are trained twice with `funcnn.train.fit`
(``fused=True``): once in float32 and once wrapped in
``nn.MixedPrecision(model, "mixed_bfloat16")`` (float32 parameters and optimizer,
bfloat16 convolutions and matmuls, float32 outputs). bfloat16 keeps float32's exponent
range, so no loss scaling is needed; its 8-bit mantissa costs at most a point of
held-out accuracy here.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import optax
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `examples` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from examples.digits_cnn import DigitsCNN, accuracy, load_split  # noqa: E402
from funcnn import data, nn, train  # noqa: E402

EPOCHS = 6


@functools.cache
def trained(policy: str) -> tuple[float, jnp.dtype, list[dict]]:
    """(held-out accuracy, compute dtype seen by the first conv, history) of one run."""
    train_set, test_set = load_split(0, (0.8, 0.2))
    model: nn.Module = DigitsCNN(dropout=0.0)
    if policy != "float32":
        model = nn.MixedPrecision(model, policy)
    loader = data.DataLoader(train_set, batch_size=32, shuffle=True, key=jax.random.key(1))
    result = train.fit(
        model,
        optax.adam(3e-3),
        loader,
        loss=nn.CrossEntropyLoss(),
        epochs=EPOCHS,
        key=jax.random.key(2),
        progress=False,
        fused=True,
    )
    logits = jax.eval_shape(
        lambda p, s, x: model.apply_with_state(p, s, x)[0], result.params, result.state, test_set[0]
    )
    return accuracy(model, result.params, result.state, *test_set), logits.dtype, result.history


@pytest.mark.usefixtures("optimized_xla")  # six epochs of bfloat16 convolutions run 3x longer unoptimised
def test_bfloat16_matches_float32_accuracy() -> None:
    acc32, dtype32, _ = trained("float32")
    acc16, dtype16, history = trained("mixed_bfloat16")
    assert dtype32 == dtype16 == jnp.float32  # outputs come back in float32
    assert acc32 > 0.93, acc32  # the reference run learned
    assert abs(acc16 - acc32) <= 0.01, (acc16, acc32)
    assert history[-1]["loss"] < history[0]["loss"]


def test_parameters_and_buffers_stay_float32() -> None:
    model = nn.MixedPrecision(DigitsCNN(dropout=0.0), "mixed_bfloat16")
    params, state = model.init(jax.random.key(0)), model.init_state()
    x = jnp.ones((4, 1, 8, 8), jnp.float32)
    # dtypes are fixed when tracing: eval_shape sees the same as a run, without compiling the bfloat16 ops
    _, new_state = jax.eval_shape(lambda p, s, x: model.apply_with_state(p, s, x, train=True), params, state, x)
    assert {a.dtype for a in jax.tree.leaves(params)} == {jnp.dtype(jnp.float32)}
    assert jax.tree.map(lambda a: a.dtype, new_state) == jax.tree.map(lambda a: a.dtype, state)
