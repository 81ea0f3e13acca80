"""The names of ``torch.nn`` that funcnn does not provide on purpose, each with its reason.

``tests/test_torch_coverage.py`` checks that every non-lazy name of
``torch.nn.modules.__all__`` exists in `funcnn.nn` and every public op of
``torch.nn.functional`` exists in `funcnn.nn.functional`, or is listed here. An entry
says why funcnn has no such name, never "not yet": a name that is merely missing is
reported by that test. Names that are not ops (in-place ``_`` variants, which a pure
library cannot have, and ``torch.nn.functional``'s ``__torch_function__`` dispatch
helpers and typing imports) are filtered by the test itself.
"""

from __future__ import annotations

_LOW_PRECISION = (
    "a scaled low-precision (FP8/MX) CUDA matmul kernel that takes per-tensor or blockwise scales; "
    "quantized kernels are outside funcnn, which computes in float32/bfloat16 through XLA"
)

NOT_PROVIDED: dict[str, str] = {
    "torch.nn.Container": "deprecated alias of torch.nn.Module (it warns on construction); subclass funcnn.nn.Module",
    "torch.nn.functional.scaled_grouped_mm": _LOW_PRECISION,
    "torch.nn.functional.scaled_mm": _LOW_PRECISION,
}
