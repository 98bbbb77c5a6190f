#!/bin/sh
# Only nslm_* symbols may be exported by the shared library.
lib="$top_builddir/lib/.libs/libnslm.so"
[ -f "$lib" ] || { echo "missing $lib"; exit 1; }
all=$(${NM:-nm} -D --defined-only "$lib" | awk '{print $3}' | grep -v '^$')
bad=$(printf '%s\n' "$all" | grep -v '^nslm_' || true)
count=$(printf '%s\n' "$all" | grep -c '^nslm_')
if [ -n "$bad" ]; then
  echo "symbols exported without the nslm_ prefix:"; printf '%s\n' "$bad"; exit 1
fi
# Every function declared in the header is exported.
missing=""
for f in $(grep -o 'nslm_[a-z0-9_]*[[:space:]]*(' "$top_srcdir/include/nslm.h" | tr -d '( \t' | sort -u); do
  case "$f" in nslm_*_fn) continue;; esac
  printf '%s\n' "$all" | grep -qx "$f" || missing="$missing $f"
done
if [ -n "$missing" ]; then echo "declared but not exported:$missing"; exit 1; fi
echo "exported nslm_ symbols: $count, others: 0"
echo "1 passed, 0 failed"
