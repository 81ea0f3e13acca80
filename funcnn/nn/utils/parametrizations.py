"""`weight_norm` and `spectral_norm`, as ``torch.nn.utils.parametrizations``, with PyTorch's ``state_dict`` keys.

Each function wraps a module and returns a new `funcnn.nn.Module` whose parameter
``name`` (a top-level key of the wrapped module's params, e.g. ``"weight"`` or an
LSTM's ``"weight_hh_l0"``) is computed from other parameters on every ``apply``:

* ``weight_norm(module, name, dim)``: ``w = g * v / ||v||`` with the norm over every
  dimension but ``dim`` (over all of them for ``dim=None``); params
  ``parametrizations.<name>.original0`` (``g``) and ``.original1`` (``v``).
* ``spectral_norm(module, name, n_power_iterations, eps, dim)``: ``w = W / sigma(W)``
  with ``sigma`` estimated by power iteration; params
  ``parametrizations.<name>.original`` (``W``) and buffers
  ``parametrizations.<name>.0._u`` / ``._v`` in ``state``. As in PyTorch, the power
  iteration runs (and updates ``_u``, ``_v``) only with ``train=True``; ``u`` and
  ``v`` are constants for the gradient.

The other parameters keep their keys, so PyTorch's ``state_dict()`` of the same
parametrized module loads strictly, and the other way round.

One difference: PyTorch draws ``_u``/``_v`` at random when the parametrization is
registered and runs 15 power iterations on the weight there. ``init_state()`` has no
weight to iterate on, so it returns random unit vectors (from a fixed key); each
training step then runs ``n_power_iterations`` more. Loading PyTorch's buffers gives
PyTorch's numbers exactly.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn
  >>> from funcnn import nn
  >>> from funcnn.nn.utils.parametrizations import weight_norm
  >>> layer = weight_norm(nn.Linear(3, 4))
  >>> params = layer.init(jax.random.key(0))
  >>> list(funcnn.state_dict(params))
  ['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
  >>> layer.apply(params, jnp.ones((2, 3))).shape
  (2, 4)
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping

import jax
import jax.numpy as jnp

from ..module import Module, Params, State
from .convert_parameters import init_shapes

__all__ = ["SpectralNorm", "WeightNorm", "spectral_norm", "weight_norm"]

_KEY = "parametrizations"


def _split(owner: str, params: Mapping[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(this parametrization's entry, the rest)`` of a wrapper's params or state."""
    rest = dict(params)
    groups = dict(rest.pop(_KEY, {}))
    mine = groups.pop(name, {})
    if groups:
        rest[_KEY] = groups
    return mine, rest


