"""A DCGAN on the 8x8 digits: two models, two optimizers, BatchNorm in both.

The structure is pytorch/examples' ``dcgan/main.py``, scaled down to 8x8 images:

* ``netG``: ``ConvTranspose2d -> BatchNorm2d -> ReLU`` twice, then ``ConvTranspose2d
  -> Tanh``: noise ``(N, nz, 1, 1)`` to images ``(N, 1, 8, 8)`` in ``[-1, 1]``;
* ``netD``: ``Conv2d -> LeakyReLU(0.2)``, ``Conv2d -> BatchNorm2d -> LeakyReLU(0.2)``,
  then ``Conv2d -> Sigmoid``: images to the probability that they are real;
* the weights start as ``weights_init`` does (convolutions N(0, 0.02), BatchNorm
  weight N(1, 0.02) and bias 0); ``nn.BCELoss()`` with ``real_label = 1`` and
  ``fake_label = 0``; two ``optax.adam(2e-4, b1=0.5, b2=0.999)``;
* each iteration (1) updates D on a real batch and on ``G(z).detach()``
  (``lax.stop_gradient``), then (2) updates G so that D calls ``G(z)`` real.

BatchNorm in a GAN, done as PyTorch does it. Each model's buffers are a ``state``
tree threaded through ``apply_with_state``; every train-mode forward returns new
buffers, and the step keeps exactly the updates PyTorch makes:

* D runs three times per iteration (real, fake, and fake again in the G step), so its
  running statistics are updated three times, in that order, as in PyTorch;
* G runs once per iteration in PyTorch (``fake = netG(noise)``, reused by the G
  step). Here the G step must run G again to differentiate through it: with the
  same noise, parameters and state (BatchNorm normalises by the batch's own
  statistics in training) it computes the same ``fake``, and **the buffers it
  returns are discarded** (``fake, _ = netG.apply_with_state(...)``): the step keeps
  G's buffers from the D step, so G's statistics move once per iteration.

Run it: ``python -m examples run dcgan`` or ``python -m examples.dcgan --epochs 20``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, NamedTuple, Sequence, cast

import jax
import jax.numpy as jnp
import numpy as np
import optax

from funcnn import data, nn
from funcnn.nn.module import Params, State
from funcnn.serialization import flatten_dict, unflatten_dict

from ._cli import positive_int, section

REAL_LABEL, FAKE_LABEL = 1.0, 0.0


def Generator(nz: int = 16, ngf: int = 16) -> nn.Sequential:
    """``netG``: noise ``(N, nz, 1, 1)`` -> ``(N, ngf*4, 2, 2)`` -> ``(N, ngf*2, 4, 4)`` -> images ``(N, 1, 8, 8)``."""
    return nn.Sequential(
        main=nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 2, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(),
            nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False), nn.Tanh(),
        )
    )  # fmt: skip


def Discriminator(ndf: int = 16) -> nn.Sequential:
    """``netD``: images ``(N, 1, 8, 8)`` -> ``(N, ndf, 4, 4)`` -> ``(N, ndf*2, 2, 2)`` -> ``(N, 1, 1, 1)`` probabilities."""
    return nn.Sequential(
        main=nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, 1, 2, 1, 0, bias=False), nn.Sigmoid(),
        )
    )  # fmt: skip


def weights_init(params: Params, key: jax.Array) -> Params:
    """pytorch/examples' ``weights_init``: conv weights N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    flat = flatten_dict(params)
    keys = jax.random.split(key, len(flat))
    out = {}
    for k, (name, value) in zip(keys, flat.items()):
        if name.endswith("weight") and value.ndim == 4:  # Conv2d / ConvTranspose2d
            out[name] = 0.02 * jax.random.normal(k, value.shape, value.dtype)
        elif name.endswith("weight"):  # BatchNorm2d
            out[name] = 1.0 + 0.02 * jax.random.normal(k, value.shape, value.dtype)
        else:
            out[name] = jnp.zeros_like(value)
    return unflatten_dict(out)


