#!/bin/sh
# nslm.h compiles alone as C99 -pedantic and as C++.
set -e
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '#include <nslm.h>\nint main(void) { return nslm_version_number() == NSLM_VERSION_NUMBER ? 0 : 1; }\n' > "$tmp/t.c"
inc="-I$top_srcdir/include -I$top_builddir/include"
${CC:-cc} -std=c99 -pedantic -Wall -Wextra -Werror $inc -c "$tmp/t.c" -o "$tmp/t.o"
cp "$tmp/t.c" "$tmp/t.cpp"
${CXX:-c++} -std=c++11 -pedantic -Wall -Wextra -Werror $inc -c "$tmp/t.cpp" -o "$tmp/tpp.o"
echo "header compiles as C99 -pedantic and as C++11"
echo "2 passed, 0 failed"
