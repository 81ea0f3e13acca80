"""W6: torchvision's ResNet-18 (10 classes), SGD with momentum and weight decay.

The architecture and ``state_dict`` keys are torchvision's ``resnet18(num_classes=10)``:
``conv1`` (7x7, stride 2) -> ``bn1`` -> ReLU -> 3x3 max-pool (stride 2) -> ``layer1`` ..
``layer4`` (two BasicBlocks each: ``conv1``/``bn1``/``conv2``/``bn2`` and, where the
width or stride changes, ``downsample`` = 1x1 conv + BatchNorm) -> global average pool
-> ``fc``. BatchNorm runs in training mode (batch statistics, running statistics
updated) in the training variants; the loss is cross-entropy and the optimizer SGD
(lr 0.01, momentum 0.9, weight decay 5e-4, PyTorch's coupled form: ``optax.chain(
add_decayed_weights, sgd)`` in JAX).

Variants:

* ``step``: a training step, batch 8 of 3x64x64 images (feature maps 32, 16, 8, 4, 2);
* ``step32``: a training step, batch 32 of 3x32x32 images (CIFAR-sized input);
* ``eval``: the evaluation forward pass (``model.eval()`` / ``train=False``), batch 8
  of 3x64x64, through `funcnn.train.make_eval_step`.

The funcnn version is the model a PyTorch user would bring across:
``examples/resnet.py``'s ``ResNet18``, torchvision's classes written in funcnn's attribute
style (children as attributes, ``forward(self, run, x)``).

Initial weights follow torchvision (Kaiming-normal ``fan_out`` convolutions, BatchNorm
ones and zeros, ``fc`` PyTorch's default uniform), drawn with NumPy and loaded into
all three versions.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ._common import Bench, Size, batches, jax_batches, linear_spec, torch_batches, torch_state, torch_sync

NAME = "W6"
TITLE = "ResNet-18 (torchvision layout, 10 classes), BatchNorm in train mode, SGD momentum + weight decay"
VARIANTS = ("step", "step32", "eval")
_SHAPE = {"batch": 8, "hw": 64, "batch32": 32, "hw32": 32, "classes": 10}
SIZES = {
    "smoke": Size(steps=1, repeats=1, warmup=1, shape={**_SHAPE, "batch": 2, "batch32": 4}),
    "quick": Size(steps=3, repeats=7, warmup=2, shape=_SHAPE),
    "full": Size(steps=5, repeats=15, warmup=2, shape=_SHAPE),
    "gpu": Size(steps=20, repeats=11, warmup=3, shape={**_SHAPE, "batch": 256, "batch32": 512}),
}
BARS = {"step": {"torch": 1.0}, "step32": {"torch": 1.0}, "eval": {"torch": 0.8}}
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4
WIDTHS = (64, 128, 256, 512)


def _variant_shape(size: Size, variant: str) -> tuple[int, int]:
    """``(batch, image side)`` of a variant."""
    return (size["batch32"], size["hw32"]) if variant == "step32" else (size["batch"], size["hw"])


def _convs(hw: int) -> list[tuple[int, int, int, int, int]]:
    """Every convolution as ``(in, out, kernel, stride, output side)``, in order."""
    out = []
    side = (hw + 6 - 7) // 2 + 1
    out.append((3, 64, 7, 2, side))
    side = (side + 2 - 3) // 2 + 1  # max-pool
    cin = 64
    for i, w in enumerate(WIDTHS):
        for b in range(2):
            stride = 2 if (i > 0 and b == 0) else 1
            side_out = (side + 2 - 3) // stride + 1
            out.append((cin, w, 3, stride, side_out))
            out.append((w, w, 3, 1, side_out))
            if stride != 1 or cin != w:
                out.append((cin, w, 1, stride, side_out))
            cin, side = w, side_out
    return out


def flops_per_step(size: Size, variant: str = "step") -> float:
    """Forward convolutions and the ``fc`` matmul (``2 * MACs``); times 3 for training."""
    batch, hw = _variant_shape(size, variant)
    macs = sum(cin * cout * k * k * s * s for cin, cout, k, _, s in _convs(hw)) + 512 * size["classes"]
    return (1.0 if variant == "eval" else 3.0) * 2 * batch * macs


def _block_keys(prefix: str, cin: int, w: int, downsample: bool) -> dict[str, tuple[tuple[int, ...], Any]]:
    spec: dict[str, tuple[tuple[int, ...], Any]] = {
        f"{prefix}.conv1.weight": ((w, cin, 3, 3), "conv"),
        **_bn_spec(f"{prefix}.bn1", w),
        f"{prefix}.conv2.weight": ((w, w, 3, 3), "conv"),
        **_bn_spec(f"{prefix}.bn2", w),
    }
    if downsample:
        spec[f"{prefix}.downsample.0.weight"] = ((w, cin, 1, 1), "conv")
        spec.update(_bn_spec(f"{prefix}.downsample.1", w))
    return spec


def _bn_spec(prefix: str, c: int) -> dict[str, tuple[tuple[int, ...], Any]]:
    return {
        f"{prefix}.weight": ((c,), 1.0),
        f"{prefix}.bias": ((c,), 0.0),
        f"{prefix}.running_mean": ((c,), 0.0),
        f"{prefix}.running_var": ((c,), 1.0),
        f"{prefix}.num_batches_tracked": ((), "count"),
    }


def weights(classes: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """A torchvision ``resnet18(num_classes=classes)`` ``state_dict`` (buffers included)."""
    spec: dict[str, tuple[tuple[int, ...], Any]] = {"conv1.weight": ((64, 3, 7, 7), "conv"), **_bn_spec("bn1", 64)}
    cin = 64
    for i, w in enumerate(WIDTHS):
        for b in range(2):
            stride = 2 if (i > 0 and b == 0) else 1
            spec.update(_block_keys(f"layer{i + 1}.{b}", cin, w, stride != 1 or cin != w))
            cin = w
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for key, (shape, how) in spec.items():
        if how == "conv":  # kaiming_normal_(mode="fan_out", nonlinearity="relu")
            std = math.sqrt(2.0 / (shape[0] * math.prod(shape[2:])))
            out[key] = (rng.standard_normal(shape) * std).astype(np.float32)
        elif how == "count":
            out[key] = np.zeros((), np.int64)
        else:
            out[key] = np.full(shape, how, np.float32)
    for key, (shape, bound) in linear_spec("fc", 512, classes).items():
        out[key] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    return out


def split_buffers(sd: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(parameters, buffers)`` of a ``state_dict``."""
    names = ("running_mean", "running_var", "num_batches_tracked")
    params = {k: v for k, v in sd.items() if not k.endswith(names)}
    return params, {k: v for k, v in sd.items() if k.endswith(names)}


