"""torchvision's ResNet-18, written the way PyTorch writes it, running torchvision-layout weights.

The classes below are torchvision's ``BasicBlock`` and ``ResNet`` (18 layers) line for
line: sub-modules assigned as attributes in ``__init__`` (``conv1``, ``bn1``, ``relu``,
``maxpool``, ``layer1`` .. ``layer4``, ``avgpool``, ``fc``; in each block ``conv1``,
``bn1``, ``conv2``, ``bn2``, ``downsample``) and a ``forward`` that calls them. The one
difference: ``forward`` receives a runner, ``run``, and calls a child as ``run.conv1(x)``
where PyTorch writes ``self.conv1(x)``; the runner hands each child its weights, its
running statistics, the ``train`` flag and a key. Everything else (``init``,
``init_state``, the buffers threaded by ``apply_with_state``) is derived from the
attributes, so the ``state_dict`` keys are torchvision's: ``layer1.0.conv1.weight``,
``layer2.0.downsample.1.running_mean``, ... and a ``resnet18`` weights file saved from
PyTorch (``safetensors.torch.save_file(model.state_dict(), path)``) loads as it is.

The script builds the model (``--width 64`` is torchvision's size; the default is
smaller so it runs in seconds on a CPU), saves its weights as a safetensors file in
torchvision's layout, loads them back with ``funcnn.checkpoint.load_weights`` (which
checks every key and shape), and classifies a batch of random images in eval mode.
``--weights PATH`` loads a real torchvision checkpoint instead (``--width 64``,
``--classes 1000``).

Run it: ``python -m examples run resnet`` or ``python -m examples.resnet --width 64``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Sequence

import jax
import jax.numpy as jnp

import funcnn
from funcnn import checkpoint, nn

from ._cli import positive_int, section


class BasicBlock(nn.Module):
    """torchvision's ``BasicBlock``: two 3x3 conv-BN pairs and a (projected) shortcut.

    Args:
      inplanes: input channels.
      planes: output channels.
      stride: stride of the first convolution (and of ``downsample``).
      downsample: the shortcut's projection (``Sequential(conv1x1, bn)``) or None.

    Shapes: ``(N, inplanes, H, W) -> (N, planes, H / stride, W / stride)``.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, run: nn.ChildRunner, x: jax.Array) -> jax.Array:
        identity = x
        out = run.relu(run.bn1(run.conv1(x)))
        out = run.bn2(run.conv2(out))
        if self.downsample is not None:
            identity = run.downsample(x)
        return run.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision's ``resnet18``: stem, four stages of two `BasicBlock` s, pooling, ``fc``.

    Args:
      num_classes: outputs of ``fc``.
      width: channels of the stem and first stage (torchvision: 64); the stages have
        ``width``, ``2 width``, ``4 width``, ``8 width``.

    Shapes: float32 ``(N, 3, H, W)`` images -> float32 ``(N, num_classes)`` logits.
    """

    def __init__(self, num_classes: int = 1000, width: int = 64) -> None:
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(width, 2)
        self.layer2 = self._make_layer(2 * width, 2, stride=2)
        self.layer3 = self._make_layer(4 * width, 2, stride=2)
        self.layer4 = self._make_layer(8 * width, 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width, num_classes)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, run: nn.ChildRunner, x: jax.Array) -> jax.Array:
        x = run.maxpool(run.relu(run.bn1(run.conv1(x))))
        x = run.layer4(run.layer3(run.layer2(run.layer1(x))))
        x = run.avgpool(x)
        return run.fc(x.reshape(x.shape[0], -1))  # torch.flatten(x, 1)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(prog="python -m examples.resnet", description=(__doc__ or "").partition("\n")[0])
    parser.add_argument(
        "--width", type=positive_int, default=16, help="channels of the first stage (torchvision: 64; default: 16)"
    )
    parser.add_argument(
        "--classes", type=positive_int, default=10, help="outputs of fc (torchvision: 1000; default: 10)"
    )
    parser.add_argument(
        "--image-size", type=positive_int, default=64, help="side of the random test images (default: 64)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and images (default: 0)")
    parser.add_argument("--weights", type=Path, default=None, help="a torchvision-layout safetensors file to load")
    parser.add_argument("--out", type=Path, default=Path("runs") / "resnet", help="where the weights file is written")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Build ResNet-18, round-trip its weights through a torchvision-layout file, classify."""
    args = build_parser().parse_args(argv)
    model = ResNet18(num_classes=args.classes, width=args.width)
    path = args.weights
    if path is None:
        section("ResNet-18 with torchvision's attribute names")
        params, state = model.init(jax.random.key(args.seed)), model.init_state()
        keys = list(funcnn.state_dict(params, state, model=model))
        print(f"{len(keys)} state_dict keys, in torchvision's order; the first and last few:")
        for name in keys[:6] + ["..."] + keys[-4:]:
            print(f"  {name}")
        os.makedirs(args.out, exist_ok=True)
        path = args.out / "resnet18.safetensors"
        checkpoint.save_weights(path, params, state)
        print(f"saved {path} (what safetensors.torch.save_file(torch_model.state_dict(), path) writes)")
    section("Load the file and classify")
    params, state = checkpoint.load_weights(path, model)
    print(f"loaded {path}: every key and shape checked")
    images = jax.random.normal(jax.random.key(args.seed + 1), (4, 3, args.image_size, args.image_size))
    predict = jax.jit(lambda p, s, x: model.apply_with_state(p, s, x)[0])  # eval mode: running statistics
    logits = predict(params, state, images)
    print(f"logits {logits.shape}; predicted classes {jnp.argmax(logits, axis=1).tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
