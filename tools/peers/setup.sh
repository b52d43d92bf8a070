#!/usr/bin/env bash
# Create throwaway virtualenvs for the peer tools that tools/peers/compare.py runs.
# None of them is a dependency of xpusim: everything goes under $PEERS_ROOT (default
# /tmp/xpusim-peers), never into the repository.
#
#   bash tools/peers/setup.sh                 # all peers
#   bash tools/peers/setup.sh scalesim genz   # some of them
#
# A peer whose install fails is reported and skipped; the others still install.
# Exit status: 0 if every requested peer installed, 1 otherwise.
set -u

ROOT="${PEERS_ROOT:-/tmp/xpusim-peers}"
PY="${PYTHON:-python3}"
mkdir -p "$ROOT"

peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(scalesim zigzag genz accelforge)

failed=()

mkvenv() { # name python pip-args...
    local name=$1 py=$2; shift 2
    local dir="$ROOT/$name"
    echo "== $name: $dir ($("$py" --version 2>&1))"
    if [ ! -x "$dir/bin/python" ]; then
        "$py" -m venv "$dir" || return 1
        "$dir/bin/pip" install -q --upgrade pip || return 1
    fi
    "$dir/bin/pip" install -q "$@" || return 1
    "$dir/bin/pip" freeze > "$dir/freeze.txt"
    local names
    names=$(printf '%s\n' "$@" | sed -E "s/[<>=!'].*//; s/[-_.]/[-_.]/g" | paste -sd'|')
    echo "   ok: $(grep -iE "^($names)==" "$dir/freeze.txt" | paste -sd' ')"
}

# AccelForge needs Python >= 3.12. Use $PYTHON312, a python3.12 on PATH, or pyenv's 3.12.
find_py312() {
    local c
    for c in "${PYTHON312:-}" python3.13 python3.12; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$c"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        local v
        v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9](\.|$)' | sort -V | tail -1)
        if [ -z "$v" ]; then
            echo "   no Python >= 3.12 in pyenv; trying 'pyenv install -s 3.12' (5 min limit)" >&2
            timeout 300 pyenv install -s 3.12 >&2 || return 1
            v=$(pyenv versions --bare | grep -E '^3\.12' | sort -V | tail -1)
        fi
        [ -n "$v" ] && [ -x "$(pyenv root)/versions/$v/bin/python3" ] && { echo "$(pyenv root)/versions/$v/bin/python3"; return 0; }
    fi
    return 1
}

for p in "${peers[@]}"; do
    case "$p" in
        scalesim)   mkvenv scalesim "$PY" scalesim==3.0.0 'numpy<2' || failed+=("$p") ;;
        # zigzag-dse 3.9.0 imports `six` without declaring it.
        zigzag)     mkvenv zigzag "$PY" zigzag-dse==3.9.0 six || failed+=("$p") ;;
        genz)       mkvenv genz "$PY" genz-llm || failed+=("$p") ;;
        accelforge)
            if py312=$(find_py312); then
                rm -f "$ROOT/accelforge.skipped"
                mkvenv accelforge "$py312" accelforge || failed+=("$p")
                # AccelForge draws mappings with Graphviz; install `dot` if missing (Debian).
                if ! command -v dot >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
                    (apt-get install -y -q graphviz >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q graphviz >/dev/null; }) \
                        || echo "   graphviz not installed (only needed for drawings)"
                fi
            else
                echo "== accelforge: skipped: no Python >= 3.12 found (set PYTHON312=/path/to/python3.12)"
                echo "AccelForge needs Python >= 3.12 and none was found or installable" > "$ROOT/accelforge.skipped"
                failed+=("$p")
            fi ;;
        *) echo "unknown peer '$p' (known: scalesim zigzag genz accelforge)"; failed+=("$p") ;;
    esac
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "not installed: ${failed[*]}"
    exit 1
fi
echo "all installed under $ROOT"