def _join(rest: Mapping[str, Any], name: str, mine: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(rest)
    out[_KEY] = {**out.get(_KEY, {}), name: dict(mine)}
    return out


class _Parametrized(Module):
    """A module whose parameter ``name`` is computed from ``params['parametrizations'][name]``."""

    def __init__(self, owner: str, module: Module, name: str) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{owner}: `module` must be a funcnn.nn.Module, got {type(module).__name__}")
        shapes = init_shapes(module)
        leaf = shapes.get(name) if "." not in name else None
        if leaf is None:
            found = [k for k in shapes if "." not in k]
            raise ValueError(
                f"{owner}: {type(module).__name__} has no parameter {name!r}; its own parameters are {found} "
                f"(wrap the child that owns the parameter)"
            )
        self.module, self.name = module, name
        self.shape, self.dtype = tuple(leaf.shape), leaf.dtype

    def children(self) -> Mapping[str, Module]:
        return self.module.children()

    def init_state(self) -> State:
        return self.module.init_state()

    @property
    def has_state(self) -> bool:
        return self.module.has_state

    def _weight(
        self, mine: Mapping[str, Any], state: Mapping[str, Any], train: bool
    ) -> tuple[jax.Array, dict[str, Any]]:
        raise NotImplementedError

    def apply_with_state(
        self,
        params: Params,
        state: State,
        *inputs: Any,
        key: jax.Array | None = None,
        train: bool = False,
        **kwargs: Any,
    ) -> tuple[Any, State]:
        mine, rest = _split(type(self).__name__, params, self.name)
        my_state, rest_state = _split(type(self).__name__, state, self.name)
        weight, my_state = self._weight(mine, my_state, train)
        inner = {**rest, self.name: weight}
        y, new_state = self.module.apply_with_state(inner, rest_state, *inputs, key=key, train=train, **kwargs)
        return y, (_join(new_state, self.name, my_state) if my_state else new_state)

    def forward(
        self, params: Params, *inputs: Any, key: jax.Array | None = None, train: bool = False, **kwargs: Any
    ) -> Any:
        return self.apply_with_state(params, {}, *inputs, key=key, train=train, **kwargs)[0]

    def __repr__(self) -> str:
        inner = repr(self.module).replace("\n", "\n  ")
        return f"{type(self).__name__}(\n  {inner}\n  name={self.name!r}, {self.extra_repr()}\n)"


# ------------------------------------------------------------------ weight norm
def _norm_except_dim(v: jax.Array, dim: int) -> jax.Array:
    """PyTorch's ``norm_except_dim(v, 2, dim)``: the whole norm for ``dim == -1``, else
    the norm over every other axis, kept as size-1 axes."""
    if dim == -1:
        return jnp.sqrt(jnp.sum(v * v))
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return jnp.sqrt(jnp.sum(v * v, axis=axes, keepdims=True))


class WeightNorm(_Parametrized):
    """``module`` with ``name`` reparametrized as ``g * v / ||v||`` (made by `weight_norm`).

    Params: the module's, less ``name``, plus ``parametrizations.<name>.original0``
    (``g``: the weight's shape with size 1 on every axis but ``dim``; a scalar for
    ``dim=None``) and ``.original1`` (``v``: the weight's shape).

    Examples:
      >>> import jax
      >>> from funcnn import nn
      >>> from funcnn.nn.utils.parametrizations import weight_norm
      >>> p = weight_norm(nn.Conv1d(2, 3, 2), dim=None).init(jax.random.key(0))
      >>> p["parametrizations"]["weight"]["original0"].shape
      ()
    """

    def __init__(self, module: Module, name: str = "weight", dim: int | None = 0) -> None:
        super().__init__("weight_norm", module, name)
        ndim = len(self.shape)
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or not -ndim <= dim < ndim):
            raise ValueError(
                f"weight_norm: `dim` must be None or an axis of {name!r} (shape {self.shape}), i.e. in "
                f"[{-ndim}, {ndim - 1}], got {dim!r}"
            )
        self.dim = dim
        # PyTorch's quirk, kept: None and -1 both mean the norm over the whole tensor.
        self._axis = -1 if dim is None or dim == -1 else dim % ndim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def init(self, key: jax.Array) -> Params:
        params = dict(self.module.init(key))
        v = params.pop(self.name)
        return _join(params, self.name, {"original0": _norm_except_dim(v, self._axis).astype(v.dtype), "original1": v})

    def _weight(
        self, mine: Mapping[str, Any], state: Mapping[str, Any], train: bool
    ) -> tuple[jax.Array, dict[str, Any]]:
        g, v = mine["original0"], mine["original1"]
        return v * (g / _norm_except_dim(v, self._axis)), {}


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> WeightNorm:
    """Weight normalization of one parameter, as ``torch.nn.utils.parametrizations.weight_norm``.

    Args:
      module: the module that owns the parameter.
      name: the parameter, a top-level key of ``module``'s params.
      dim: the axis that keeps its own norm (0: per output channel); None: one
        norm over the whole tensor.

    Returns:
      A `WeightNorm` module, initialised (like PyTorch) so that ``g * v / ||v||``
      equals ``module``'s initial weight.

    Raises:
      TypeError: ``module`` is not a Module.
      ValueError: ``module`` has no parameter ``name`` or ``dim`` is out of range.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> from funcnn.nn.utils.parametrizations import weight_norm
      >>> layer = weight_norm(nn.Linear(3, 4))
      >>> layer.init(jax.random.key(0))["parametrizations"]["weight"]["original0"].shape
      (4, 1)
    """
    return WeightNorm(module, name, dim)


# ---------------------------------------------------------------- spectral norm
def _normalize(x: jax.Array, eps: float) -> jax.Array:
    """``F.normalize(x, dim=0, eps=eps)``; at ``x = 0`` the norm's gradient is 0, as PyTorch's."""
    sq = jnp.sum(x * x)
    norm = jnp.where(sq > 0, jnp.sqrt(jnp.where(sq > 0, sq, 1)), 0)
    return x / jnp.maximum(norm, eps)


