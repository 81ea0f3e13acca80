"""Conv2d and MaxPool2d formulations in JAX, timed as full training steps against PyTorch eager.

The workload: the small CNN ``Conv2d(1, 32, 3, padding=1) -> ReLU -> Conv2d(32, 64, 3,
padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(64 * 4 * 4, 128) -> ReLU ->
Linear(128, 10)`` on batches of 128 inputs of ``1 x 8 x 8`` (NCHW), cross-entropy
against integer labels, SGD (lr 0.01). Every JAX variant is one
``funcnn.train.make_train_step`` (jit-compiled, params and optimizer state donated);
PyTorch runs ``torch.nn`` in eager mode on the CPU in the same process, with its
default thread count (the reference), and once more with one thread. All start from
the same weights.

Each variant keeps the NCHW meaning (same inputs, same weights, PyTorch's numbers) and
changes only how the two convolutions and the pooling are written:

* ``funcnn`` -- ``funcnn.nn`` layers as shipped.
* ``nchw`` -- ``lax.conv_general_dilated`` with ``NCHW``/``OIHW`` dimension numbers and
  max pooling by ``lax.reduce_window`` (the straightforward port).
* ``nchw-highest`` -- as ``nchw`` with ``precision=HIGHEST``.
* ``nhwc-inside`` -- each conv transposes to ``NHWC``/``HWIO``, convolves, transposes back.
* ``im2col-slices`` -- patches from 9 shifted slices (channels-last), one matmul.
* ``im2col-patches`` -- patches from ``lax.conv_general_dilated_patches``, one matmul.
* ``nchw+pool-reshape`` -- ``nchw`` convs; pooling as reshape + ``max`` (stride == kernel
  only; its gradient splits ties, unlike PyTorch's).
* ``nchw+pool-slices`` -- ``nchw`` convs; pooling as the 4 strided slices of each window
  and an elementwise max whose gradient goes to the first maximum (PyTorch's rule).
* ``nhwc-model`` -- an opt-in layout: one transpose of the input to NHWC, both convs
  and the pooling in NHWC, one transpose back before ``Flatten`` (so the Linear weights
  keep their meaning).

Before timing, every variant's loss and gradients are compared with PyTorch's on one
batch ("exact": within 1e-4, float32 round-off). ``--parts`` also times the second
convolution, the pooling and a 1 x 1 convolution alone, forward and backward.

What funcnn uses, from these measurements and the per-shape ones of ``--shapes`` (one
convolution alone, forward + backward, im2col against XLA's): a 1 x 1 convolution as a
matmul over channels; im2col (shifted slices, one matmul) when the patch matrix is at
most 8 MB and has at most twice as many columns as output channels, which covers the
first convolution here and in the W3 model of `benchmarks.run`; otherwise
``lax.conv_general_dilated`` with NCHW dimension numbers (transposing by hand gained
nothing); and pooling as strided slices with a first-max gradient. The whole-model NHWC
layout (``nhwc-model``) is faster still but changes what
the layers take and return, so funcnn does not offer it as an option of the layers.

Usage::

    python -m benchmarks.conv_formulations            # full run
    python -m benchmarks.conv_formulations --quick    # fewer repetitions
    python -m benchmarks.conv_formulations --parts    # also the conv and the pooling alone
    python -m benchmarks.conv_formulations --shapes   # im2col against XLA's convolution, by shape
    python -m benchmarks.conv_formulations --json results.json
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch
from jax import lax

import funcnn
import funcnn.nn.functional as F
from benchmarks._timing import measure, print_table, summarize, write_json
from funcnn import nn

BATCH, SIZE, CLASSES, LR = 128, 8, 10, 0.01
EXACT_TOL = 1e-4
Conv = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
Pool = Callable[[jax.Array], jax.Array]


# ------------------------------------------------------------------ conv variants (3x3, stride 1, padding 1)
def conv_nchw(x: jax.Array, w: jax.Array, b: jax.Array, precision: Any = None) -> jax.Array:
    dn = ("NCHW", "OIHW", "NCHW")
    y = lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=dn, precision=precision)
    return y + b[:, None, None]


def conv_nhwc_inside(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    xh, wh = jnp.transpose(x, (0, 2, 3, 1)), jnp.transpose(w, (2, 3, 1, 0))
    y = lax.conv_general_dilated(xh, wh, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jnp.transpose(y + b, (0, 3, 1, 2))


def conv_im2col_slices(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    n, c, h, wd = x.shape
    xp = jnp.pad(jnp.transpose(x, (0, 2, 3, 1)), ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = jnp.concatenate([xp[:, i : i + h, j : j + wd, :] for i in range(3) for j in range(3)], axis=-1)
    wm = jnp.transpose(w, (2, 3, 1, 0)).reshape(9 * c, -1)
    y = (cols.reshape(-1, 9 * c) @ wm).reshape(n, h, wd, -1) + b
    return jnp.transpose(y, (0, 3, 1, 2))


def conv_im2col_patches(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    dn = ("NCHW", "OIHW", "NCHW")
    cols = lax.conv_general_dilated_patches(x, (3, 3), (1, 1), ((1, 1), (1, 1)), dimension_numbers=dn)
    return jnp.einsum("nkhw,ok->nohw", cols, w.reshape(w.shape[0], -1)) + b[:, None, None]


# ------------------------------------------------------------------ pool variants (2x2, stride 2)
def pool_reduce_window(x: jax.Array) -> jax.Array:
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def pool_reshape(x: jax.Array) -> jax.Array:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def pool_slices(x: jax.Array) -> jax.Array:
    return F.max_pool2d(x, 2)  # funcnn's formulation


def _head(p: Any, h: jax.Array) -> jax.Array:
    h = F.relu(F.linear(h.reshape(h.shape[0], -1), p["6"]["weight"], p["6"]["bias"]))
    return F.linear(h, p["8"]["weight"], p["8"]["bias"])


def raw_model(conv: Conv, pool: Pool) -> Callable[[Any, jax.Array], jax.Array]:
    def apply(p: Any, x: jax.Array) -> jax.Array:
        h = F.relu(conv(x, p["0"]["weight"], p["0"]["bias"]))
        h = pool(F.relu(conv(h, p["2"]["weight"], p["2"]["bias"])))
        return _head(p, h)

    return apply


def nhwc_model(p: Any, x: jax.Array) -> jax.Array:
    def conv(h: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
        wh = jnp.transpose(w, (2, 3, 1, 0))
        return lax.conv_general_dilated(h, wh, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")) + b

    h = F.relu(conv(jnp.transpose(x, (0, 2, 3, 1)), p["0"]["weight"], p["0"]["bias"]))
    h = F.relu(conv(h, p["2"]["weight"], p["2"]["bias"]))
    n, hh, ww, c = h.shape
    h = h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))
    return _head(p, jnp.transpose(h, (0, 3, 1, 2)))


def funcnn_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * (SIZE // 2) ** 2, 128), nn.ReLU(), nn.Linear(128, CLASSES),
    )  # fmt: skip


def variants() -> dict[str, Callable[[Any, jax.Array], jax.Array]]:
    model = funcnn_model()
    return {
        "funcnn": model.apply,
        "nchw": raw_model(conv_nchw, pool_reduce_window),
        "nchw-highest": raw_model(functools.partial(conv_nchw, precision=lax.Precision.HIGHEST), pool_reduce_window),
        "nhwc-inside": raw_model(conv_nhwc_inside, pool_reduce_window),
        "im2col-slices": raw_model(conv_im2col_slices, pool_reduce_window),
        "im2col-patches": raw_model(conv_im2col_patches, pool_reduce_window),
        "nchw+pool-reshape": raw_model(conv_nchw, pool_reshape),
        "nchw+pool-slices": raw_model(conv_nchw, pool_slices),
        "nhwc-model": nhwc_model,
    }


# ---------------------------------------------------------------- the steps
class TorchModel(torch.nn.Sequential):
    def __init__(self) -> None:
        super().__init__(
            torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3, padding=1),
            torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64 * (SIZE // 2) ** 2, 128),
            torch.nn.ReLU(), torch.nn.Linear(128, CLASSES),
        )  # fmt: skip


def weights(seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation (``U(+-1/sqrt(fan_in))``), drawn once with NumPy for every implementation."""
    rng = np.random.default_rng(seed)
    shapes = {"0": (32, 1, 3, 3), "2": (64, 32, 3, 3), "6": (128, 64 * (SIZE // 2) ** 2), "8": (CLASSES, 128)}
    out = {}
    for name, shape in shapes.items():
        bound = 1 / math.sqrt(math.prod(shape[1:]))
        out[f"{name}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        out[f"{name}.bias"] = rng.uniform(-bound, bound, shape[:1]).astype(np.float32)
    return out


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, 1, SIZE, SIZE), np.float32), rng.integers(0, CLASSES, BATCH).astype(np.int32)


def jax_loss(apply: Callable[[Any, jax.Array], jax.Array]) -> Callable[..., jax.Array]:
    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        return F.cross_entropy(apply(p, x), y)

    return loss_fn


def torch_reference(w: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    model = TorchModel()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y).long())
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in model.named_parameters()}