def _data(size: Size, variant: str) -> list[tuple[np.ndarray, ...]]:
    batch, hw = _variant_shape(size, variant)
    classes = size["classes"]
    return batches(6, 2, lambda r: (r.standard_normal((batch, 3, hw, hw), np.float32), r.integers(0, classes, batch)))


def build(impl: str, variant: str, size: Size, device: str = "cpu") -> Bench:
    """The ``impl`` version of ``variant``: ``size.steps`` training steps or forward passes."""
    return {"torch": _torch, "jax": _jax, "funcnn": _funcnn}[impl](size, variant, device)


# ---------------------------------------------------------------------------- torch


def torch_resnet18(classes: int) -> Any:
    """torchvision's ResNet-18 written out (torchvision is not a dependency)."""
    import torch.nn as nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, w: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, w, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(w)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(w, w, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(w)
            self.downsample = None
            if stride != 1 or cin != w:
                self.downsample = nn.Sequential(nn.Conv2d(cin, w, 1, stride, bias=False), nn.BatchNorm2d(w))

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet18(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            cin = 64
            for i, w in enumerate(WIDTHS):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, w, stride), BasicBlock(w, w, 1)))
                cin = w
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, classes)

        def forward(self, x: Any) -> Any:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def _torch(size: Size, variant: str, device: str) -> Bench:
    import torch

    model = torch_resnet18(size["classes"]).to(device)
    model.load_state_dict(torch_state(weights(size["classes"]), device))
    data = torch_batches(_data(size, variant), device)
    last: list[Any] = [None]
    if variant == "eval":
        model.eval()

        def run_eval() -> None:
            with torch.no_grad():
                for i in range(size.steps):
                    out = model(data[i % len(data)][0])
            torch_sync(device)
            last[0] = out.float().logsumexp(-1).mean()

        return Bench(run_eval, size.steps, lambda: float(last[0].item()))
    model.train()
    criterion = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)

    def run() -> None:
        for i in range(size.steps):
            x, y = data[i % len(data)]
            opt.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            opt.step()
        torch_sync(device)
        last[0] = loss

    return Bench(run, size.steps, lambda: float(last[0].item()))


# ----------------------------------------------------------------- optimizer, loops


def _optimizer() -> Any:
    import optax

    return optax.chain(optax.add_decayed_weights(WEIGHT_DECAY), optax.sgd(LR, momentum=MOMENTUM))


def _state_loop(step: Callable[..., Any], carry: Any, data: list[tuple[Any, ...]], steps: int) -> Bench:
    """Dispatch ``carry, loss = step(carry, x, y)`` ``steps`` times, wait once."""
    import jax

    box: list[Any] = [carry, None]

    def run() -> None:
        c, loss = box
        for i in range(steps):
            x, y = data[i % len(data)]
            c, loss = step(c, x, y)
        jax.block_until_ready(loss)
        box[:] = c, loss

    return Bench(run, steps, lambda: float(box[1]))


def _eval_loop(forward: Callable[..., Any], data: list[tuple[Any, ...]], steps: int) -> Bench:
    import jax

    box: list[Any] = [None]

    def run() -> None:
        for i in range(steps):
            out = forward(data[i % len(data)][0])
        box[0] = jax.block_until_ready(out)

    return Bench(run, steps, lambda: float(jax.nn.logsumexp(box[0], -1).mean()))


