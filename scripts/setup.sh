#!/usr/bin/env bash
# Installs what geoservice needs on a Debian machine, then the project into .venv.
#   scripts/setup.sh         the demo: PostgreSQL 15 + PostGIS, Python 3.12 venv
#   scripts/setup.sh bench   the tests' needs, plus the benchmarks' (wrk, the `bench` extra)
#   scripts/setup.sh test    also the real clients the tests drive: GDAL (ogrinfo), QGIS (PyQGIS),
#                            Chromium (the portal through Playwright; never `playwright install`),
#                            and ogctests in .venv-ogctests (its pins clash with ours)
set -euo pipefail
cd "$(dirname "$0")/.."

want=(postgresql-15 postgresql-15-postgis-3)
mode="${1:-}"
if [ "$mode" = "test" ] || [ "$mode" = "bench" ]; then
  want+=(gdal-bin python3-qgis qgis-providers chromium)  # chromium: the portal's browser tests
fi
[ "$mode" = "bench" ] && want+=(wrk)

missing=()
for pkg in "${want[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.12, as .python-version selects (pyenv), else whatever python3.12 is on PATH.
python=""
if command -v pyenv >/dev/null 2>&1; then
  python="$(pyenv which python 2>/dev/null || true)"
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
  python="$(command -v python3.12 || true)"
fi
if [ -z "$python" ]; then
  echo "Python 3.12 is required (pygeoapi 0.24): install it (pyenv install 3.12) and retry" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
  rm -rf .venv
  "$python" -m venv .venv
fi
extras=test
[ "$mode" = "bench" ] && extras=test,bench
stamp=.venv/.installed-$extras-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  # ISO 19139 XSDs for the export tests ship in pycsw 2.6.2's wheel; its pinned OWSLib<0.29
  # clashes with ours, and we use only its schema files: so no dependencies.
  .venv/bin/python -m pip install -q --no-deps 'pycsw==2.6.2'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# ogctests, a third party's OGC API Features verifier (tests/test_ogctests.py), pins pytest<9,
# httpx<0.28 and pyarrow<18: it lives in a venv of its own, pinned by tests/ogctests-requirements.txt.
if [ "$mode" = "test" ] || [ "$mode" = "bench" ]; then
  ogc_stamp=.venv-ogctests/.installed-$(sha256sum tests/ogctests-requirements.txt | cut -c1-16)
  if [ ! -f "$ogc_stamp" ]; then
    rm -rf .venv-ogctests
    "$python" -m venv .venv-ogctests
    .venv-ogctests/bin/python -m pip install -q -r tests/ogctests-requirements.txt
    touch "$ogc_stamp"
  fi
fi
echo "ready: .venv/bin/geoservice"