def exactness(apply: Any, w: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, ref: tuple[float, dict]) -> float:
    """Largest absolute difference of loss and gradients from PyTorch's."""
    params = funcnn.serialization.unflatten_dict({k: jnp.asarray(v) for k, v in w.items()})
    loss, grads = jax.jit(jax.value_and_grad(jax_loss(apply)))(params, jnp.asarray(x), jnp.asarray(y))
    diffs = [abs(float(loss) - ref[0])]
    for k, g in funcnn.state_dict(grads).items():
        diffs.append(float(np.max(np.abs(g - ref[1][k]))))
    return max(diffs)


def part_cases(steps: int) -> dict[str, Callable[[], None]]:
    """Forward + backward of the pieces alone: the CNN's second convolution and its
    pooling (on their shapes in the CNN), and a 1 x 1 convolution."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((BATCH, 32, SIZE, SIZE), np.float32)
    w = rng.standard_normal((64, 32, 3, 3), np.float32)
    b = rng.standard_normal(64, np.float32)
    a = rng.standard_normal((BATCH, 64, SIZE, SIZE), np.float32)
    gc = rng.standard_normal((BATCH, 64, SIZE, SIZE), np.float32)
    gp = rng.standard_normal((BATCH, 64, SIZE // 2, SIZE // 2), np.float32)

    def jax_case(fn: Callable[..., jax.Array], args: tuple, ct: np.ndarray) -> Callable[[], None]:
        vjp = jax.jit(lambda *xs: jax.vjp(fn, *xs)[1](jnp.asarray(ct)))
        jargs = tuple(jnp.asarray(v) for v in args)

        def run() -> None:
            for _ in range(steps):
                out = vjp(*jargs)
            jax.block_until_ready(out)

        return run

    def torch_case(fn: Callable[..., torch.Tensor], args: tuple, ct: np.ndarray) -> Callable[[], None]:
        targs = [torch.from_numpy(v).requires_grad_(True) for v in args]
        tct = torch.from_numpy(ct)

        def run() -> None:
            for _ in range(steps):
                torch.autograd.grad(fn(*targs), targs, tct)

        return run

    convs = {
        "nchw": conv_nchw,
        "nhwc-inside": conv_nhwc_inside,
        "im2col-slices": conv_im2col_slices,
        "im2col-patches": conv_im2col_patches,
    }
    pools = {"reduce_window": pool_reduce_window, "reshape": pool_reshape, "slices (funcnn)": pool_slices}
    cases = {"conv torch": torch_case(lambda *t: torch.nn.functional.conv2d(*t, padding=1), (x, w, b), gc)}
    cases.update({f"conv {k}": jax_case(f, (x, w, b), gc) for k, f in convs.items()})
    # a 1 x 1 convolution, Conv2d(64, 128, 1) on 16 x 64 x 16 x 16: funcnn runs it as a matmul
    x1 = rng.standard_normal((16, 64, 16, 16), np.float32)
    w1 = rng.standard_normal((128, 64, 1, 1), np.float32)
    b1 = rng.standard_normal(128, np.float32)
    g1 = rng.standard_normal((16, 128, 16, 16), np.float32)
    cases["1x1 torch"] = torch_case(torch.nn.functional.conv2d, (x1, w1, b1), g1)
    cases["1x1 nchw"] = jax_case(
        lambda x, w, b: (
            lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"))
            + b[:, None, None]
        ),
        (x1, w1, b1),
        g1,
    )
    cases["1x1 matmul (funcnn)"] = jax_case(F.conv2d, (x1, w1, b1), g1)
    cases["pool torch"] = torch_case(lambda t: torch.nn.functional.max_pool2d(t, 2), (a,), gp)
    cases.update({f"pool {k}": jax_case(f, (a,), gp) for k, f in pools.items()})
    return cases


# N, C_in, H (= W), C_out of a 3 x 3 convolution without padding: from batches of small
# images (patch matrices under 1 MB) to larger maps (tens of MB).
SWEEP = (
    (128, 1, 8, 32),
    (128, 32, 6, 64),
    (256, 1, 28, 32),
    (128, 32, 8, 64),
    (16, 3, 64, 32),
    (8, 128, 16, 128),
    (64, 32, 16, 64),
    (64, 16, 28, 32),
    (32, 64, 32, 64),
)


def shape_cases(steps: int) -> tuple[dict[str, Callable[[], None]], dict[str, float]]:
    """Forward + backward of one 3 x 3 convolution per `SWEEP` shape: XLA's convolution
    (NCHW), im2col (funcnn's `_im2col`, whatever size), and PyTorch. Also returns each
    shape's patch-matrix size in MB."""
    from funcnn.nn.functional._conv_routes import _im2col

    rng = np.random.default_rng(3)
    cases: dict[str, Callable[[], None]] = {}
    sizes: dict[str, float] = {}
    for n, c, h, o in SWEEP:
        tag = f"{n}x{c}x{h}x{h}->{o}"
        x = rng.standard_normal((n, c, h, h), np.float32)
        w = rng.standard_normal((o, c, 3, 3), np.float32)
        g = rng.standard_normal((n, o, h - 2, h - 2), np.float32)
        sizes[tag] = n * (h - 2) ** 2 * c * 9 * 4 / 2**20
        dn = ("NCHW", "OIHW", "NCHW")
        hi = lax.Precision.HIGHEST
        forms = {
            "xla-conv": lambda x, w, dn=dn, hi=hi: lax.conv_general_dilated(
                x, w, (1, 1), "VALID", dimension_numbers=dn, precision=hi
            ),
            "im2col": lambda x, w: _im2col(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1)),
        }
        for name, fn in forms.items():
            vjp = jax.jit(lambda x, w, fn=fn, g=jnp.asarray(g): jax.vjp(fn, x, w)[1](g))
            jx, jw = jnp.asarray(x), jnp.asarray(w)

            def run(vjp=vjp, jx=jx, jw=jw) -> None:
                for _ in range(steps):
                    out = vjp(jx, jw)
                jax.block_until_ready(out)

            cases[f"{tag} {name}"] = run
        tx, tw, tg = (torch.from_numpy(v).requires_grad_(True) for v in (x, w, g))

        def trun(tx=tx, tw=tw, tg=tg) -> None:
            for _ in range(steps):
                torch.autograd.grad(torch.nn.functional.conv2d(tx, tw), (tx, tw), tg)

        cases[f"{tag} torch"] = trun
    return cases, sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--steps", type=int, default=None, help="training steps per timed call")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (medians are reported)")
    parser.add_argument("--only", default=None, help="comma-separated variants to time (torch is always timed)")
    parser.add_argument("--parts", action="store_true", help="also time the conv and the pooling alone")
    parser.add_argument("--shapes", action="store_true", help="only time im2col against XLA's convolution, by shape")
    parser.add_argument("--json", default=None, help="write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.shapes:
        return shape_sweep(args)
    steps = args.steps or (5 if args.quick else 10)
    repeats = args.repeats or (7 if args.quick else 21)

    w = weights()
    x, y = data()
    ref = torch_reference(w, x, y)

    chosen = variants()
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    cases: dict[str, Callable[[], None]] = {}
    errors: dict[str, float] = {}
    for name, apply in chosen.items():
        errors[name] = exactness(apply, w, x, y, ref)
        step = funcnn.train.make_train_step(jax_loss(apply), optax.sgd(LR))
        params = funcnn.serialization.unflatten_dict({k: jnp.asarray(v) for k, v in w.items()})
        box = [params, optax.sgd(LR).init(params)]
        xj, yj = jnp.asarray(x), jnp.asarray(y)

        def run(step=step, box=box, xj=xj, yj=yj) -> None:
            for _ in range(steps):
                box[0], box[1], loss = step(box[0], box[1], xj, yj)
            jax.block_until_ready(loss)

        cases[name] = run

    tx, ty = torch.from_numpy(x), torch.from_numpy(y).long()

    def torch_runner(threads: int | None) -> Callable[[], None]:
        model = TorchModel()
        model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
        opt = torch.optim.SGD(model.parameters(), lr=LR)

        def run() -> None:
            default = torch.get_num_threads()
            torch.set_num_threads(threads or default)
            try:
                for _ in range(steps):
                    opt.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(tx), ty)
                    loss.backward()
                    opt.step()
            finally:
                torch.set_num_threads(default)

        return run

    # "torch" (the reference) uses torch's default thread count; "torch-1thread" shows how
    # much of it comes from intra-op threads (and how much a busy machine costs them).
    cases = {"torch": torch_runner(None), "torch-1thread": torch_runner(1), **cases}
    times = measure(cases, repeats=repeats, warmup=2)
    per_step = {k: [t / steps for t in v] for k, v in times.items()}
    summary = summarize(per_step)
    notes = {k: f"max |diff| vs torch {e:.1e}" + ("" if e <= EXACT_TOL else "  NOT EXACT") for k, e in errors.items()}
    print_table(
        f"CNN on {BATCH} x 1 x {SIZE} x {SIZE}: one SGD training step "
        f"(jax {jax.__version__} on {jax.default_backend()}, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads)",
        summary,
        "torch",
        notes=notes,
    )
    exact = [k for k in errors if errors[k] <= EXACT_TOL and k != "funcnn"]
    if exact:
        best = min(exact, key=lambda k: summary[k]["median_s"])
        print(f"\nfastest exact formulation: {best} ({summary[best]['median_s'] * 1e3:.2f} ms/step)")
    results: dict[str, Any] = {"per_step": summary, "max_abs_diff_vs_torch": errors}
    if args.parts:
        part_times = measure(part_cases(steps), repeats=repeats, warmup=2)
        parts = summarize({k: [t / steps for t in v] for k, v in part_times.items()})
        titles = {
            "conv": f"Conv2d(32, 64, 3, padding=1) on {BATCH} x 32 x {SIZE} x {SIZE}",
            "1x1": "Conv2d(64, 128, 1) on 16 x 64 x 16 x 16",
            "pool": f"MaxPool2d(2) on {BATCH} x 64 x {SIZE} x {SIZE}",
        }
        for kind, what in titles.items():
            rows = {k: v for k, v in parts.items() if k.startswith(kind + " ")}
            print_table(f"{what} alone: forward + backward", rows, f"{kind} torch")
        results["parts"] = parts
    if args.json:
        write_json(args.json, results)
    return 0


