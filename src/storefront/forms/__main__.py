"""``python -m storefront.forms [--root DIR] serve|list|export|forget|send``.

The same commands as ``storefront forms ...``, usable without the rest of the CLI (the tests and
the benchmark start the server this way).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from storefront.errors import BuildFailed, StorefrontError
from storefront.forms.commands import add_forms_commands


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storefront.forms")
    parser.add_argument("--root", type=Path, default=Path("."), help="the site folder")
    add_forms_commands(parser.add_subparsers(dest="forms_command", metavar="COMMAND",
                                             required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BuildFailed as exc:
        for error in exc.errors:
            print(error.format(), file=sys.stderr)
        return 1
    except StorefrontError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
