/* testutil.c - helpers shared by the Check suites. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "testutil.h"

void nslmt_seed(nslmt_rng *r, uint64_t seed) { r->s = seed * 2654435761u + 12345u; }

static uint64_t next(nslmt_rng *r) {
  /* splitmix64 */
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double nslmt_uniform(nslmt_rng *r) { return (double)(next(r) >> 11) / 9007199254740992.0; }

double nslmt_normal(nslmt_rng *r) {
  double u = nslmt_uniform(r), v = nslmt_uniform(r);
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

size_t nslmt_range(nslmt_rng *r, size_t lo, size_t hi) {
  return lo + (size_t)(next(r) % (uint64_t)(hi - lo + 1));
}

void nslmt_fill(nslmt_rng *r, double *a, size_t len, double scale) {
  for (size_t i = 0; i < len; i++) a[i] = scale * nslmt_normal(r);
}

double nslmt_relerr(const double *a, const double *b, size_t len) {
  double mx = 1.0, d = 0.0;
  for (size_t i = 0; i < len; i++) {
    if (fabs(b[i]) > mx) mx = fabs(b[i]);
    double e = fabs(a[i] - b[i]);
    if (!(e <= d)) d = e; /* NaN propagates as the error */
  }
  return d / mx;
}

static int saved_out = -1, saved_err = -1;
static char quiet_path[256];

void nslmt_quiet_begin(void) {
  fflush(stdout);
  fflush(stderr);
  snprintf(quiet_path, sizeof quiet_path, "%s/quiet-%ld.txt", nslmt_tmpdir(), (long)getpid());
  int fd = open(quiet_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  saved_out = dup(1);
  saved_err = dup(2);
  dup2(fd, 1);
  dup2(fd, 2);
  close(fd);
}

long nslmt_quiet_end(void) {
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  struct stat st;
  long n = stat(quiet_path, &st) == 0 ? (long)st.st_size : -1;
  unlink(quiet_path);
  return n;
}

const char *nslmt_tmpdir(void) {
  static char dir[256];
  if (dir[0] == '\0') {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nslm-test-XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL) snprintf(dir, sizeof dir, "/tmp");
  }
  return dir;
}
