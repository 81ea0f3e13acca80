"""Weights from PyTorch: train in ``torch``, save as safetensors, run the same model in funcnn.

funcnn's parameter trees use PyTorch's ``state_dict`` names, shapes and layouts, so a
trained PyTorch model moves over as a file:

1. build a small CNN with ``torch.nn`` (``Conv2d``, ``BatchNorm2d``, ``ReLU``,
   ``MaxPool2d``, ``Flatten``, ``Linear``) and train it a few epochs on the digits;
2. save ``model.state_dict()`` with ``safetensors.torch.save_file`` (or, without the
   ``safetensors`` package, ``funcnn.checkpoint.save_file`` of the tensors as NumPy
   arrays): a plain tensor file, no pickle;
3. build the same layers with ``funcnn.nn`` and load the file with
   ``funcnn.checkpoint.load_weights(path, model)``, which checks every name and shape
   and returns ``(params, state)``: the weights, and the batch-norm running
   statistics as buffers;
4. run both in evaluation mode on the test images: the logits agree to float32
   round-off and the predicted classes agree on every image.

Then the other way: ``funcnn.checkpoint.save_weights`` writes a file that
``torch_module.load_state_dict`` takes as it is.

PyTorch is not a dependency of funcnn; without it this example explains what it
would do and exits cleanly.

Run it: ``python -m examples run torch_weights`` or ``python -m examples.torch_weights``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from pathlib import Path
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from funcnn import checkpoint, nn
from funcnn.serialization import flatten_dict

from ._cli import positive_int, section
from .digits_cnn import load_split


def funcnn_model() -> nn.Sequential:
    """The funcnn twin of `torch_model`: float32 ``(N, 1, 8, 8)`` images -> ``(N, 10)`` logits."""
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 10),
    )


def torch_model(seed: int = 0) -> Any:
    """The PyTorch model, layer for layer the same as `funcnn_model` (needs torch)."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, kernel_size=3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 4 * 4, 10),
    )


def train_torch(model: Any, images: np.ndarray, labels: np.ndarray, *, epochs: int, seed: int = 0) -> list[float]:
    """PyTorch's own loop: Adam, cross-entropy, shuffled batches of 32. Returns each epoch's mean loss."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    x, y = torch.from_numpy(images), torch.from_numpy(labels).long()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_function = torch.nn.CrossEntropyLoss()
    losses = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small trains fastest on one thread; restored below
    try:
        model.train()
        for _ in range(epochs):
            total = 0.0
            for idx in torch.randperm(len(x), generator=generator).split(32):
                loss = loss_function(model(x[idx]), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            losses.append(total / len(x))
        model.eval()
    finally:
        torch.set_num_threads(threads)
    return losses


def save_torch_weights(model: Any, path: Path) -> str:
    """Write ``model.state_dict()`` to ``path`` as safetensors; returns which writer was used."""
    if importlib.util.find_spec("safetensors") is not None:
        from safetensors.torch import save_file

        save_file(model.state_dict(), str(path))
        return "safetensors.torch.save_file"
    tensors = {name: t.detach().cpu().numpy() for name, t in model.state_dict().items()}
    checkpoint.save_file(tensors, path)
    return "funcnn.checkpoint.save_file"


def compare(torch_logits: np.ndarray, funcnn_logits: np.ndarray) -> tuple[float, float]:
    """``(max |difference|, fraction of rows with the same argmax)`` of two float ``(N, C)`` logit arrays."""
    diff = float(np.max(np.abs(torch_logits - funcnn_logits)))
    agree = float(np.mean(torch_logits.argmax(axis=1) == funcnn_logits.argmax(axis=1)))
    return diff, agree


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.torch_weights", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--epochs", type=positive_int, default=5, help="PyTorch training epochs (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of torch (default: 0)")
    parser.add_argument(
        "--out",
        default=os.path.join("runs", "torch_weights"),
        help="where the weight files go (default: runs/torch_weights)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Train in PyTorch, load the weights into funcnn, compare the predictions both ways."""
    args = build_parser().parse_args(argv)
    out = Path(args.out)

    section("PyTorch")
    if importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed, so there is no torch model to train here.")
        print("With it (pip install torch safetensors), this example trains a CNN in PyTorch, saves its")
        print("state_dict as safetensors, loads the file with funcnn.checkpoint.load_weights(path, model)")
        print("and shows both frameworks giving the same predictions. Nothing else needs torch.")
        return 0
    import torch

    print(f"torch {torch.__version__}")

    section(f"1. Training a CNN in PyTorch on the digits: {args.epochs} epochs")
    (train_images, train_labels), _, (test_images, test_labels) = load_split(args.seed)
    reference = torch_model(args.seed)
    print(reference)
    start = time.perf_counter()
    losses = train_torch(reference, train_images, train_labels, epochs=args.epochs, seed=args.seed)
    print(f"mean training loss by epoch: {', '.join(f'{v:.4f}' for v in losses)} ({time.perf_counter() - start:.2f} s)")

    section("2. Saving its state_dict as safetensors")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "torch_cnn.safetensors"
    writer = save_torch_weights(reference, path)
    print(f"{writer}(model.state_dict(), {str(path)!r})")
    for name, tensor in reference.state_dict().items():
        print(f"  {name:28s} {str(tuple(tensor.shape)):16s} {str(tensor.dtype).removeprefix('torch.')}")

    section("3. Loading the file into the same model built with funcnn.nn")
    model = funcnn_model()
    params, state = checkpoint.load_weights(path, model)
    print("params:", ", ".join(f"{k} {v.shape}" for k, v in flatten_dict(params).items()))
    print("state: ", ", ".join(f"{k} {v.shape}" for k, v in flatten_dict(state).items()))

    section(f"4. The same predictions on {len(test_labels)} test images")
    with torch.no_grad():
        torch_logits = reference(torch.from_numpy(test_images)).numpy()
    logits, _ = jax.jit(lambda p, s, x: model.apply_with_state(p, s, x, train=False))(
        params, state, jnp.asarray(test_images)
    )
    funcnn_logits = np.asarray(logits)
    diff, agree = compare(torch_logits, funcnn_logits)
    print(f"max |torch - funcnn| logit difference: {diff:.2e}")
    print(f"predicted classes agree: {100 * agree:.1f}%")
    print(
        f"test accuracy: torch {np.mean(torch_logits.argmax(1) == test_labels):.4f}, "
        f"funcnn {np.mean(funcnn_logits.argmax(1) == test_labels):.4f}"
    )

    section("5. And back: funcnn.checkpoint.save_weights -> torch load_state_dict")
    back = out / "funcnn_cnn.safetensors"
    checkpoint.save_weights(back, params, state)
    twin = torch_model(args.seed + 1)  # other initial weights, replaced by the file's
    tensors = {k: torch.from_numpy(np.array(v)) for k, v in checkpoint.load_file(back).items()}
    twin.load_state_dict(tensors)  # strict: the same names and shapes
    twin.eval()
    with torch.no_grad():
        twin_logits = twin(torch.from_numpy(test_images)).numpy()
    back_diff, back_agree = compare(twin_logits, funcnn_logits)
    print(f"torch loaded {back} (strict): max difference {back_diff:.2e}, classes agree {100 * back_agree:.1f}%")
    return 0 if agree == 1.0 and back_agree == 1.0 and diff < 1e-3 and back_diff < 1e-3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
