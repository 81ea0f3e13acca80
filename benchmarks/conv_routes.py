"""Calibration of funcnn's convolution routing: every route on the convolutions of real models.

For each convolution shape of a model (ResNet-18 and ResNet-50 at 32, 64 and 224
pixels, VGG-11, MobileNet-style depthwise blocks, DCGAN's discriminator, and DCGAN's
generator, whose transposed convolutions are timed as funcnn's per-phase form against
XLA's input-dilated convolution and ``torch.nn.functional.conv_transpose2d``) this times,
interleaved, the forward pass and forward + backward (gradients of input and weight)
of every route that can run it (`funcnn.nn.functional._conv_routes`) and of
``torch.nn.functional.conv2d`` in the same process, and prints which route the rule
chooses, the fastest route, and the chosen route's speed against PyTorch (``torch time
/ funcnn time``; above 1 means funcnn is faster).

Usage::

    python -m benchmarks.conv_routes                       # ResNet-18 at 64x64, batch 8
    python -m benchmarks.conv_routes --models all          # every model (several minutes)
    python -m benchmarks.conv_routes --models resnet50-224 --batch 2 --json routes.json

Run it on an idle machine: PyTorch's threads suffer far more than XLA's from other
processes on the cores (see README.md), so a loaded machine flatters funcnn.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._timing import measure, summarize

# A convolution: (name, C_in, C_out, kernel, stride, padding, groups, input side).
Conv = tuple[str, int, int, int, int, int, int, int]


def _resnet(side: int, bottleneck: bool) -> list[Conv]:
    convs: list[Conv] = [("conv1", 3, 64, 7, 2, 3, 1, side)]
    side = (side + 6 - 7) // 2 + 1
    side = (side + 2 - 3) // 2 + 1
    cin = 64
    for i, width in enumerate((64, 128, 256, 512)):
        stride = 1 if i == 0 else 2
        out_side = (side - 1) // stride + 1
        if bottleneck:
            convs += [
                (f"layer{i + 1}.0.conv1", cin, width, 1, 1, 0, 1, side),
                (f"layer{i + 1}.0.conv2", width, width, 3, stride, 1, 1, side),
                (f"layer{i + 1}.x.conv2", width, width, 3, 1, 1, 1, out_side),
                (f"layer{i + 1}.0.conv3", width, 4 * width, 1, 1, 0, 1, out_side),
            ]
            cin = 4 * width
        else:
            convs += [
                (f"layer{i + 1}.0.conv1", cin, width, 3, stride, 1, 1, side),
                (f"layer{i + 1}.x.conv", width, width, 3, 1, 1, 1, out_side),
            ]
            if stride != 1:
                convs.append((f"layer{i + 1}.0.downsample", cin, width, 1, stride, 0, 1, side))
            cin = width
        side = out_side
    return convs


def _vgg11(side: int) -> list[Conv]:
    convs: list[Conv] = []
    cin = 3
    for i, width in enumerate((64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512)):
        if width == "M":
            side //= 2
            continue
        convs.append((f"features.{i}", cin, int(width), 3, 1, 1, 1, side))
        cin = int(width)
    return list(dict.fromkeys(convs))


def _mobilenet(side: int) -> list[Conv]:
    return [
        ("dw32@112", 32, 32, 3, 1, 1, 32, side // 2),
        ("dw64@112/2", 64, 64, 3, 2, 1, 64, side // 2),
        ("dw128@56", 128, 128, 3, 1, 1, 128, side // 4),
        ("dw256@28", 256, 256, 3, 1, 1, 256, side // 8),
        ("dw512@14", 512, 512, 3, 1, 1, 512, side // 16),
        ("dw1024@7", 1024, 1024, 3, 1, 1, 1024, side // 32),
        ("pw 128->256@28", 128, 256, 1, 1, 0, 1, side // 8),
        ("group4 128@28", 128, 128, 3, 1, 1, 4, side // 8),
    ]


def _dcgan_d(side: int) -> list[Conv]:
    return [
        ("netD.0", 3, 64, 4, 2, 1, 1, side),
        ("netD.2", 64, 128, 4, 2, 1, 1, side // 2),
        ("netD.5", 128, 256, 4, 2, 1, 1, side // 4),
        ("netD.8", 256, 512, 4, 2, 1, 1, side // 8),
        ("netD.11", 512, 1, 4, 1, 0, 1, side // 16),
    ]


def _dcgan_g() -> list[Conv]:
    """DCGAN's generator (nz 100, ngf 64, 64 x 64 images): transposed convolutions, ``C_in -> C_out``."""
    return [
        ("netG.0", 100, 512, 4, 1, 0, 1, 1),
        ("netG.3", 512, 256, 4, 2, 1, 1, 4),
        ("netG.6", 256, 128, 4, 2, 1, 1, 8),
        ("netG.9", 128, 64, 4, 2, 1, 1, 16),
        ("netG.12", 64, 3, 4, 2, 1, 1, 32),
    ]


MODELS: dict[str, tuple[Callable[[], list[Conv]], int]] = {
    "resnet18-64": (lambda: _resnet(64, False), 8),
    "resnet18-32": (lambda: _resnet(32, False), 32),
    "resnet18-224": (lambda: _resnet(224, False), 2),
    "resnet50-64": (lambda: _resnet(64, True), 8),
    "resnet50-224": (lambda: _resnet(224, True), 2),
    "vgg11-32": (lambda: _vgg11(32), 8),
    "mobilenet-224": (lambda: _mobilenet(224), 2),
    "dcgan-64": (lambda: _dcgan_d(64), 16),
    "dcgan-g-64": (_dcgan_g, 16),
}
TRANSPOSED = ("netG.",)
"""Names of transposed convolutions (weight ``(C_in, C_out, k, k)``)."""