def shape_sweep(args: argparse.Namespace) -> int:
    """``--shapes``: forward + backward of one convolution per shape, im2col against XLA's."""
    steps, repeats = args.steps or 2, args.repeats or (3 if args.quick else 7)
    cases, sizes = shape_cases(steps)
    summary = summarize({k: [t / steps for t in v] for k, v in measure(cases, repeats=repeats, warmup=1).items()})
    print(
        f"3 x 3 convolution, forward + backward, medians of {repeats} (jax {jax.__version__}, torch {torch.__version__})"
    )
    print(
        f"  {'shape (N x C x H x W -> C_out)':30s} {'patches':>9s} {'xla-conv':>10s} {'im2col':>10s} {'torch':>10s}  im2col speed-up"
    )
    for tag, mb in sizes.items():
        t = {k: summary[f"{tag} {k}"]["median_s"] * 1e3 for k in ("xla-conv", "im2col", "torch")}
        print(
            f"  {tag:30s} {mb:7.2f}MB {t['xla-conv']:8.2f}ms {t['im2col']:8.2f}ms {t['torch']:8.2f}ms  "
            f"{t['xla-conv'] / t['im2col']:.2f}x"
        )
    if args.json:
        write_json(args.json, {"shapes": summary, "patch_mb": sizes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