# -------------------------------------------------------------------------- raw JAX


def _jax(size: Size, variant: str, device: str) -> Bench:
    import jax
    import jax.numpy as jnp
    import optax
    from jax import lax

    from ._common import jax_tree

    params_np, buffers_np = split_buffers(weights(size["classes"]))
    params = jax_tree(params_np)
    stats = jax_tree({k: v.astype(np.int32) if v.dtype == np.int64 else v for k, v in buffers_np.items()})
    nchw = ("NCHW", "OIHW", "NCHW")

    def conv(x: jax.Array, w: jax.Array, stride: int) -> jax.Array:
        pad = w.shape[-1] // 2
        return lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad)] * 2, dimension_numbers=nchw)

    def bn(x: jax.Array, p: Any, s: Any, train: bool) -> tuple[jax.Array, Any]:
        shape = (1, -1, 1, 1)
        if not train:
            inv = lax.rsqrt(s["running_var"] + 1e-5)
            return (x - s["running_mean"].reshape(shape)) * (inv * p["weight"]).reshape(shape) + p["bias"].reshape(
                shape
            ), s
        mean = x.mean((0, 2, 3))
        var = jnp.square(x - mean.reshape(shape)).mean((0, 2, 3))
        n = x.size // x.shape[1]
        y = (x - mean.reshape(shape)) * (lax.rsqrt(var + 1e-5) * p["weight"]).reshape(shape) + p["bias"].reshape(shape)
        new = {
            "running_mean": 0.9 * s["running_mean"] + 0.1 * mean,
            "running_var": 0.9 * s["running_var"] + 0.1 * var * (n / (n - 1)),
            "num_batches_tracked": s["num_batches_tracked"] + 1,
        }
        return y, new

    def forward(p: Any, s: Any, x: jax.Array, train: bool) -> tuple[jax.Array, Any]:
        new: dict[str, Any] = {}
        x, new["bn1"] = bn(conv(x, p["conv1"]["weight"], 2), p["bn1"], s["bn1"], train)
        x = jax.nn.relu(x)
        x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 3, 3), (1, 1, 2, 2), [(0, 0), (0, 0), (1, 1), (1, 1)])
        for i in range(4):
            layer = f"layer{i + 1}"
            new[layer] = {}
            for b in range(2):
                pb, sb, nb = p[layer][str(b)], s[layer][str(b)], {}
                stride = 2 if (i > 0 and b == 0) else 1
                out, nb["bn1"] = bn(conv(x, pb["conv1"]["weight"], stride), pb["bn1"], sb["bn1"], train)
                out, nb["bn2"] = bn(conv(jax.nn.relu(out), pb["conv2"]["weight"], 1), pb["bn2"], sb["bn2"], train)
                if "downsample" in pb:
                    ds = conv(x, pb["downsample"]["0"]["weight"], stride)
                    identity, d1 = bn(ds, pb["downsample"]["1"], sb["downsample"]["1"], train)
                    nb["downsample"] = {"1": d1}
                else:
                    identity = x
                x = jax.nn.relu(out + identity)
                new[layer][str(b)] = nb
        x = x.mean((2, 3))
        return x @ p["fc"]["weight"].T + p["fc"]["bias"][None, :], new

    data = jax_batches(_data(size, variant))
    if variant == "eval":
        return _eval_loop(jax.jit(lambda x: forward(params, stats, x, False)[0]), data, size.steps)
    optimizer = _optimizer()

    def step(carry: Any, x: jax.Array, y: jax.Array) -> Any:
        p, s, o = carry

        def loss_fn(p: Any) -> Any:
            logits, new = forward(p, s, x, True)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), new

        (loss, new), grads = jax.value_and_grad(loss_fn, has_aux=True)(p)
        updates, o = optimizer.update(grads, o, p)
        return (optax.apply_updates(p, updates), new, o), loss

    carry = (params, stats, optimizer.init(params))
    return _state_loop(jax.jit(step, donate_argnums=0), carry, data, size.steps)


# --------------------------------------------------------------------------- funcnn


def _funcnn(size: Size, variant: str, device: str) -> Bench:
    import jax

    import funcnn
    from examples.resnet import ResNet18
    from funcnn import nn, train

    model = ResNet18(num_classes=size["classes"])
    params, state = funcnn.load_state_dict(model, weights(size["classes"]))
    data = jax_batches(_data(size, variant))
    if variant == "eval":
        forward = train.make_eval_step(lambda p, s, x: model.apply_with_state(p, s, x)[0])
        return _eval_loop(lambda x: forward(params, state, x), data, size.steps)
    optimizer = _optimizer()
    ts = train.TrainState.create(model, optimizer, jax.random.key(0), params=params, state=state)
    step = train.make_train_step(train.model_loss(model, nn.CrossEntropyLoss()), optimizer, stateful=True, has_aux=True)

    def run_step(ts: Any, x: Any, y: Any) -> Any:
        ts, loss, _ = step(ts, x, y)
        return ts, loss

    return _state_loop(run_step, ts, data, size.steps)