def _candidates(c: int, o: int, k: int, groups: int, transposed: bool = False) -> list[str]:
    if transposed:
        return ["phases", "dilated"]
    if groups == c and groups > 1:
        return ["depthwise", "xla"]
    if groups != 1:
        return ["xla"]
    if k == 1:
        return ["matmul", "xla"]
    return ["im2col_small", "im2col", "xla"]


def time_conv(conv: Conv, batch: int, repeats: int, warm_in: float = 0.02) -> dict[str, Any]:
    """Forward and forward + backward of every candidate route and of torch, interleaved
    (each timing after ``warm_in`` seconds of untimed calls of the same case: `measure`)."""
    import torch

    import funcnn.nn.functional
    from funcnn.nn.functional import _conv_routes as routes

    name, c, o, k, stride, pad, groups, side = conv
    transposed = name.startswith(TRANSPOSED)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, c, side, side), np.float32)
    w_shape = (c, o // groups, k, k) if transposed else (o, c // groups, k, k)
    w = (rng.standard_normal(w_shape) / math.sqrt(c // groups * k * k)).astype(np.float32)
    s2, p2, d2 = (stride, stride), ((pad, pad), (pad, pad)), (1, 1)
    if transposed:
        chosen = "phases" if stride > 1 else "dilated"
    else:
        chosen = routes.choose_route(x.shape, w.shape, s2, p2, d2, groups)
    jx, jw = jnp.asarray(x), jnp.asarray(w)
    fwd: dict[str, Callable[[], Any]] = {}
    both: dict[str, Callable[[], Any]] = {}
    for route in _candidates(c, o, k, groups, transposed):

        def f(x: jax.Array, w: jax.Array, route: str = route) -> jax.Array:
            if route == "phases":
                return funcnn.nn.functional.conv_transpose2d(x, w, stride=stride, padding=pad, groups=groups)
            if route == "dilated":  # XLA's form: the input dilated by the stride, the kernel flipped
                flipped = jnp.swapaxes(w, 0, 1)[:, :, ::-1, ::-1]
                edge = ((k - 1 - pad, k - 1 - pad),) * 2
                return jax.lax.conv_general_dilated(
                    x, flipped, (1, 1), edge, lhs_dilation=s2, dimension_numbers=("NCHW", "OIHW", "NCHW"),
                    precision=jax.lax.Precision.HIGHEST,
                )  # fmt: skip
            return routes.convolve(x, w, s2, p2, d2, groups, route=route)

        jf = jax.jit(f)
        jg = jax.jit(jax.grad(lambda x, w, f=f: jnp.sum(f(x, w) ** 2), argnums=(0, 1)))
        fwd[route] = lambda jf=jf: jax.block_until_ready(jf(jx, jw))
        both[route] = lambda jg=jg: jax.block_until_ready(jg(jx, jw))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch_conv = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d

    def torch_fwd() -> None:
        with torch.no_grad():
            torch_conv(tx, tw, stride=stride, padding=pad, groups=groups)

    def torch_both() -> None:
        y = torch_conv(tx, tw, stride=stride, padding=pad, groups=groups)
        torch.autograd.grad((y**2).sum(), (tx, tw))

    fwd["torch"], both["torch"] = torch_fwd, torch_both
    out: dict[str, Any] = {"conv": name, "shape": [batch, c, side, side], "out_channels": o, "kernel": k,
                           "stride": stride, "groups": groups, "chosen": chosen}  # fmt: skip
    for label, cases in (("forward", fwd), ("forward_backward", both)):
        med = {
            r: v["median_s"] for r, v in summarize(measure(cases, repeats=repeats, warmup=1, warm_in=warm_in)).items()
        }
        routes_only = {r: t for r, t in med.items() if r != "torch"}
        out[label] = {
            "median_s": med,
            "fastest": min(routes_only, key=routes_only.__getitem__),
            "chosen_vs_torch": med["torch"] / med[chosen],
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conv_routes", description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet18-64", help=f"comma-separated, or 'all': {', '.join(MODELS)}")
    parser.add_argument("--batch", type=int, help="override every model's batch size")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved timed rounds per shape (default 7)")
    parser.add_argument(
        "--warm-in", type=float, default=0.02, metavar="SECONDS",
        help="untimed calls of a case before each of its timings, in seconds (default 0.02; 0: none)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    names = list(MODELS) if args.models == "all" else [m.strip() for m in args.models.split(",")]
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        parser.error(f"--models: unknown {unknown}; choose from {', '.join(MODELS)} or 'all'")
    rows = []
    print("route times are medians in ms; 'vs torch' = torch time / chosen route's time (> 1: funcnn faster)")
    for model in names:
        make, batch = MODELS[model]
        batch = args.batch or batch
        print(f"\n{model}, batch {batch}")
        print(f"  {'convolution':<22}{'input':>16} {'out':>5} {'chosen':>13} | forward: fastest, vs torch"
              f" | fwd+bwd: fastest, vs torch, ms per route")  # fmt: skip
        for conv in make():
            row = time_conv(conv, batch, args.repeats, args.warm_in)
            row["model"] = model
            rows.append(row)
            f, b = row["forward"], row["forward_backward"]
            per_route = ", ".join(f"{r} {t * 1e3:.2f}" for r, t in b["median_s"].items())
            print(f"  {row['conv']:<22}{'x'.join(map(str, row['shape'])):>16} {row['out_channels']:>5} {row['chosen']:>13} |"
                  f" {f['fastest']:>12} {f['chosen_vs_torch']:5.2f}x | {b['fastest']:>12} {b['chosen_vs_torch']:5.2f}x"
                  f"  ({per_route})", flush=True)  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
