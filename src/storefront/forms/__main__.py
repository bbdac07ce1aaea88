"""``python -m storefront.forms [--root DIR] serve|list|export|forget|send``.

The same commands as ``storefront [--root DIR] forms ...`` (the tests and the benchmark start the
server this way); the storefront CLI does the parsing, printing and exit codes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from storefront.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    root: list[str] = []
    if args[:1] == ["--root"] and len(args) >= 2:
        root, args = args[:2], args[2:]
    elif args and args[0].startswith("--root="):
        root, args = args[:1], args[1:]
    return cli_main([*root, "forms", *args])


if __name__ == "__main__":
    raise SystemExit(main())
