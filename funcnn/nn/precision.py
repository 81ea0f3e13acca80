"""Mixed precision: a dtype policy applied to a whole model.

A `Policy` names three dtypes: parameters are stored (and updated by the optimizer) in
``param_dtype``, the forward and backward passes run in ``compute_dtype``, and outputs
come back in ``output_dtype``. `MixedPrecision` wraps any module with a policy; its
parameter tree and ``state_dict`` keys are those of the wrapped module, so weights load
and save exactly as before. Buffers (BatchNorm statistics) stay in their own dtype.

For float16, pair it with `funcnn.train.dynamic_loss_scale` so small gradients do not
underflow; bfloat16 has float32's range and needs no scaling.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> model = nn.MixedPrecision(nn.Linear(3, 2), "mixed_bfloat16")
  >>> params = model.init(jax.random.key(0))
  >>> params["weight"].dtype, model.apply(params, jnp.ones((4, 3))).dtype
  (dtype('float32'), dtype('float32'))
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import jax
import jax.numpy as jnp

from .module import Module, Params, State

_NAMED = {
    "float32": ("float32", "float32", "float32"),
    "mixed_bfloat16": ("float32", "bfloat16", "float32"),
    "mixed_float16": ("float32", "float16", "float32"),
    "bfloat16": ("bfloat16", "bfloat16", "bfloat16"),
}


def _cast_floating(tree: Any, dtype: Any) -> Any:
    def cast(x: Any) -> Any:
        if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating):
            return x.astype(dtype)
        return x

    return jax.tree.map(cast, tree)


@dataclasses.dataclass(frozen=True)
class Policy:
    """Dtypes for parameters, computation and outputs.

    Examples:
      >>> Policy.from_name("mixed_bfloat16").compute_dtype
      dtype(bfloat16)
    """

    param_dtype: Any = jnp.float32
    compute_dtype: Any = jnp.float32
    output_dtype: Any = jnp.float32

    def __post_init__(self) -> None:
        for field in ("param_dtype", "compute_dtype", "output_dtype"):
            dtype = jnp.dtype(getattr(self, field))
            if not jnp.issubdtype(dtype, jnp.floating):
                raise ValueError(f"Policy: `{field}` must be a floating dtype, got {dtype}")
            object.__setattr__(self, field, dtype)

    @classmethod
    def from_name(cls, name: str) -> Policy:
        """One of ``'float32'``, ``'mixed_bfloat16'``, ``'mixed_float16'``, ``'bfloat16'``."""
        if name not in _NAMED:
            raise ValueError(f"Policy: unknown policy {name!r}; expected one of {sorted(_NAMED)}")
        return cls(*_NAMED[name])

    def cast_to_compute(self, tree: Any) -> Any:
        """Floating leaves of ``tree`` in ``compute_dtype``; other leaves unchanged."""
        return _cast_floating(tree, self.compute_dtype)

    def cast_to_param(self, tree: Any) -> Any:
        """Floating leaves in ``param_dtype``."""
        return _cast_floating(tree, self.param_dtype)

    def cast_to_output(self, tree: Any) -> Any:
        """Floating leaves in ``output_dtype``."""
        return _cast_floating(tree, self.output_dtype)


class MixedPrecision(Module):
    """Runs ``module`` under a `Policy`; same params, state and keys as ``module``.

    Args:
      module: any funcnn module.
      policy: a `Policy` or a policy name such as ``'mixed_bfloat16'``.

    Shapes: those of ``module``; floating outputs in ``policy.output_dtype``.
    """

    def __init__(self, module: Module, policy: Policy | str = "mixed_bfloat16") -> None:
        if not isinstance(module, Module):
            raise TypeError(f"MixedPrecision: expected a funcnn.nn.Module to wrap, got {type(module).__name__}")
        self.module = module
        self.policy = Policy.from_name(policy) if isinstance(policy, str) else policy

    def __repr__(self) -> str:
        p = self.policy
        body = repr(self.module).replace("\n", "\n  ")
        return f"MixedPrecision(\n  {body},\n  params={p.param_dtype}, compute={p.compute_dtype}, output={p.output_dtype}\n)"

    def children(self) -> Mapping[str, Module]:
        return self.module.children()

    @property
    def has_state(self) -> bool:
        return self.module.has_state

    def init(self, key: jax.Array) -> Params:
        return self.policy.cast_to_param(self.module.init(key))

    def init_state(self) -> State:
        return self.module.init_state()

    def forward(
        self, params: Params, *inputs: Any, key: jax.Array | None = None, train: bool = False, **kwargs: Any
    ) -> Any:
        return self.apply_with_state(params, {}, *inputs, key=key, train=train, **kwargs)[0]

    def apply_with_state(
        self,
        params: Params,
        state: State,
        *inputs: Any,
        key: jax.Array | None = None,
        train: bool = False,
        **kwargs: Any,
    ) -> tuple[Any, State]:
        p = self.policy
        # The wrapped module runs as a child (no second params check), in its own scope.
        out, new_state = self.module._run(
            p.cast_to_compute(params),
            state,
            p.cast_to_compute(inputs),
            p.cast_to_compute(kwargs),
            key,
            train,
            type(self.module).__name__,
        )
        # Buffers keep their own dtype whatever the compute dtype was.
        new_state = jax.tree.map(lambda new, old: new.astype(old.dtype), new_state, state) if state else new_state
        return p.cast_to_output(out), new_state
