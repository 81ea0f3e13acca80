"""`fit`'s progress display: a tqdm bar per epoch, or one printed line per epoch."""

from __future__ import annotations

import time
from typing import Any, Mapping

import jax

_REFRESH_S = 0.5  # progress-bar refresh period (each refresh reads the running loss)


class _Progress:
    """A tqdm bar per epoch (tqdm imported lazily), else one printed line per epoch, or nothing."""

    def __init__(self, enabled: bool, epochs: int) -> None:
        self.enabled, self.epochs, self.bar, self.tqdm = enabled, epochs, None, None
        if enabled:
            try:
                from tqdm.auto import tqdm  # a widget in notebooks, text in a terminal
            except ImportError:
                tqdm = None
            self.tqdm = tqdm

    def start(self, epoch: int, total: int | None, initial: int) -> None:
        self.last = time.monotonic()
        if self.tqdm is not None:
            desc = f"Epoch {epoch + 1}/{self.epochs}"
            self.bar = self.tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True)

    def advance(self, k: int, acc: dict[str, Any]) -> bool:
        """Count ``k`` steps; every ~0.5 s show the running loss. True when a bad step was seen."""
        if self.bar is None:
            return False
        self.bar.update(k)
        now = time.monotonic()
        if now - self.last < _REFRESH_S:
            return False
        self.last = now
        host = jax.device_get({"loss": acc["sums"]["loss"], "count": acc["count"], "bad": acc["bad"]})
        if host["count"]:
            self.bar.set_postfix(loss=f"{host['loss'] / host['count']:.4g}", refresh=False)
        return bool(host["bad"])

    def end(self, logs: Mapping[str, Any]) -> None:
        shown = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in logs.items() if k not in ("epoch", "step")}
        if self.bar is not None:
            self.bar.set_postfix(shown)
            self.bar.close()
            self.bar = None
        elif self.enabled:
            line = " - ".join(f"{k} {v}" for k, v in shown.items())
            print(f"Epoch {logs['epoch']}/{self.epochs}: {line}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
