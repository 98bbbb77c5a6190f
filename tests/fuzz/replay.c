/* replay.c - runs a fuzz target's LLVMFuzzerTestOneInput on every file of
 * its seed corpus (or of the files and directories given as arguments),
 * so that `make check` replays the corpus without clang or libFuzzer.
 * A crash or abort fails the test; so does an empty corpus. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) {
      unsigned char *nb = realloc(buf, cap *= 2);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
      }
      buf = nb;
    }
  }
  fclose(f);
  if (buf == NULL) return -1;
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 1;
}

static int replay(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "no such corpus: %s\n", path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return replay_file(path);
  DIR *d = opendir(path);
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    int k = replay(p);
    if (k < 0) {
      n = -1;
      break;
    }
    n += k;
  }
  closedir(d);
  return n;
}

int main(int argc, char **argv) {
#ifdef NSLMT_CORPUS
  static char *dflt[] = {NULL, NSLMT_CORPUS, NULL};
  if (argc < 2) {
    dflt[0] = argv[0];
    argv = dflt;
    argc = 2;
  }
#endif
  int total = 0;
  for (int i = 1; i < argc; i++) {
    int n = replay(argv[i]);
    if (n < 0) return 1;
    printf("replayed %d inputs from %s\n", n, argv[i]);
    total += n;
  }
  return total > 0 ? 0 : 1;
}
