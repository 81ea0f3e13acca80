"""Cases for Residual, Parallel, ModuleList/ModuleDict and hand-written models.

The hand-written models here use the explicit form, which stays supported next to the
attribute style (``cases/attribute_models.py``): a plain `nn.Module` subclass whose
``children()`` use PyTorch's attribute names (so the ``state_dict`` keys match the torch
module next to it), ``init``/``init_state``/``has_state`` from those children, and an
``apply_with_state`` (or ``forward`` when no child has buffers) that calls the children
through `nn.ChildRunner`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


# ------------------------------------------------------------------ torch equivalents
class TorchResidual(torch.nn.Module):
    """What `nn.Residual` is in PyTorch: ``module(x) + shortcut(x)``."""

    def __init__(self, module, shortcut=None):
        super().__init__()
        self.module, self.shortcut = module, shortcut

    def forward(self, x):
        return self.module(x) + (x if self.shortcut is None else self.shortcut(x))


class TorchParallel(torch.nn.Module):
    """What `nn.Parallel` is in PyTorch: every child on the same input, then combine."""

    def __init__(self, combine="tuple", dim=None, **branches):
        super().__init__()
        for name, module in branches.items():
            self.add_module(name, module)
        self.combine, self.dim = combine, dim

    def forward(self, x):
        outs = tuple(m(x) for m in self.children())
        if self.combine == "cat":
            return torch.cat(outs, dim=self.dim)
        if self.combine == "sum":
            return sum(outs[1:], outs[0])
        return outs


# --------------------------------------------------------------- hand-written models
class ResNetBlock(nn.Module):
    """torchvision's ``BasicBlock``: two 3x3 conv-BN pairs plus a (projected) shortcut, then ReLU."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False), nn.BatchNorm2d(channels)
            )

    def children(self):
        names = ("conv1", "bn1", "conv2", "bn2", "downsample")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def init(self, key):
        return nn.init_children(self.children(), key)

    def init_state(self):
        return nn.init_children_state(self.children())

    @property
    def has_state(self):
        return True

    def apply_with_state(self, params, state, x, *, key=None, train=False):
        run = nn.ChildRunner(self, params, state, key=key, train=train)
        out = jax.nn.relu(run("bn1", run("conv1", x)))
        out = run("bn2", run("conv2", out))
        identity = x if self.downsample is None else run("downsample", x)
        return jax.nn.relu(out + identity), run.state


class TorchResNetBlock(torch.nn.Module):
    def __init__(self, in_channels, channels, stride=1):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(channels)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = torch.nn.Sequential(
                torch.nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False), torch.nn.BatchNorm2d(channels)
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + identity)


class ConvLSTM(nn.Module):
    """A 1-D CNN over time feeding an LSTM, classifying from the last step: ``(N, C, T) -> (N, classes)``."""

    def __init__(self, in_channels: int = 3, features: int = 6, hidden: int = 5, classes: int = 2) -> None:
        self.conv = nn.Conv1d(in_channels, features, 3, padding=1)
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def children(self):
        return {"conv": self.conv, "lstm": self.lstm, "fc": self.fc}

    def init(self, key):
        return nn.init_children(self.children(), key)

    def forward(self, params, x, *, key=None, train=False):
        run = nn.ChildRunner(self, params, key=key, train=train)
        h = jax.nn.relu(run("conv", x))  # (N, features, T)
        out, _ = run("lstm", jnp.swapaxes(h, -1, -2))  # (N, T, hidden)
        return run("fc", out[..., -1, :])


class TorchConvLSTM(torch.nn.Module):
    def __init__(self, in_channels=3, features=6, hidden=5, classes=2):
        super().__init__()
        self.conv = torch.nn.Conv1d(in_channels, features, 3, padding=1)
        self.lstm = torch.nn.LSTM(features, hidden, batch_first=True)
        self.fc = torch.nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(torch.relu(self.conv(x)).transpose(-1, -2))
        return self.fc(out[..., -1, :])