class GAN(NamedTuple):
    """Everything the training step changes: both models' parameters, buffers and optimizer states."""

    g_params: Params
    g_state: State
    g_opt: Any
    d_params: Params
    d_state: State
    d_opt: Any


def make_step(netG: nn.Module, netD: nn.Module, opt_g: Any, opt_d: Any, nz: int) -> Any:
    """The jit-compiled iteration ``(gan, real, key) -> (gan, stats)`` of pytorch/examples' training loop."""
    bce = nn.BCELoss()

    def step(gan: GAN, real: jax.Array, key: jax.Array) -> tuple[GAN, dict[str, jax.Array]]:
        b = real.shape[0]
        noise = jax.random.normal(key, (b, nz, 1, 1))
        # G runs once per iteration, in training mode: its buffers move here, once.
        fake, g_state = netG.apply_with_state(gan.g_params, gan.g_state, noise, train=True)

        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z))).
        def d_loss(d_params: Params) -> tuple[jax.Array, Any]:
            out_real, d_state = netD.apply_with_state(d_params, gan.d_state, real, train=True)
            err_real = bce(out_real.reshape(-1), jnp.full((b,), REAL_LABEL))
            detached = jax.lax.stop_gradient(fake)  # fake.detach(): no gradient reaches G
            out_fake, d_state = netD.apply_with_state(d_params, d_state, detached, train=True)
            err_fake = bce(out_fake.reshape(-1), jnp.full((b,), FAKE_LABEL))
            return err_real + err_fake, (d_state, out_real.mean(), out_fake.mean())

        (err_d, (d_state, d_x, d_g_z1)), grads = jax.value_and_grad(d_loss, has_aux=True)(gan.d_params)
        updates, d_opt = opt_d.update(grads, gan.d_opt, gan.d_params)
        d_params = cast(Params, optax.apply_updates(gan.d_params, updates))

        # (2) Update G: maximize log(D(G(z))), with the D just updated.
        def g_loss(g_params: Params) -> tuple[jax.Array, Any]:
            # The same forward as above (same noise, params and state): the same `fake`.
            # PyTorch does not run G again, so the buffers this second run returns are discarded.
            fake_again, _discarded = netG.apply_with_state(g_params, gan.g_state, noise, train=True)
            out, new_d_state = netD.apply_with_state(d_params, d_state, fake_again, train=True)
            return bce(out.reshape(-1), jnp.full((b,), REAL_LABEL)), (new_d_state, out.mean())

        (err_g, (d_state, d_g_z2)), grads = jax.value_and_grad(g_loss, has_aux=True)(gan.g_params)
        updates, g_opt = opt_g.update(grads, gan.g_opt, gan.g_params)
        g_params = cast(Params, optax.apply_updates(gan.g_params, updates))
        stats = {"Loss_D": err_d, "Loss_G": err_g, "D(x)": d_x, "D(G(z))_before": d_g_z1, "D(G(z))_after": d_g_z2}
        return GAN(g_params, g_state, g_opt, d_params, d_state, d_opt), stats

    return jax.jit(step, donate_argnums=(0,))


