#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run it.
#   - system packages: Debian's chromium (browser tests), a Java runtime (Nu HTML Checker),
#     the sqlite3 shell (the form endpoint's durability test runs it beside the endpoint),
#     PostgreSQL's server (the form tests start a private cluster of their own: tests/forms/pg_support.py)
#     nginx (the tests run their own nginx on 127.0.0.1 with the documented redirect map)
#   - npm packages in .cache/npm: axe-core, vnu-jar (the Nu HTML Checker), sitemap (its XSD)
#   - a virtual environment in .venv with storefront and its test/dev extras
# Then ruff, mypy and the whole pytest suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || need_apt+=(postgresql)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing system packages: ${need_apt[*]}; install them with: sudo apt-get install -y ${need_apt[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -f .cache/npm/node_modules/vnu-jar/build/dist/vnu.jar ] \
   || [ ! -f .cache/npm/node_modules/axe-core/axe.min.js ] \
   || [ ! -f .cache/npm/node_modules/sitemap/schema/sitemap.xsd ]; then
    mkdir -p .cache/npm
    npm install --silent --no-audit --no-fund --prefix .cache/npm \
        axe-core@4.14.1 vnu-jar@26.9.27 sitemap@9.0.1 >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'

.venv/bin/ruff check src tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
