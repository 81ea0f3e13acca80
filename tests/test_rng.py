"""The documented host-side key rules of `funcnn._rng`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from funcnn import _rng

KEY = jax.random.key(7)
WORDS = np.asarray(jax.random.key_data(KEY), np.uint32)


def test_key_words_of_typed_and_raw_keys() -> None:
    np.testing.assert_array_equal(_rng.key_words(KEY), WORDS)
    np.testing.assert_array_equal(_rng.key_words(jax.random.PRNGKey(7)), WORDS)
    np.testing.assert_array_equal(_rng.key_words(WORDS), WORDS)
    assert _rng.key_words(KEY).dtype == np.uint32


def test_split_is_the_documented_seed_sequence_rule() -> None:
    children = _rng.split(KEY, 3)
    assert children.shape == (3, 2) and children.dtype == np.uint32
    entropy = [int(w) for w in WORDS]
    for i in range(3):
        want = np.random.SeedSequence(entropy, spawn_key=(i,)).generate_state(2, np.uint32)
        np.testing.assert_array_equal(children[i], want)


def test_generator_is_the_documented_pcg64_rule() -> None:
    want = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(w) for w in WORDS]))).normal(size=5)
    np.testing.assert_array_equal(_rng.generator(WORDS).normal(size=5), want)


def test_split_deterministic_and_children_distinct() -> None:
    np.testing.assert_array_equal(_rng.split(KEY, 4), _rng.split(KEY, 4))
    many = _rng.split(KEY, 1000)
    assert len({tuple(row) for row in many}) == 1000
    # A prefix of a longer split is the shorter split: child i does not depend on n.
    np.testing.assert_array_equal(many[:4], _rng.split(KEY, 4))
    # Different parents give different children, and a child differs from its parent.
    assert not np.array_equal(_rng.split(jax.random.key(8), 4), _rng.split(KEY, 4))
    assert not any(np.array_equal(row, WORDS) for row in many)


def test_split_default_and_empty() -> None:
    assert _rng.split(KEY).shape == (2, 2)
    assert _rng.split(KEY, 0).shape == (0, 2)


def test_split_keys_work_with_jax_random() -> None:
    child = _rng.split(KEY, 2)[0]
    x = jax.random.normal(child, (3,))  # a raw uint32[2] key
    assert x.shape == (3,)
    typed = jax.random.wrap_key_data(child)
    np.testing.assert_array_equal(jax.random.normal(typed, (3,)), x)
    # And they split again by the host rule.
    assert _rng.split(child, 2).shape == (2, 2)


def test_split_traced_equals_eager() -> None:
    eager = _rng.split(KEY, 3)
    np.testing.assert_array_equal(jax.jit(lambda k: _rng.split(k, 3))(KEY), eager)
    keys = jax.random.split(KEY, 4)
    batched = jax.vmap(lambda k: _rng.split(k, 3))(keys)
    assert batched.shape == (4, 3, 2)
    for i in range(4):
        np.testing.assert_array_equal(batched[i], _rng.split(keys[i], 3))


def test_draw_traced_equals_eager() -> None:
    def sample(g: np.random.Generator) -> np.ndarray:
        return g.normal(size=(2, 3))

    eager = _rng.draw(KEY, (2, 3), jnp.float32, sample)
    assert isinstance(eager, jax.Array) and eager.dtype == jnp.float32
    np.testing.assert_array_equal(eager, _rng.generator(WORDS).normal(size=(2, 3)).astype(np.float32))
    np.testing.assert_array_equal(jax.jit(lambda k: _rng.draw(k, (2, 3), jnp.float32, sample))(KEY), eager)
    keys = jax.random.split(KEY, 2)
    batched = jax.vmap(lambda k: _rng.draw(k, (2, 3), jnp.float32, sample))(keys)
    for i in range(2):
        np.testing.assert_array_equal(batched[i], _rng.draw(keys[i], (2, 3), jnp.float32, sample))


def test_is_traced() -> None:
    assert not _rng.is_traced(jnp.ones(2))
    seen = []
    jax.jit(lambda x: seen.append(_rng.is_traced(x)) or x)(jnp.ones(2))
    assert seen == [True]


def test_integer_key_error() -> None:
    with pytest.raises(TypeError, match=r"expected a PRNG key such as jax.random.key\(3\), got the integer 3"):
        _rng.split(3)


def test_wrong_dtype_key_error() -> None:
    with pytest.raises(TypeError, match=r"got ndarray with dtype int32; create one with jax.random.key\(0\)"):
        _rng.split(np.zeros(2, np.int32))


def test_sampler_shape_mismatch_is_an_internal_error() -> None:
    with pytest.raises(AssertionError, match=r"internal: sampler returned shape \(3,\), expected \(2,\)"):
        _rng.draw(KEY, (2,), jnp.float32, lambda g: g.normal(size=3))
