"""Attention and transformer behaviour beyond the generic layer cases: errors, masks, dropout, init."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import funcnn
import funcnn.nn.functional as F
from funcnn import nn

torch.set_num_threads(1)
TOL = dict(rtol=1e-5, atol=1e-5)


def randn(g: np.random.Generator, *shape: int) -> np.ndarray:
    return g.standard_normal(shape).astype(np.float32)


def t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(x))


# ----------------------------------------------------------- scaled_dot_product_attention
SDPA_CASES = {
    "plain": dict(),
    "bool-mask-broadcast": dict(attn_mask=np.random.default_rng(1).random((4, 6)) < 0.6),
    "float-mask": dict(attn_mask=np.random.default_rng(2).standard_normal((2, 1, 4, 6)).astype(np.float32)),
    "causal-rectangular": dict(is_causal=True),
    "scale": dict(scale=0.3),
}


@pytest.mark.parametrize("name", list(SDPA_CASES))
def test_sdpa_matches_torch(rng: np.random.Generator, name: str) -> None:
    q, k, v = randn(rng, 2, 3, 4, 5), randn(rng, 2, 3, 6, 5), randn(rng, 2, 3, 6, 7)
    kw = SDPA_CASES[name]
    tkw = {n: (t(x) if isinstance(x, np.ndarray) else x) for n, x in kw.items()}
    ours = F.scaled_dot_product_attention(q, k, v, **kw)
    np.testing.assert_allclose(ours, TF.scaled_dot_product_attention(t(q), t(k), t(v), **tkw).numpy(), **TOL)


def test_sdpa_gradients_match_torch(rng: np.random.Generator) -> None:
    q, k, v = randn(rng, 2, 4, 3), randn(rng, 2, 5, 3), randn(rng, 2, 5, 3)
    mask = np.ones((4, 5), bool)
    mask[1, 2:] = False
    ct = randn(rng, 2, 4, 3)
    grads = jax.grad(lambda *a: jnp.vdot(F.scaled_dot_product_attention(*a, attn_mask=mask), ct), argnums=(0, 1, 2))(
        q, k, v
    )
    tq, tk, tv = (t(x).requires_grad_() for x in (q, k, v))
    (TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=t(mask)) * t(ct)).sum().backward()
    for ours, theirs in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_sdpa_gqa_matches_torch(rng: np.random.Generator) -> None:
    q, k, v = randn(rng, 2, 4, 3, 5), randn(rng, 2, 2, 6, 5), randn(rng, 2, 2, 6, 5)
    ours = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    theirs = TF.scaled_dot_product_attention(t(q), t(k), t(v), enable_gqa=True)
    np.testing.assert_allclose(ours, theirs.numpy(), **TOL)


def test_sdpa_fully_masked_query_gives_zeros_and_finite_gradients(rng: np.random.Generator) -> None:
    q, k, v = randn(rng, 3, 4), randn(rng, 5, 4), randn(rng, 5, 4)
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    theirs = TF.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=t(mask)).numpy()
    np.testing.assert_allclose(out, theirs, **TOL)
    np.testing.assert_array_equal(out[1], 0.0)
    grads = jax.grad(lambda q, k: F.scaled_dot_product_attention(q, k, v, attn_mask=mask).sum(), argnums=(0, 1))(q, k)
    assert all(bool(jnp.isfinite(g).all()) for g in grads)
    np.testing.assert_array_equal(grads[0][1], 0.0)


def test_sdpa_dropout_uses_the_key(rng: np.random.Generator) -> None:
    q = randn(rng, 2, 6, 4)
    key = jax.random.key(0)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, dropout_key=key)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, dropout_key=key)
    c = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, dropout_key=jax.random.key(1))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a, F.scaled_dot_product_attention(q, q, q))


def test_sdpa_under_jit_and_vmap(rng: np.random.Generator) -> None:
    q = randn(rng, 3, 2, 5, 4)
    eager = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    jitted = jax.jit(lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True))(q)
    mapped = jax.vmap(lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True))(q)
    np.testing.assert_allclose(jitted, eager, **TOL)
    np.testing.assert_allclose(mapped, eager, **TOL)


@pytest.mark.parametrize(
    "kwargs, shapes, error, match",
    [
        (
            dict(is_causal=True, attn_mask=np.ones((3, 3), bool)),
            None,
            ValueError,
            "either is_causal=True or an explicit",
        ),
        (dict(dropout_p=0.1), None, ValueError, r"dropout_p=0.1 .* needs a PRNG key, got dropout_key=None"),
        (dict(dropout_p=1.5, dropout_key=jax.random.key(0)), None, ValueError, r"`dropout_p` must be a probability"),
        (dict(attn_mask=np.ones((3, 3), np.int32)), None, TypeError, "only boolean and floating-point `attn_mask`"),
        (
            dict(attn_mask=np.ones((4, 3), bool)),
            None,
            ValueError,
            r"attn_mask broadcastable to \(\*, L, S\) = \(\*, 3, 3\)",
        ),
        (dict(), ((2, 3, 4), (2, 3, 5), (2, 3, 4)), ValueError, "matching E and S"),
        (dict(), ((3,), (3,), (3,)), ValueError, "at least 2 dimensions"),
        (dict(enable_gqa=True), ((2, 3, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4)), ValueError, "multiple of key/value heads"),
    ],
    ids=["causal-and-mask", "dropout-no-key", "bad-dropout", "int-mask", "mask-shape", "mismatch", "rank", "gqa"],
)
def test_sdpa_errors(kwargs, shapes, error, match) -> None:
    qs, ks, vs = shapes or ((2, 3, 4),) * 3
    with pytest.raises(error, match=match):
        F.scaled_dot_product_attention(jnp.ones(qs), jnp.ones(ks), jnp.ones(vs), **kwargs)


def test_sdpa_integer_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="scaled_dot_product_attention: expected a floating-point query"):
        F.scaled_dot_product_attention(jnp.ones((2, 3), jnp.int32), jnp.ones((2, 3)), jnp.ones((2, 3)))


# ------------------------------------------------------- multi_head_attention_forward
@pytest.mark.parametrize("separate", [False, True], ids=["packed", "separate"])
def test_functional_mha_matches_torch(rng: np.random.Generator, separate: bool) -> None:
    E, H = 6, 3
    q, k, v = randn(rng, 4, 2, E), randn(rng, 5, 2, E), randn(rng, 5, 2, E)
    w_in, b_in, w_out, b_out = randn(rng, 3 * E, E), randn(rng, 3 * E), randn(rng, E, E), randn(rng, E)
    mask = randn(rng, 4, 5)
    extra = dict(use_separate_proj_weight=separate)
    if separate:
        extra.update(q_proj_weight=w_in[:E], k_proj_weight=w_in[E : 2 * E], v_proj_weight=w_in[2 * E :])
    textra = {n: (t(x) if isinstance(x, np.ndarray) else x) for n, x in extra.items()}
    args = (E, H, None if separate else w_in, b_in, None, None, False, 0.0, w_out, b_out)
    out, w = F.multi_head_attention_forward(q, k, v, *args, attn_mask=mask, average_attn_weights=False, **extra)
    targs = tuple(t(a) if isinstance(a, np.ndarray) else a for a in args)
    tout, tw = TF.multi_head_attention_forward(
        t(q), t(k), t(v), *targs, attn_mask=t(mask), average_attn_weights=False, **textra
    )
    np.testing.assert_allclose(out, tout.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w, tw.numpy(), **TOL)


@pytest.mark.parametrize(
    "override, match",
    [
        (dict(bias_k=jnp.zeros((1, 1, 4))), "pass both `bias_k` and `bias_v` or neither, got only one"),
        (
            dict(bias_k=jnp.zeros((1, 4)), bias_v=jnp.zeros((1, 4))),
            r"expected `bias_k` of shape \(1, 1, 4\), got \(1, 4\)",
        ),
        (dict(static_k=jnp.zeros((4, 3, 2))), "`static_k` is not supported, got an array; pass static_k=None"),
        (dict(in_proj_weight=jnp.ones((8, 4))), r"in_proj_weight of shape \(3 \* E, E\) = \(12, 4\), got \(8, 4\)"),
        (dict(use_separate_proj_weight=True), "needs q_proj_weight, k_proj_weight and v_proj_weight"),
        (dict(training=True, dropout_p=0.2), r"training with dropout=0.2 .* needs a PRNG key"),
    ],
    ids=["bias_k-alone", "bias_k-shape", "static_k", "packed-shape", "separate-missing", "dropout-no-key"],
)
def test_functional_mha_errors(override, match) -> None:
    x = jnp.ones((3, 2, 4))
    args = dict(
        embed_dim_to_check=4,
        num_heads=2,
        in_proj_weight=jnp.ones((12, 4)),
        in_proj_bias=None,
        bias_k=None,
        bias_v=None,
        add_zero_attn=False,
        dropout_p=0.0,
        out_proj_weight=jnp.eye(4),
        out_proj_bias=None,
    )
    args.update(override)
    with pytest.raises(ValueError, match=match):
        F.multi_head_attention_forward(x, x, x, **args)


# ------------------------------------------------------------------ MultiheadAttention
def test_mha_init_follows_torch_rules() -> None:
    E = 64
    params = nn.MultiheadAttention(E, 4).init(jax.random.key(0))
    bound = math.sqrt(6.0 / (E + 3 * E))  # xavier over the packed (3E, E) weight
    w = np.asarray(params["in_proj_weight"])
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    np.testing.assert_array_equal(params["in_proj_bias"], 0.0)
    np.testing.assert_array_equal(params["out_proj"]["bias"], 0.0)
    out_w = np.asarray(params["out_proj"]["weight"])
    assert np.abs(out_w).max() <= 1 / math.sqrt(E) and np.abs(out_w).max() > 0.95 / math.sqrt(E)

    sep = nn.MultiheadAttention(E, 4, kdim=16, vdim=32, bias=False).init(jax.random.key(1))
    assert sorted(sep) == ["k_proj_weight", "out_proj", "q_proj_weight", "v_proj_weight"]
    assert np.abs(sep["k_proj_weight"]).max() <= math.sqrt(6.0 / (E + 16))
    assert np.abs(sep["q_proj_weight"]).max() <= math.sqrt(6.0 / (2 * E))
    assert list(sep["out_proj"]) == ["weight"]


def test_mha_state_dict_order_and_repr_match_torch() -> None:
    for kw in (dict(), dict(kdim=3, vdim=5), dict(bias=False)):
        ours = nn.MultiheadAttention(8, 2, **kw)
        theirs = torch.nn.MultiheadAttention(8, 2, **kw)
        assert list(funcnn.state_dict(ours.init(jax.random.key(0)))) == list(theirs.state_dict())
    assert repr(nn.MultiheadAttention(8, 2)) == (
        "MultiheadAttention(\n  (out_proj): Linear(in_features=8, out_features=8, bias=True)\n)"
    )


def _mha_pair(**kw):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **kw)
    ours = nn.MultiheadAttention(8, 2, **kw)
    params, _ = funcnn.load_state_dict(ours, theirs.state_dict())
    return ours, theirs, params


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_query_matches_torch(rng: np.random.Generator, need_weights: bool) -> None:
    # torch gives NaN for a query with every key masked when it returns weights, zeros when not.
    ours, theirs, params = _mha_pair()
    q, k = randn(rng, 3, 2, 8), randn(rng, 4, 2, 8)
    mask = np.zeros((3, 4), bool)
    mask[0] = True
    out, _ = ours.apply(params, q, k, k, attn_mask=mask, need_weights=need_weights)
    with torch.no_grad():
        tout, _ = theirs(t(q), t(k), t(k), attn_mask=t(mask), need_weights=need_weights)
    np.testing.assert_allclose(out, tout.numpy(), **TOL)
    assert bool(jnp.isnan(out[0]).all()) == need_weights


def test_mha_dropout_in_training_only(rng: np.random.Generator) -> None:
    ours = nn.MultiheadAttention(8, 2, dropout=0.5)
    params = ours.init(jax.random.key(0))
    x = randn(rng, 6, 2, 8)
    run = jax.jit(
        lambda p, k, train: ours.apply(p, x, x, x, key=k, train=train, average_attn_weights=False),
        static_argnames="train",
    )
    eval_out, eval_w = run(params, jax.random.key(1), False)
    plain = nn.MultiheadAttention(8, 2).apply(params, x, x, x)
    np.testing.assert_allclose(eval_out, plain[0], **TOL)
    np.testing.assert_allclose(eval_w.sum(-1), 1.0, **TOL)
    a, wa = run(params, jax.random.key(1), True)
    b, _ = run(params, jax.random.key(1), True)
    c, _ = run(params, jax.random.key(2), True)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # the returned weights are those after dropout, as in torch: zeros and rows not summing to 1
    assert (np.asarray(wa) == 0).any() and not np.allclose(wa.sum(-1), 1.0)


def test_mha_in_a_jitted_train_step_compiles_once(rng: np.random.Generator) -> None:
    ours = nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=True)
    params = ours.init(jax.random.key(0))
    traces = []

    @jax.jit
    def loss(p, x, mask, key):
        traces.append(1)
        out, _ = ours.apply(p, x, x, x, key_padding_mask=mask, need_weights=False, key=key, train=True)
        return (out**2).mean()

    mask = np.zeros((2, 5), bool)
    mask[0, 3:] = True
    grads = [jax.grad(loss)(params, randn(rng, 2, 5, 8), mask, jax.random.key(i)) for i in range(2)]
    assert len(traces) == 1
    assert all(bool(jnp.isfinite(g).all()) for g in jax.tree.leaves(grads))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn.MultiheadAttention(8, 3), r"`embed_dim` \(=8\) must be divisible by `num_heads` \(=3\)"),
        (lambda: nn.MultiheadAttention(0, 2), "`embed_dim` must be a positive integer, got 0"),
        (lambda: nn.MultiheadAttention(8, 2, dropout=1.5), r"`dropout` must be a probability in \[0, 1\], got 1.5"),
        (lambda: nn.MultiheadAttention(8, 2, kdim=0), "`kdim` must be a positive integer, got 0"),
    ],
    ids=["divisible", "embed-dim", "dropout", "kdim"],
)
def test_mha_constructor_errors(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


OWNER = r"MultiheadAttention\(embed_dim=8, num_heads=2\): "


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda m, p, x: m.apply(p, x, key=x, value=x),
            TypeError,
            "the keyword `key=` is the PRNG key, got an array of dtype float32",
        ),
        (lambda m, p, x: m.apply(p, x, x), TypeError, r"expected query, key and value, got only \['query', 'key'\]"),
        (
            lambda m, p, x: m.apply(p, x[0, 0], x[0, 0], x[0, 0]),
            ValueError,
            r"expected a 3-D query \(L, N, E\) or an unbatched",
        ),
        (lambda m, p, x: m.apply(p, x, x[0], x), ValueError, "expected key and value with the query's 3 dimensions"),
        (
            lambda m, p, x: m.apply(p, x[..., :4], x, x),
            ValueError,
            r"last dimensions 8, 8, 8 \(embed_dim, kdim, vdim\)",
        ),
        (lambda m, p, x: m.apply(p, x, x[:, :1], x[:, :1]), ValueError, "same batch size"),
        (
            lambda m, p, x: m.apply(p, x, x, x, key_padding_mask=np.zeros((3, 5), bool)),
            ValueError,
            r"key_padding_mask of shape \(N, S\) = \(2, 3\), got \(3, 5\)",
        ),
        (
            lambda m, p, x: m.apply(p, x, x, x, attn_mask=np.zeros((2, 3, 3), bool)),
            ValueError,
            r"3-D one of shape \(N \* num_heads, L, S\) = \(4, 3, 3\), got \(2, 3, 3\)",
        ),
        (
            lambda m, p, x: m.apply(p, x, x, x, attn_mask=np.zeros((3, 3), np.int32)),
            TypeError,
            "only boolean and floating-point `attn_mask`",
        ),
        (
            lambda m, p, x: m.apply(p, x, x, x, is_causal=True),
            ValueError,
            r"is_causal=True is a hint .* pass attn_mask=nn.generate_square_subsequent_mask\(L\)",
        ),
        (lambda m, p, x: m.apply(p, x.astype(np.int32), x, x), TypeError, "expected a floating-point query"),
    ],
    ids=[
        "key-kwarg",
        "missing-value",
        "rank",
        "key-rank",
        "embed",
        "batch",
        "kpm",
        "mask-3d",
        "int-mask",
        "causal",
        "int-query",
    ],
)
def test_mha_call_errors(call, error, match) -> None:
    m = nn.MultiheadAttention(8, 2)
    with pytest.raises(error, match=OWNER + ".*" + match):
        call(m, m.init(jax.random.key(0)), np.ones((3, 2, 8), np.float32))


def test_mha_train_with_dropout_needs_a_key() -> None:
    m = nn.MultiheadAttention(8, 2, dropout=0.1)
    x = jnp.ones((3, 2, 8))
    with pytest.raises(ValueError, match=OWNER + r"train=True samples random numbers and needs a PRNG key"):
        m.apply(m.init(jax.random.key(0)), x, x, x, train=True)
    # without dropout, training needs no key
    nn.MultiheadAttention(8, 2).apply(m.init(jax.random.key(0)), x, x, x, train=True)


# ---------------------------------------------------------------- transformer encoder
def test_generate_square_subsequent_mask_matches_torch() -> None:
    expected = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(nn.generate_square_subsequent_mask(4), expected)
    with pytest.raises(ValueError, match="`sz` must be a positive integer, got 0"):
        nn.generate_square_subsequent_mask(0)


def test_encoder_layer_with_activation_function_matches_torch(rng: np.random.Generator) -> None:
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=TF.silu).eval()
    ours = nn.TransformerEncoderLayer(8, 2, 16, activation=F.silu)
    params, _ = funcnn.load_state_dict(ours, theirs.state_dict())
    x = randn(rng, 5, 2, 8)
    with torch.no_grad():
        expected = theirs(t(x)).numpy()
    np.testing.assert_allclose(ours.apply(params, x), expected, rtol=1e-4, atol=1e-4)


def test_encoder_layers_are_independent_copies() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 3)
    assert len({id(m) for m in enc.layers}) == 3 and layer not in list(enc.layers)
    params = enc.init(jax.random.key(0))
    w = [params["layers"][str(i)]["linear1"]["weight"] for i in range(3)]
    assert not np.allclose(w[0], w[1]) and not np.allclose(w[1], w[2])
    torch_keys = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16), 3, enable_nested_tensor=False
    ).state_dict()
    assert list(funcnn.state_dict(params)) == list(torch_keys)


def test_encoder_dropout_differs_per_layer_and_step(rng: np.random.Generator) -> None:
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3), 2)
    params = enc.init(jax.random.key(0))
    x = randn(rng, 5, 2, 8)
    f = jax.jit(lambda p, k, train: enc.apply(p, x, key=k, train=train), static_argnames="train")
    a, b = f(params, jax.random.key(1), True), f(params, jax.random.key(2), True)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, f(params, jax.random.key(1), True))
    # evaluation ignores dropout: any key gives the same numbers
    np.testing.assert_array_equal(f(params, jax.random.key(1), False), f(params, jax.random.key(3), False))
    with pytest.raises(ValueError, match="train=True samples random numbers and needs a PRNG key"):
        enc.apply(params, x, train=True)


def test_encoder_is_causal_without_mask_is_an_error() -> None:
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
    with pytest.raises(ValueError, match="is_causal=True is a hint that `attn_mask` is the causal mask"):
        enc.apply(enc.init(jax.random.key(0)), jnp.ones((3, 2, 8)), is_causal=True)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"),
            ValueError,
            r"`activation` must be 'relu', 'gelu', a function or a module, got 'tanh'",
        ),
        (lambda: nn.TransformerEncoderLayer(8, 2, activation=3), TypeError, "got a int"),
        (
            lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=0),
            ValueError,
            "`dim_feedforward` must be a positive",
        ),
        (lambda: nn.TransformerEncoderLayer(8, 2, dropout=-0.1), ValueError, r"`dropout` must be a probability"),
        (lambda: nn.TransformerEncoderLayer(8, 3), ValueError, r"`embed_dim` \(=8\) must be divisible by `num_heads`"),
        (
            lambda: nn.TransformerEncoder(torch.nn.Linear(2, 2), 2),
            TypeError,
            "`encoder_layer` must be a funcnn.nn.Module",
        ),
        (
            lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 0),
            ValueError,
            "`num_layers` must be a positive",
        ),
        (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 1, norm="ln"), TypeError, "`norm` must be"),
    ],
    ids=["activation-name", "activation-type", "ff", "dropout", "heads", "layer-type", "num-layers", "norm"],
)
def test_transformer_constructor_errors(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_encoder_layer_input_shape_error() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    with pytest.raises(
        ValueError,
        match=r"TransformerEncoderLayer\(d_model=8, nhead=2\): expected src of shape "
        r"\(N, S, E\) or unbatched \(S, E\) with E = 8, got shape \(2, 5, 6\)",
    ):
        layer.apply(layer.init(jax.random.key(0)), jnp.ones((2, 5, 6)))


def test_mha_bias_kv_params_follow_torch_names_shapes_and_init() -> None:
    E = 256
    mha = nn.MultiheadAttention(E, 4, add_bias_kv=True)
    params = mha.init(jax.random.key(0))
    assert list(funcnn.state_dict(params)) == list(torch.nn.MultiheadAttention(8, 4, add_bias_kv=True).state_dict())
    for name in ("bias_k", "bias_v"):
        assert params[name].shape == (1, 1, E)
        assert abs(float(params[name].std()) * math.sqrt(E) - 1.0) < 0.15  # xavier-normal: std 1/sqrt(E)
    assert not np.array_equal(params["bias_k"], params["bias_v"])
    # the other parameters are those of the layer without add_bias_kv, key for key
    plain = nn.MultiheadAttention(E, 4).init(jax.random.key(0))
    np.testing.assert_array_equal(params["in_proj_weight"], plain["in_proj_weight"])


def test_mha_add_zero_attn_lets_a_fully_padded_query_attend_to_the_zero_key() -> None:
    mha = nn.MultiheadAttention(4, 2, add_zero_attn=True)
    params = mha.init(jax.random.key(1))
    x = jnp.ones((3, 1, 4))
    out, w = mha.apply(params, x, x, x, key_padding_mask=jnp.ones((1, 3), bool))
    assert w.shape == (1, 3, 4)
    np.testing.assert_allclose(w[..., -1], 1.0)  # all the weight on the appended zero key
    np.testing.assert_allclose(out, jnp.broadcast_to(params["out_proj"]["bias"], out.shape), atol=1e-6)


# ------------------------------------------------------ transformer decoder and Transformer
def test_decoder_state_dict_keys_match_torch_in_order() -> None:
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8))
    params = dec.init(jax.random.key(0))
    torch_keys = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(8, 2, 16), 2, torch.nn.LayerNorm(8)
    ).state_dict()
    assert list(funcnn.state_dict(params)) == list(torch_keys)
    w = [params["layers"][str(i)]["multihead_attn"]["in_proj_weight"] for i in range(2)]
    assert not np.allclose(w[0], w[1])  # independent copies


def test_transformer_state_dict_and_xavier_init_match_torch() -> None:
    model = nn.Transformer(16, 2, 1, 2, dim_feedforward=32)
    params = model.init(jax.random.key(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tmodel = torch.nn.Transformer(16, 2, 1, 2, dim_feedforward=32)
    assert list(funcnn.state_dict(params)) == list(tmodel.state_dict())
    flat = funcnn.state_dict(params)
    w = np.asarray(flat["decoder.layers.1.linear1.weight"])  # (32, 16): xavier, not Linear's kaiming bound 1/4
    bound = math.sqrt(6.0 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound and np.abs(w).max() > 0.25
    np.testing.assert_array_equal(flat["encoder.layers.0.self_attn.in_proj_bias"], 0)
    np.testing.assert_array_equal(flat["decoder.norm.weight"], 1)
    b = np.asarray(flat["decoder.layers.0.linear1.bias"])  # 1-D: Linear's own U(±1/sqrt(16))
    assert 0 < np.abs(b).max() <= 0.25


def test_transformer_generate_square_subsequent_mask_matches_torch() -> None:
    expected = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64).numpy()
    got = nn.Transformer.generate_square_subsequent_mask(3, dtype=jnp.float32)
    np.testing.assert_array_equal(got, expected)


def test_transformer_dropout_uses_the_key_in_train_mode_only(rng: np.random.Generator) -> None:
    model = nn.Transformer(8, 2, 1, 1, dim_feedforward=16, dropout=0.3, batch_first=True)
    params = model.init(jax.random.key(0))
    src, tgt = randn(rng, 2, 5, 8), randn(rng, 2, 3, 8)
    f = jax.jit(lambda p, k, train: model.apply(p, src, tgt, key=k, train=train), static_argnames="train")
    a, b = f(params, jax.random.key(1), True), f(params, jax.random.key(2), True)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, f(params, jax.random.key(1), True))
    np.testing.assert_array_equal(f(params, jax.random.key(1), False), f(params, jax.random.key(3), False))
    with pytest.raises(ValueError, match="train=True samples random numbers and needs a PRNG key"):
        model.apply(params, src, tgt, train=True)


def test_decoder_layer_with_activation_function_matches_torch(rng: np.random.Generator) -> None:
    torch.manual_seed(0)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, 16, activation=TF.silu, norm_first=True).eval()
    ours = nn.TransformerDecoderLayer(8, 2, 16, activation=F.silu, norm_first=True)
    params, _ = funcnn.load_state_dict(ours, theirs.state_dict())
    tgt, mem = randn(rng, 4, 2, 8), randn(rng, 6, 2, 8)
    with torch.no_grad():
        expected = theirs(t(tgt), t(mem)).numpy()
    np.testing.assert_allclose(ours.apply(params, tgt, mem), expected, rtol=1e-4, atol=1e-4)


def test_decoder_tgt_is_causal_without_mask_is_an_error() -> None:
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 1)
    with pytest.raises(ValueError, match="is_causal=True is a hint that `attn_mask` is the causal mask"):
        dec.apply(dec.init(jax.random.key(0)), jnp.ones((3, 2, 8)), jnp.ones((4, 2, 8)), tgt_is_causal=True)


_DEC_OWNER = r"TransformerDecoderLayer\(d_model=8, nhead=2\): "
_TR_OWNER = r"Transformer\(d_model=8, nhead=2\): "
_DEC = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True)
_TR = nn.Transformer(8, 2, 1, 1, 16)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: nn.TransformerDecoderLayer(8, 2, activation="tanh"),
            ValueError,
            _DEC_OWNER + r"`activation` must be 'relu', 'gelu', a function or a module, got 'tanh'",
        ),
        (
            lambda: nn.TransformerDecoderLayer(8, 2, dropout=2.0),
            ValueError,
            _DEC_OWNER + r"`dropout` must be a probability in \[0, 1\], got 2.0",
        ),
        (
            lambda: nn.TransformerDecoderLayer(0, 2),
            ValueError,
            r"TransformerDecoderLayer: `d_model` must be a positive integer, got 0",
        ),
        (
            lambda: nn.TransformerDecoder(torch.nn.Linear(2, 2), 2),
            TypeError,
            r"TransformerDecoder: `decoder_layer` must be a funcnn.nn.Module such as nn.TransformerDecoderLayer\(...\), got Linear",
        ),
        (
            lambda: nn.TransformerDecoder(_DEC, 0),
            ValueError,
            r"TransformerDecoder: `num_layers` must be a positive integer, got 0",
        ),
        (
            lambda: nn.TransformerDecoder(_DEC, 1, norm="ln"),
            TypeError,
            r"TransformerDecoder: `norm` must be a funcnn.nn.Module such as nn.LayerNorm\(d_model\) or None, got str",
        ),
        (
            lambda: _DEC.apply(_DEC.init(jax.random.key(0)), jnp.ones((2, 4, 6)), jnp.ones((2, 5, 8))),
            ValueError,
            _DEC_OWNER + r"expected tgt of shape \(N, T, E\) or unbatched \(T, E\) with E = 8, got shape \(2, 4, 6\)",
        ),
        (
            lambda: _DEC.apply(_DEC.init(jax.random.key(0)), jnp.ones((2, 4, 8)), jnp.ones(8)),
            ValueError,
            _DEC_OWNER + r"expected memory of shape \(N, S, E\) or unbatched \(S, E\) with E = 8, got shape \(8,\)",
        ),
        (
            lambda: _DEC.apply(_DEC.init(jax.random.key(0)), jnp.ones((2, 4, 8)), jnp.ones((5, 8))),
            ValueError,
            _DEC_OWNER
            + r"expected tgt and memory both batched \(3-D\) or both unbatched \(2-D\), got shapes \(2, 4, 8\) and \(5, 8\)",
        ),
        (
            lambda: nn.Transformer(8, 2, custom_encoder="enc"),
            TypeError,
            r"Transformer: `custom_encoder` must be a funcnn.nn.Module or None, got str",
        ),
        (
            lambda: nn.Transformer(8, 2, num_decoder_layers=0),
            ValueError,
            r"Transformer: `num_decoder_layers` must be a positive integer, got 0",
        ),
        (
            lambda: _TR.apply(_TR.init(jax.random.key(0)), jnp.ones((5, 2, 8)), jnp.ones((4, 3, 8))),
            ValueError,
            _TR_OWNER
            + r"expected src and tgt with the same batch size at dimension 1, got shapes \(5, 2, 8\) and \(4, 3, 8\)",
        ),
        (
            lambda: _TR.apply(_TR.init(jax.random.key(0)), jnp.ones((5, 2, 8)), jnp.ones((4, 2, 6))),
            ValueError,
            _TR_OWNER + r"expected src and tgt with last dimension d_model=8, got shapes \(5, 2, 8\) and \(4, 2, 6\)",
        ),
    ],
    ids=[
        "activation",
        "dropout",
        "d_model",
        "layer-type",
        "num-layers",
        "norm",
        "tgt-shape",
        "memory-shape",
        "batched-mix",
        "custom-type",
        "dec-layers",
        "batch",
        "features",
    ],
)
def test_decoder_and_transformer_errors(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()
