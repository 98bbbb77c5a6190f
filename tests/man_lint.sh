#!/bin/sh
# Every man page formats without warnings (groff -man -ww -z, empty stderr),
# and every public function of nslm.h has a page (or a .so alias).
status=0; pages=0
# Alias pages say ".so man3/page.3": give groff a directory where man3/ is man/.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ln -s "$top_srcdir/man" "$tmp/man3"; ln -s "$top_srcdir/man" "$tmp/man1"; ln -s "$top_srcdir/man" "$tmp/man7"
cd "$top_srcdir/man" || exit 1
for f in *.[137]; do
  [ -f "$f" ] || continue
  pages=$((pages + 1))
  out=$(cd "$tmp" && ${GROFF:-groff} -man -ww -z "man3/$f" 2>&1)
  if [ -n "$out" ]; then echo "$f:"; echo "$out"; status=1; fi
done
missing=0
for fn in $(grep -o 'nslm_[a-z0-9_]*[[:space:]]*(' "$top_srcdir/include/nslm.h" | tr -d '( \t' | sort -u); do
  case "$fn" in nslm_*_fn) continue;; esac
  [ -f "$fn.3" ] || { echo "no man page: $fn.3"; missing=$((missing + 1)); status=1; }
done
echo "man pages linted: $pages, functions without a page: $missing"
[ $status -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
