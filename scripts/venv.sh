# Sourced by scripts/*: make .venv with the project and its test tools installed (idempotent).
VENV="${RDAPD_VENV:-$ROOT/.venv}"
STAMP="$VENV/.rdapd-installed"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install --quiet -e ".[test,dev]"
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
