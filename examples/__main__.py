"""Entry point of ``python -m examples``; see `examples._runner`."""

from ._runner import main

if __name__ == "__main__":
    raise SystemExit(main())