class SpectralNorm(_Parametrized):
    """``module`` with ``name`` divided by its largest singular value (made by `spectral_norm`).

    Params: the module's, less ``name``, plus ``parametrizations.<name>.original``.
    State: the module's, plus ``parametrizations.<name>.0._u`` (``(weight.shape[dim],)``)
    and ``._v`` (the product of the other axes) for weights of 2 or more dimensions.

    Examples:
      >>> import jax
      >>> from funcnn import nn
      >>> from funcnn.nn.utils.parametrizations import spectral_norm
      >>> state = spectral_norm(nn.Conv2d(3, 4, 2)).init_state()
      >>> {k: v.shape for k, v in state["parametrizations"]["weight"]["0"].items()}
      {'_u': (4,), '_v': (12,)}
    """

    def __init__(
        self,
        module: Module,
        name: str = "weight",
        n_power_iterations: int = 1,
        eps: float = 1e-12,
        dim: int | None = None,
    ) -> None:
        super().__init__("spectral_norm", module, name)
        if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) or n_power_iterations <= 0:
            raise ValueError(
                f"spectral_norm: `n_power_iterations` must be a positive integer, got {n_power_iterations!r}"
            )
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or eps <= 0:
            raise ValueError(f"spectral_norm: `eps` must be a positive number, got {eps!r}")
        ndim = len(self.shape)
        if dim is None:  # PyTorch's default: the output axis, 1 for transposed convolutions
            dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
        if isinstance(dim, bool) or not isinstance(dim, int) or not -ndim <= dim < max(ndim, 1):
            raise ValueError(
                f"spectral_norm: `dim` must be an axis of {name!r} (shape {self.shape}), i.e. in "
                f"[{-ndim}, {ndim - 1}], got {dim!r}"
            )
        self.n_power_iterations, self.eps, self.dim = n_power_iterations, float(eps), dim % max(ndim, 1)

    def extra_repr(self) -> str:
        return f"n_power_iterations={self.n_power_iterations}, eps={self.eps}, dim={self.dim}"

    def _matrix(self, w: jax.Array) -> jax.Array:
        return jnp.moveaxis(w, self.dim, 0).reshape(w.shape[self.dim], -1)

    def init(self, key: jax.Array) -> Params:
        params = dict(self.module.init(key))
        return _join(params, self.name, {"original": params.pop(self.name)})

    def init_state(self) -> State:
        state = self.module.init_state()
        if len(self.shape) < 2:
            return state
        h = self.shape[self.dim]
        w = 1
        for i, s in enumerate(self.shape):
            w *= s if i != self.dim else 1
        ku, kv = jax.random.split(jax.random.key(0))
        u = _normalize(jax.random.normal(ku, (h,), self.dtype), self.eps)
        v = _normalize(jax.random.normal(kv, (w,), self.dtype), self.eps)
        return _join(state, self.name, {"0": {"_u": u, "_v": v}})

    @property
    def has_state(self) -> bool:
        return len(self.shape) >= 2 or self.module.has_state

    def _weight(
        self, mine: Mapping[str, Any], state: Mapping[str, Any], train: bool
    ) -> tuple[jax.Array, dict[str, Any]]:
        w = mine["original"]
        if w.ndim < 2:
            return _normalize(w, self.eps), {}
        mat = self._matrix(w)
        u, v = state["0"]["_u"], state["0"]["_v"]
        if train:
            const = jax.lax.stop_gradient(mat)
            for _ in range(self.n_power_iterations):
                u = _normalize(const @ v, self.eps)
                v = _normalize(const.T @ u, self.eps)
            u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
        sigma = jnp.vdot(u, mat @ v)
        return w / sigma, {"0": {"_u": u, "_v": v}}


def spectral_norm(
    module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim: int | None = None
) -> SpectralNorm:
    """Spectral normalization of one parameter, as ``torch.nn.utils.parametrizations.spectral_norm``.

    Args:
      module: the module that owns the parameter.
      name: the parameter, a top-level key of ``module``'s params.
      n_power_iterations: power-iteration steps per training forward pass.
      eps: the floor of the norms in the power iteration.
      dim: the output axis of the weight (None: 1 for ``ConvTranspose*``, else 0).

    Returns:
      A `SpectralNorm` module; use ``apply_with_state`` (the ``_u``/``_v`` buffers).

    Raises:
      TypeError: ``module`` is not a Module.
      ValueError: no parameter ``name``, or a bad ``n_power_iterations``, ``eps`` or ``dim``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> from funcnn.nn.utils.parametrizations import spectral_norm
      >>> layer = spectral_norm(nn.Linear(3, 4))
      >>> params, state = layer.init(jax.random.key(0)), layer.init_state()
      >>> y, state = layer.apply_with_state(params, state, jnp.ones((2, 3)), train=True)
      >>> y.shape, state["parametrizations"]["weight"]["0"]["_u"].shape
      ((2, 4), (4,))
    """
    return SpectralNorm(module, name, n_power_iterations, eps, dim)