class MLPWithHeads(nn.Module):
    """A ``ModuleList`` trunk and a ``ModuleDict`` of heads; returns ``(scores, box)``."""

    def __init__(self, sizes=(4, 6, 5)) -> None:
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        self.heads = nn.ModuleDict({"cls": nn.Linear(sizes[-1], 3), "box": nn.Linear(sizes[-1], 2)})

    def children(self):
        return {"layers": self.layers, "heads": self.heads}

    def init(self, key):
        return nn.init_children(self.children(), key)

    def forward(self, params, x, *, key=None, train=False):
        run = nn.ChildRunner(self, params, key=key, train=train)
        for i in range(len(self.layers)):
            x = jnp.tanh(run(f"layers.{i}", x))
        return run("heads.cls", x), run("heads.box", x)


class TorchMLPWithHeads(torch.nn.Module):
    def __init__(self, sizes=(4, 6, 5)):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        self.heads = torch.nn.ModuleDict({"cls": torch.nn.Linear(sizes[-1], 3), "box": torch.nn.Linear(sizes[-1], 2)})

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.heads["cls"](x), self.heads["box"](x)


def _basic_block_from_containers():
    body = nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4),
    )
    shortcut = nn.Sequential(nn.Conv2d(3, 4, 1, stride=2, bias=False), nn.BatchNorm2d(4))
    return nn.Sequential(nn.Residual(body, shortcut=shortcut), nn.ReLU())


def _torch_basic_block_from_containers():
    T = torch.nn
    body = T.Sequential(
        T.Conv2d(3, 4, 3, stride=2, padding=1, bias=False),
        T.BatchNorm2d(4),
        T.ReLU(),
        T.Conv2d(4, 4, 3, padding=1, bias=False),
        T.BatchNorm2d(4),
    )
    shortcut = T.Sequential(T.Conv2d(3, 4, 1, stride=2, bias=False), T.BatchNorm2d(4))
    return T.Sequential(TorchResidual(body, shortcut=shortcut), T.ReLU())


CASES = [
    LayerCase(
        "container-residual-identity",
        lambda: nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.Tanh())),
        lambda: TorchResidual(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh())),
        _x(3, 4),
    ),
    LayerCase(
        "container-residual-resnet-block-train",
        _basic_block_from_containers,
        _torch_basic_block_from_containers,
        _x(2, 3, 6, 6),
        train=True,
        steps=2,
        tol="loose",  # batch norm divides by per-channel batch stds
    ),
    LayerCase(
        "container-parallel-tuple-named",
        lambda: nn.Parallel(a=nn.Linear(3, 2), b=nn.Sequential(nn.Linear(3, 4), nn.ReLU())),
        lambda: TorchParallel(a=torch.nn.Linear(3, 2), b=torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())),
        _x(5, 3),
    ),
    LayerCase(
        "container-parallel-cat-sum",
        lambda: nn.Parallel(
            nn.Linear(3, 2), nn.Parallel(nn.Linear(3, 4), nn.Linear(3, 4), combine="sum"), combine="cat", dim=-1
        ),
        lambda: TorchParallel(
            "cat",
            -1,
            **{
                "0": torch.nn.Linear(3, 2),
                "1": TorchParallel("sum", **{"0": torch.nn.Linear(3, 4), "1": torch.nn.Linear(3, 4)}),
            },
        ),
        _x(5, 3),
    ),
    LayerCase("container-custom-modulelist-moduledict", MLPWithHeads, TorchMLPWithHeads, _x(5, 4)),
    LayerCase(
        "container-custom-resnet-block-train",
        lambda: ResNetBlock(3, 4, stride=2),
        lambda: TorchResNetBlock(3, 4, stride=2),
        _x(2, 3, 6, 6),
        train=True,
        steps=2,
        tol="loose",  # batch norm divides by per-channel batch stds
    ),
    LayerCase("container-custom-cnn-lstm", ConvLSTM, TorchConvLSTM, _x(2, 3, 7), tol="loose"),  # recurrence
]
