#!/usr/bin/env bash
# Every global symbol libtundra defines is td_-prefixed (STYLE.md): an
# unprefixed one (tcp_output, say) silently interposes another library's
# function of the same name in any program that links both.
set -euo pipefail
lib=${1:?usage: check-symbols.sh LIBRARY}
bad=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[TDBRCV]/ {print $3}' | grep -v '^td_' | sort -u || true)
if [ -n "$bad" ]; then
  echo "libtundra exports symbols outside the td_ namespace:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  exit 1
fi
