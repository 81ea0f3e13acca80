"""``python -m examples``: list the bundled examples and run them.

Usage::

    python -m examples                       # list: name, group, description
    python -m examples run training          # one example
    python -m examples run tensors autograd  # several, in the order given
    python -m examples run seed              # a group: the article's sections in order
    python -m examples run all --epochs 5    # everything; flags pass through
    python -m examples launch -n 2 data_parallel --epochs 3  # one example as 2 processes

``--epochs`` and ``--seed`` go to each example that takes them. The runner switches on
JAX's persistent compilation cache (see `funcnn._cache`), so a second run skips
compilation; ``--no-cache`` turns that off and ``--cache-dir`` picks the directory.
``launch`` runs one example as several local processes of one distributed job (see
`examples._launch`); every argument after the name goes to the example.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import Sequence

import jax

import funcnn
from funcnn._cache import default_cache_dir, enable_compilation_cache

from ._cli import positive_int
from ._launch import launch_example
from ._registry import ALL, EXAMPLES, Example

PASS_THROUGH = ("epochs", "seed")


def groups() -> dict[str, list[Example]]:
    """Group name -> its examples in registry order, with ``"all"`` holding every one."""
    out: dict[str, list[Example]] = {ALL: list(EXAMPLES)}
    for example in EXAMPLES:
        out.setdefault(example.group, []).append(example)
    return out


def resolve(names: Sequence[str]) -> tuple[list[Example], list[str]]:
    """Expand names and group names into examples (each once, first mention first).

    Returns:
      ``(examples, unknown)``: the selected examples, and the names that are neither an
      example nor a group.
    """
    by_name = {e.name: e for e in EXAMPLES}
    by_group = groups()
    selected: list[Example] = []
    unknown: list[str] = []
    for name in names:
        if name in by_name:
            found = [by_name[name]]
        elif name in by_group:
            found = by_group[name]
        else:
            unknown.append(name)
            continue
        selected.extend(e for e in found if e not in selected)
    return selected, unknown


def list_examples() -> None:
    """Print every example's name, group and description."""
    width = max(len("name"), *(len(e.name) for e in EXAMPLES))
    gwidth = max(len("group"), *(len(e.group) for e in EXAMPLES))
    print("Examples (python -m examples run NAME [NAME ...], a group name, or all):")
    print(f"  {'name':{width}s}  {'group':{gwidth}s}  description")
    for e in EXAMPLES:
        print(f"  {e.name:{width}s}  {e.group:{gwidth}s}  {e.description}")
    print(f"groups: {', '.join(groups())}")


def example_argv(example: Example, args: argparse.Namespace) -> list[str]:
    """The flags of ``args`` that ``example`` takes, as an argv list."""
    parser = importlib.import_module(example.module).build_parser()
    argv: list[str] = []
    for flag in PASS_THROUGH:
        value = getattr(args, flag)
        if value is not None and parser.get_default(flag) is not None:
            argv += [f"--{flag}", str(value)]
    return argv


def run_examples(examples: Sequence[Example], args: argparse.Namespace) -> int:
    """Run each example with a banner and its wall time; returns the worst exit status."""
    status = 0
    total = time.perf_counter()
    for i, example in enumerate(examples, 1):
        argv = example_argv(example, args)
        flags = f" ({' '.join(argv)})" if argv else ""
        print(f"\n{'=' * 8} [{i}/{len(examples)}] {example.name}{flags}: {example.description} {'=' * 8}")
        start = time.perf_counter()
        code = importlib.import_module(example.module).main(argv)
        seconds = time.perf_counter() - start
        outcome = "done" if code == 0 else f"FAILED with exit status {code}"
        print(f"{'-' * 8} {example.name}: {outcome} in {seconds:.2f} s {'-' * 8}")
        status = max(status, code)
    print(f"\nran {len(examples)} example(s) in {time.perf_counter() - total:.2f} s")
    return status


def header(cache: str) -> None:
    """Print the versions, backend and devices, and where compiled programs are cached."""
    devices = ", ".join(str(d) for d in jax.devices())
    print(f"funcnn {funcnn.__version__} | JAX {jax.__version__} | backend {jax.default_backend()} | devices: {devices}")
    print(f"compilation cache: {cache}")


def launch_command(args: argparse.Namespace) -> int:
    """``launch``: run example ``args.name`` as ``args.num_processes`` processes; their joint status."""
    by_name = {e.name: e for e in EXAMPLES}
    if args.name not in by_name:
        print(
            f"python -m examples launch: unknown example {args.name!r}; expected one of {', '.join(by_name)}",
            file=sys.stderr,
        )
        return 2
    if args.timeout <= 0:
        print(f"python -m examples launch: --timeout must be > 0 seconds, got {args.timeout:g}", file=sys.stderr)
        return 2
    return launch_example(by_name[args.name].module, args.example_args, args.num_processes, timeout=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    """The runner's command line: ``list`` (the default) and ``run NAME...``."""
    parser = argparse.ArgumentParser(prog="python -m examples", description="List and run funcnn's examples.")
    commands = parser.add_subparsers(dest="command", metavar="{list,run,launch}")
    commands.add_parser("list", help="list the examples (the default)")
    run = commands.add_parser("run", help="run examples by name, by group, or all")
    run.add_argument("names", nargs="+", metavar="NAME", help="example or group names (see `python -m examples list`)")
    run.add_argument("--epochs", type=positive_int, default=None, help="epochs, for examples that train")
    run.add_argument("--seed", type=int, default=None, help="random seed, for examples that take one")
    run.add_argument("--no-cache", action="store_true", help="do not use JAX's persistent compilation cache")
    run.add_argument("--cache-dir", default=None, help=f"compilation cache directory (default: {default_cache_dir()})")
    launch = commands.add_parser("launch", help="run one example as N local processes of a distributed job")
    launch.add_argument("-n", "--num-processes", type=positive_int, default=2, help="number of processes (default: 2)")
    launch.add_argument(
        "--timeout", type=float, default=300.0, help="seconds before every process is stopped (default: 300)"
    )
    launch.add_argument("name", metavar="NAME", help="the example to run (see `python -m examples list`)")
    launch.add_argument("example_args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for the example")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for unknown example names)."""
    args = build_parser().parse_args(argv)
    if args.command == "launch":
        return launch_command(args)
    if args.command != "run":
        list_examples()
        return 0
    examples, unknown = resolve(args.names)
    if unknown:
        valid = ", ".join(e.name for e in EXAMPLES)
        what = "example" if len(unknown) == 1 else "examples"
        print(
            f"python -m examples run: unknown {what} {', '.join(repr(n) for n in unknown)}; "
            f"expected one of {valid}, or a group: {', '.join(groups())}",
            file=sys.stderr,
        )
        return 2
    if args.no_cache:
        if args.cache_dir is not None:
            print("python -m examples run: --no-cache and --cache-dir contradict each other; pass one", file=sys.stderr)
            return 2
        cache = "off (--no-cache)"
    else:
        try:
            cache = str(enable_compilation_cache(args.cache_dir))
        except OSError as error:  # e.g. a read-only home directory: run without the cache
            cache = f"off (cannot use {args.cache_dir or default_cache_dir()}: {error})"
    header(cache)
    return run_examples(examples, args)
