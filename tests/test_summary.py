"""`nn.summary`: the tree, output shapes and counts against torch's modules, hooks and output shapes."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from cases.containers import ConvLSTM, ResNetBlock, TorchConvLSTM, TorchResNetBlock

from funcnn import nn

ROW = re.compile(r"^(?P<label>\s*\S.*?)\s{2,}(?P<shape>\S.*?)\s{2,}(?P<params>[\d,]+)\s{2,}(?P<buffers>[\d,]+)$")


def parse(table: str) -> list[dict[str, str]]:
    """The module rows of a summary table (between the two rules)."""
    lines = table.splitlines()
    rules = [i for i, line in enumerate(lines) if set(line) == {"-"}]
    rows = []
    for line in lines[rules[0] + 1 : rules[1]]:
        m = ROW.match(line)
        assert m, f"unparsable row: {line!r}"
        rows.append(m.groupdict())
    return rows


def describe(out) -> str:
    if out is None:
        return "None"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(describe(o) for o in out) + "]"
    return str(tuple(out.shape))


def torch_rows(tmod: torch.nn.Module, *inputs: np.ndarray) -> list[dict[str, str]]:
    """What the summary should say, from torch: names, forward-hook output shapes, counts."""
    shapes: dict[str, list[str]] = {}
    handles = [
        m.register_forward_hook(lambda mod, args, out, name=name: shapes.setdefault(name, []).append(describe(out)))
        for name, m in tmod.named_modules()
    ]
    with torch.no_grad():
        tmod(*[torch.from_numpy(x) for x in inputs])
    for h in handles:
        h.remove()
    rows = []
    for name, m in tmod.named_modules():
        rows.append(
            dict(
                name=name.rsplit(".", 1)[-1],
                depth=name.count(".") + 1 if name else 0,
                shape=" | ".join(dict.fromkeys(shapes.get(name, ["-"]))),
                params=f"{sum(p.numel() for p in m.parameters()):,}",
                buffers=f"{sum(b.numel() for b in m.buffers()):,}",
            )
        )
    return rows


PAIRS = {
    "transformer-encoder": (
        lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8)),
        lambda: torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(8, 2, 16), 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False
        ).eval(),
        (5, 3, 8),
    ),
    "resnet-block": (
        lambda: ResNetBlock(3, 4, stride=2),
        lambda: TorchResNetBlock(3, 4, stride=2).eval(),
        (2, 3, 8, 8),
    ),
    "cnn-lstm": (ConvLSTM, TorchConvLSTM, (2, 3, 7)),
    "sequential-residual": (
        lambda: nn.Sequential(nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))), nn.ReLU()),
        lambda: torch.nn.Sequential(
            _TorchResidual(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))), torch.nn.ReLU()
        ).eval(),
        (3, 4),
    ),
}


class _TorchResidual(torch.nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x) + x


@pytest.mark.parametrize("name", list(PAIRS))
def test_summary_matches_torch_tree_shapes_and_counts(name: str) -> None:
    make, make_torch, shape = PAIRS[name]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    rows = parse(nn.summary(make(), jax.ShapeDtypeStruct(shape, jnp.float32)))
    expected = torch_rows(make_torch(), x)
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected):
        label = row["label"]
        depth = (len(label) - len(label.lstrip())) // 2
        assert depth == want["depth"], label
        if want["name"]:
            assert label.strip().startswith(f"({want['name']}): "), label
        assert (row["shape"], row["params"], row["buffers"]) == (want["shape"], want["params"], want["buffers"]), label


def test_summary_of_the_seed_model() -> None:
    model = nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1))
    table = nn.summary(model, jnp.zeros((100, 3)))
    assert table.splitlines()[0].split() == ["Module", "Output", "shape", "Params", "Buffers"]
    assert [r["label"].strip() for r in parse(table)] == [
        "Sequential",
        "(hidden): Linear(in_features=3, out_features=10, bias=True)",
        "(relu): ReLU()",
        "(output): Linear(in_features=10, out_features=1, bias=True)",
    ]
    assert table.splitlines()[-2:] == ["Trainable params: 51 (204 B)", "Buffers: 0 (0 B)"]


def test_summary_counts_buffers_and_forwards_kwargs() -> None:
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Dropout(0.5))
    table = nn.summary(model, jnp.zeros((3, 4)), train=True, key=jax.random.key(0))
    assert table.splitlines()[-2:] == [
        "Trainable params: 42 (168 B)",
        "Buffers: 13 (52 B)",
    ]  # 12 float32 + an int32 count
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = jnp.zeros((2, 5, 8))
    mask = jnp.zeros((2, 5), bool)
    rows = parse(nn.summary(mha, x, x, x, key_padding_mask=mask, need_weights=False))
    assert rows[0]["shape"] == "[(2, 5, 8), None]"


def test_summary_shared_module_and_given_params() -> None:
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared, nn.Linear(3, 2))
    params = model.init(jax.random.key(0))
    rows = parse(nn.summary(model, jnp.zeros((7, 3)), params=params))
    assert [r["shape"] for r in rows] == ["(7, 2)", "(7, 3)", "(7, 3)", "(7, 3)", "(7, 2)"]
    assert [r["params"] for r in rows] == ["32", "12", "0", "12", "8"]


def test_summary_computes_nothing() -> None:
    seen = []
    probe = nn.Lambda(lambda x: seen.append(isinstance(x, jax.core.Tracer)) or x)
    nn.summary(nn.Sequential(nn.Linear(3, 3), probe), jnp.ones((2, 3)))
    assert seen == [True]


def test_summary_leaves_no_hooks_behind_even_on_error() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))
    with pytest.raises(
        ValueError, match=r"Linear\(in_features=5, out_features=2\): expected input with last dimension 5"
    ):
        nn.summary(model, jnp.zeros((2, 3)))
    for _, module in model.named_modules():
        assert "forward" not in vars(module) and "apply_with_state" not in vars(module)


def test_summary_rejects_non_modules() -> None:
    with pytest.raises(TypeError, match=r"summary: expected a funcnn.nn.Module, got Linear; call nn.summary\(model"):
        nn.summary(torch.nn.Linear(2, 2), jnp.zeros((1, 2)))


def test_summary_displays_as_the_table_in_notebooks_and_prints_in_scripts() -> None:
    model = nn.Sequential(nn.Linear(3, 2))
    table = nn.summary(model, jnp.zeros((4, 3)))
    assert isinstance(table, str) and repr(table) == str(table) and table.startswith("Module")
    shown: list[str] = []

    class _Printer:  # IPython's pretty printer protocol
        def text(self, s: str) -> None:
            shown.append(s)

    table._repr_pretty_(_Printer(), False)
    assert shown == [str(table)]
