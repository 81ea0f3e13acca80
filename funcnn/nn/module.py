"""The `Module` contract: a layer is a pair of pure functions over plain pytrees.

Every module offers

* ``init(key) -> params``: a nested dict of arrays whose dotted keys and shapes equal
  the equivalent ``torch.nn`` module's ``state_dict()`` (buffers excluded).
* ``init_state() -> state``: the buffers (BatchNorm running statistics) under the same
  keys; ``{}`` for modules without buffers.
* ``apply(params, *inputs, key=None, train=False, **kwargs) -> y``: the forward pass,
  following the PyTorch layer's ``forward``. Pure: safe under ``jit``, ``grad`` and
  ``vmap``.
* ``apply_with_state(params, state, *inputs, key=None, train=False, **kwargs) ->
  (y, new_state)``: the same, threading buffers. Generic code (training loops) uses it.

A stateless layer subclasses `Module` and overrides ``init`` and ``forward``; a layer
with buffers overrides ``init_state``, ``has_state`` and ``apply_with_state``.
Containers thread state and keys through their children and need nothing else.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from funcnn import nn
    >>> layer = nn.Linear(3, 2)
    >>> params = layer.init(jax.random.key(0))
    >>> layer.apply(params, jnp.ones((4, 3))).shape
    (4, 2)
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import jax

Params = dict[str, Any]
State = dict[str, Any]


class Module:
    """Base class of every funcnn layer and container. Holds configuration only."""

    # ------------------------------------------------------------------ contract
    def init(self, key: jax.Array) -> Params:
        """Create this module's parameters from a PRNG key (``{}`` when it has none)."""
        del key
        return {}

    def init_state(self) -> State:
        """Create this module's buffers (``{}`` when it has none)."""
        return {}

    @property
    def has_state(self) -> bool:
        """Whether the module (or a child) keeps buffers and so needs `apply_with_state`."""
        return False

    def forward(self, params: Params, *inputs: Any, key: jax.Array | None = None, train: bool = False, **kwargs: Any) -> Any:
        """The stateless forward pass; subclasses without buffers override this."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward() or apply_with_state()")

    def apply(self, params: Params, *inputs: Any, key: jax.Array | None = None, train: bool = False, **kwargs: Any) -> Any:
        """Run the forward pass: ``y = module.apply(params, x)``.

        Args:
          params: the tree returned by `init` (or `funcnn.load_state_dict`).
          *inputs: the inputs of the PyTorch layer's ``forward``.
          key: PRNG key, needed when ``train=True`` and the module samples (dropout).
          train: training behaviour for dropout and batch norm.
          **kwargs: further keyword arguments of the PyTorch layer's ``forward``.

        Returns:
          What the PyTorch layer's ``forward`` returns.
        """
        if self.has_state:
            name = type(self).__name__
            raise TypeError(
                f"{name} has buffers (running statistics), so `apply` cannot return them: use "
                f"`y, state = model.apply_with_state(params, state, x, train={train})` "
                f"with `state = model.init_state()`"
            )
        return self.forward(params, *inputs, key=key, train=train, **kwargs)

    def apply_with_state(
        self,
        params: Params,
        state: State,
        *inputs: Any,
        key: jax.Array | None = None,
        train: bool = False,
        **kwargs: Any,
    ) -> tuple[Any, State]:
        """Run the forward pass and return ``(y, new_state)``; state passes through unchanged here."""
        return self.forward(params, *inputs, key=key, train=train, **kwargs), state

    # ----------------------------------------------------------------- structure
    def children(self) -> Mapping[str, "Module"]:
        """Named direct children, in order (containers override this)."""
        return {}

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """Yield ``(dotted_name, module)`` for this module and every descendant."""
        yield prefix, self
        for name, child in self.children().items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    # ------------------------------------------------------------------- display
    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``Name(...)``, as in PyTorch."""
        return ""

    def __repr__(self) -> str:
        # PyTorch's layout: a one-line extra_repr stays inline when there are no
        # children; otherwise every line (extra_repr's, then children's) is indented.
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.children().items()
        ]
        lines = extra_lines + child_lines
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        else:
            body = ""
        return f"{type(self).__name__}({body})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__} is a pure function pair, not a stateful object: call "
            f"`params = model.init(jax.random.key(0))` once, then `y = model.apply(params, x)`"
        )


def child_key(key: jax.Array | None, index: int) -> jax.Array | None:
    """The key a container hands to its child number ``index``: ``fold_in(key, index)``.

    This is the documented key-splitting rule: masks differ per layer (different
    ``index``) and per step (the caller passes a new key each step).
    """
    if key is None:
        return None
    return jax.random.fold_in(key, index)


def check_train_key(owner: str, key: jax.Array | None, train: bool) -> None:
    """Raise the standard error when a sampling layer runs in training mode without a key."""
    if train and key is None:
        raise ValueError(
            f"{owner}: train=True samples random numbers and needs a PRNG key, got key=None; "
            f"call `model.apply(params, x, key=jax.random.key(step), train=True)` "
            f"(a new key each step)"
        )