def train_gan(
    epochs: int, *, seed: int = 0, batch_size: int = 64, nz: int = 16, ngf: int = 16, ndf: int = 16, lr: float = 2e-4
) -> tuple[nn.Module, GAN, list[dict[str, float]]]:
    """Train the DCGAN on the digits scaled to ``[-1, 1]``; returns ``(netG, final GAN state, per-epoch means)``."""
    images, _ = data.load_digits()
    loader = data.DataLoader((images * 2.0 - 1.0,), batch_size=batch_size, shuffle=True, drop_last=True,
                             key=jax.random.key(seed + 1))  # fmt: skip
    netG, netD = Generator(nz, ngf), Discriminator(ndf)
    kg, kd, run = jax.random.split(jax.random.key(seed), 3)
    g_params, d_params = weights_init(netG.init(kg), kg), weights_init(netD.init(kd), kd)
    opt_g, opt_d = optax.adam(lr, b1=0.5, b2=0.999), optax.adam(lr, b1=0.5, b2=0.999)
    gan = GAN(g_params, netG.init_state(), opt_g.init(g_params), d_params, netD.init_state(), opt_d.init(d_params))
    step = make_step(netG, netD, opt_g, opt_d, nz)
    history = []
    i = 0
    for epoch in range(epochs):
        stats = []
        for (real,) in loader:
            gan, s = step(gan, real, jax.random.fold_in(run, i))
            stats.append(s)
            i += 1
        means = {k: float(np.mean(v)) for k, v in jax.device_get(jax.tree.map(lambda *a: jnp.stack(a), *stats)).items()}
        history.append({"epoch": epoch + 1, **means})
    return netG, gan, history


def ascii_digits(images: np.ndarray) -> str:
    """8x8 images in ``[-1, 1]`` side by side as text, darker characters for brighter pixels."""
    shades = " .:-=+*#%@"
    rows = []
    for r in range(images.shape[-2]):
        row = []
        for img in images:
            levels = np.clip(((img[0, r] + 1) / 2 * (len(shades) - 1)).round().astype(int), 0, len(shades) - 1)
            row.append("".join(shades[v] * 2 for v in levels))
        rows.append("   ".join(row))
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(prog="python -m examples.dcgan", description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--epochs", type=positive_int, default=10, help="training epochs (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, noise and batch order (default: 0)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="batch size (default: 64)")
    parser.add_argument("--nz", type=positive_int, default=16, help="size of the noise vector (default: 16)")
    parser.add_argument("--ngf", type=positive_int, default=16, help="generator feature maps (default: 16)")
    parser.add_argument("--ndf", type=positive_int, default=16, help="discriminator feature maps (default: 16)")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of both (default: 0.0002)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Train the DCGAN, print the losses per epoch and a few generated digits."""
    args = build_parser().parse_args(argv)
    section("The models: netG (ConvTranspose2d + BatchNorm2d + ReLU) and netD (Conv2d + LeakyReLU + BatchNorm2d)")
    print(nn.summary(Generator(args.nz, args.ngf), jax.ShapeDtypeStruct((args.batch_size, args.nz, 1, 1), jnp.float32)))
    print(nn.summary(Discriminator(args.ndf), jax.ShapeDtypeStruct((args.batch_size, 1, 8, 8), jnp.float32)))

    section(f"Training {args.epochs} epochs: BCE loss, two Adam(lr={args.lr:g}, betas=(0.5, 0.999))")
    start = time.perf_counter()
    netG, gan, history = train_gan(
        args.epochs, seed=args.seed, batch_size=args.batch_size, nz=args.nz, ngf=args.ngf, ndf=args.ndf, lr=args.lr
    )
    for h in history:
        print(
            f"[{h['epoch']}/{args.epochs}] Loss_D: {h['Loss_D']:.4f} Loss_G: {h['Loss_G']:.4f} D(x): {h['D(x)']:.4f} "
            f"D(G(z)): {h['D(G(z))_before']:.4f} / {h['D(G(z))_after']:.4f}"
        )
    print(f"trained in {time.perf_counter() - start:.2f} s (including compilation)")
    g_steps = int(gan.g_state["main"]["1"]["num_batches_tracked"])
    d_steps = int(gan.d_state["main"]["3"]["num_batches_tracked"])
    print(f"BatchNorm updates: netG {g_steps} (one per iteration), netD {d_steps} (three per iteration)")

    section("Eight generated digits (eval mode: BatchNorm on its running statistics)")
    noise = jax.random.normal(jax.random.key(args.seed + 7), (8, args.nz, 1, 1))
    fakes, _ = netG.apply_with_state(gan.g_params, gan.g_state, noise, train=False)
    print(ascii_digits(np.asarray(fakes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
