"""A recurrent network that has to remember: recall the first token of a long sequence.

Each sample is a sequence of 5 to 20 tokens drawn from ``1..8``, padded with ``0`` to
20 steps; its label is the sequence's *first* token. The answer appears once, at the
start, and everything after it is noise, so a model can only succeed by carrying the
first token in its state to the end of the sequence: a model without memory is at
chance (1 in 8).

The model is the usual PyTorch recipe, written as a funcnn module:

* ``nn.Embedding(9, 16, padding_idx=0)`` turns tokens into vectors;
* ``nn.LSTM(16, 64, batch_first=True)`` (or ``--cell gru`` / ``rnn``) reads them,
  with ``lengths=`` (computed from the padding) so each sequence's final state is the
  one at its own last token, as with PyTorch's ``pack_padded_sequence``;
* ``nn.Linear(64, 8)`` classifies the last layer's final hidden state ``h_n[-1]``.

Training uses ``funcnn.train.fit`` with validation after each epoch. The accuracy
typically sits near chance for a few epochs, then jumps to about 100% once the LSTM
learns to hold on to the first token.

Run it: ``python -m examples run sequence_rnn`` or ``python -m examples.sequence_rnn --cell gru``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from funcnn import data, nn, train
from funcnn.nn import Params

from ._cli import positive_int, section
from .digits_cnn import EpochPrinter, plot_curves

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
PAD = 0


def make_sequences(
    n: int, *, vocab: int = 8, min_len: int = 5, max_len: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random token sequences of random lengths, labelled by their first token.

    Args:
      n: number of sequences.
      vocab: tokens are ``1..vocab``; ``0`` is padding.
      min_len, max_len: each length is drawn uniformly from ``min_len..max_len``.
      seed: seed of the NumPy generator.

    Returns:
      ``(tokens, labels)``: int32 ``(n, max_len)`` tokens, padded with 0 after each
      sequence's length, and int32 ``(n,)`` labels ``tokens[:, 0] - 1`` in
      ``0..vocab-1``.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    tokens = rng.integers(1, vocab + 1, size=(n, max_len)).astype(np.int32)
    tokens[np.arange(max_len)[None, :] >= lengths[:, None]] = PAD
    return tokens, (tokens[:, 0] - 1).astype(np.int32)


class SequenceClassifier(nn.Module):
    """Embedding -> recurrent layer -> Linear on the final hidden state.

    Args:
      vocab: number of tokens (``1..vocab``; ``0`` is padding).
      embed_dim: size of the token vectors.
      hidden_size: size of the recurrent state.
      cell: ``"lstm"``, ``"gru"`` or ``"rnn"``.

    Params: ``embedding.weight``, ``rnn.weight_ih_l0`` etc., ``head.weight``,
    ``head.bias``: the ``state_dict`` keys of the same model written with ``torch.nn``.

    Shapes: int32 tokens ``(N, L)`` -> float32 logits ``(N, vocab)``.
    """

    def __init__(self, vocab: int = 8, embed_dim: int = 16, hidden_size: int = 64, cell: str = "lstm") -> None:
        self.cell = cell
        self.embedding = nn.Embedding(vocab + 1, embed_dim, padding_idx=PAD)
        self.rnn = CELLS[cell](embed_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab)

    def forward(self, run: nn.ChildRunner, tokens: Any) -> jax.Array:
        lengths = jnp.sum(tokens != PAD, axis=1)  # what pack_padded_sequence would be given
        _, h_n = run.rnn(run.embedding(tokens), lengths=lengths)
        if self.cell == "lstm":
            h_n = h_n[0]  # (h_n, c_n)
        return run.head(h_n[-1])  # the last layer's state after each sequence's last token


def per_length_accuracy(
    model: nn.Module, params: Params, tokens: np.ndarray, labels: np.ndarray, bins: Sequence[int]
) -> list[tuple[str, int, float]]:
    """Accuracy by sequence length: ``[(range, count, accuracy), ...]`` for ``bins`` edges."""
    correct = np.asarray(jnp.argmax(jax.jit(model.apply)(params, tokens), axis=1) == labels)
    lengths = (tokens != PAD).sum(axis=1)
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        chosen = (lengths >= lo) & (lengths < hi)
        if chosen.any():
            rows.append((f"{lo}-{hi - 1}", int(chosen.sum()), float(correct[chosen].mean())))
    return rows


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.sequence_rnn", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--epochs", type=positive_int, default=12, help="training epochs (default: 12)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data, weights and batch order (default: 0)")
    parser.add_argument("--cell", choices=sorted(CELLS), default="lstm", help="recurrent layer (default: lstm)")
    parser.add_argument("--samples", type=positive_int, default=4000, help="sequences generated (default: 4000)")
    parser.add_argument(
        "--max-len", type=positive_int, default=20, help="longest sequence; the shortest is 5 (default: 20)"
    )
    parser.add_argument(
        "--vocab", type=positive_int, default=8, help="distinct tokens, so chance is 1/vocab (default: 8)"
    )
    parser.add_argument("--hidden", type=positive_int, default=64, help="recurrent state size (default: 64)")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default: 0.003)")
    parser.add_argument(
        "--out", default=os.path.join("runs", "sequence_rnn"), help="where the plot goes (default: runs/sequence_rnn)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the task, train the recurrent model, compare with chance."""
    parser = build_parser()
    args = parser.parse_args(argv)
    min_len = 5
    if args.max_len < min_len:
        parser.error(f"argument --max-len: expected at least {min_len}, got {args.max_len}")

    section(f"The task: recall the first of {min_len}-{args.max_len} tokens")
    tokens, labels = make_sequences(
        args.samples, vocab=args.vocab, min_len=min_len, max_len=args.max_len, seed=args.seed
    )
    train_set, val_set, test_set = data.random_split((tokens, labels), [0.7, 0.1, 0.2], key=jax.random.key(args.seed))
    print(f"tokens {tokens.shape} int32 (0 = padding), labels {labels.shape} in 0..{args.vocab - 1}")
    for row, label in zip(tokens[:3], labels[:3]):
        print(f"  {' '.join(str(t) for t in row)}  -> label {label} (first token {label + 1})")
    print(f"train {len(train_set[1])}, validation {len(val_set[1])}, test {len(test_set[1])} sequences")

    section(f"The model: Embedding -> {args.cell.upper()} -> Linear")
    model = SequenceClassifier(args.vocab, hidden_size=args.hidden, cell=args.cell)
    print(nn.summary(model, jax.ShapeDtypeStruct((64, args.max_len), jnp.int32)))

    section(f"Training with funcnn.train.fit: {args.epochs} epochs, Adam lr={args.lr}")
    data_key, fit_key = jax.random.split(jax.random.key(args.seed + 1))
    start = time.perf_counter()
    result = train.fit(
        model,
        optax.adam(args.lr),
        data.DataLoader(train_set, batch_size=64, shuffle=True, key=data_key, drop_last=True),
        loss=nn.CrossEntropyLoss(),
        epochs=args.epochs,
        key=fit_key,
        val_loader=data.DataLoader(val_set, batch_size=1024),
        progress=False,
        callbacks=[EpochPrinter(args.epochs)],
    )
    print(f"trained in {time.perf_counter() - start:.2f} s (including compilation)")

    section("Held-out accuracy against the baselines")
    bins = sorted({b for b in (min_len, 10, 15) if b <= args.max_len} | {args.max_len + 1})
    rows = per_length_accuracy(model, result.params, *test_set, bins=bins)
    correct = sum(count * acc for _, count, acc in rows)
    test_acc = correct / len(test_set[1])
    majority = np.bincount(train_set[1], minlength=args.vocab).argmax()
    print(f"{args.cell.upper() + ' test accuracy':<28s}{test_acc:.4f}")
    print(f"{f'chance (1/{args.vocab})':<28s}{1 / args.vocab:.4f}")
    print(f"{'always the commonest label':<28s}{np.mean(test_set[1] == majority):.4f}")
    print("by sequence length (the first token is that many steps back):")
    for span, count, acc in rows:
        print(f"  length {span:>5s}: {acc:.4f} of {count}")

    section("Curves")
    written = plot_curves(
        {args.cell.upper(): result.history}, Path(args.out) / "curves.png", title="Recall the first token"
    )
    if written is not None:
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
