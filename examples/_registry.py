"""The one list of bundled examples: adding an example is adding one line here.

Every example module offers ``build_parser() -> argparse.ArgumentParser`` and
``main(argv=None) -> int``. The runner passes ``--epochs``/``--seed`` through to an
example whose parser has a default for them, so give those flags a default.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """A registered example.

    Attributes:
      name: what ``python -m examples run NAME`` takes.
      module: the importable module, e.g. ``"examples.tensors"``.
      description: one line for the listing.
      group: a name that runs several examples at once, e.g. ``"seed"``.
    """

    name: str
    module: str
    description: str
    group: str


# The "seed" group follows the introductory article's sections, in order.
EXAMPLES: tuple[Example, ...] = (
    Example(
        "tensors", "examples.tensors", "arrays: creation, arithmetic, dtypes, devices, NumPy, immutability", "seed"
    ),
    Example(
        "autograd", "examples.autograd", "jax.grad of x**2, higher derivatives, Jacobians, per-example grads", "seed"
    ),
    Example(
        "feedforward",
        "examples.feedforward",
        "the article's FeedforwardNN, as nn.Sequential and written by hand",
        "seed",
    ),
    Example(
        "training", "examples.training", "the article's MSE + SGD loop, then the same run fused with lax.scan", "seed"
    ),
    Example(
        "jax_ideas", "examples.jax_ideas", "tracing, jit and control flow, recompiling, devices, async dispatch", "seed"
    ),
    Example(
        "digits_cnn",
        "examples.digits_cnn",
        "a CNN on the 8x8 digits with fit: validation, test accuracy, saved weights",
        "workflow",
    ),
    Example(
        "sequence_rnn",
        "examples.sequence_rnn",
        "an LSTM recalls the first token of padded variable-length sequences",
        "workflow",
    ),
    Example(
        "transfer_learning",
        "examples.transfer_learning",
        "pretrain on digits 0-4, new head for 5-9, frozen body vs from scratch",
        "workflow",
    ),
    Example(
        "torch_weights",
        "examples.torch_weights",
        "a CNN trained in PyTorch, loaded from safetensors, same predictions",
        "workflow",
    ),
    Example(
        "data_parallel",
        "examples.data_parallel",
        "the digits CNN data-parallel over all devices; `launch -n 2` for processes",
        "workflow",
    ),
    Example(
        "lr_finder",
        "examples.lr_finder",
        "a learning-rate range test on the digits, then training at the rate it found",
        "workflow",
    ),
    Example(
        "dcgan",
        "examples.dcgan",
        "pytorch/examples' DCGAN on the 8x8 digits: two models, two Adams, BatchNorm in both",
        "workflow",
    ),
    Example(
        "resnet",
        "examples.resnet",
        "torchvision's ResNet-18 written as PyTorch writes it; torchvision-layout weights",
        "workflow",
    ),
)

# Runs every registered example.
ALL = "all"
