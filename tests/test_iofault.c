/* test_iofault.c - I/O fault injection into every save and load of the
 * public API (issue 7), with real failures of the C library's calls.
 *
 * lib/npy.c has its own injection hook (nslmi_io_fail_after, used by
 * tests/test_io.c); it makes the library's file layer believe that an
 * operation failed.  This test goes one level lower and makes the C
 * library calls themselves fail, so that what is checked is how the code
 * handles the real return values and errno.  The program is linked with
 *   -Wl,--wrap=open,--wrap=fstat,--wrap=stat,--wrap=lstat,--wrap=fdopen,
 *   --wrap=fseeko,--wrap=fread,--wrap=fwrite,--wrap=fflush,--wrap=fsync,
 *   --wrap=fclose,--wrap=rename
 * and the library statically (libnslm_core.la), so the library's calls of
 * these functions reach the wrappers below.  A wrapper passes the call on
 * unless it is armed; armed, it counts the calls and fails the k-th (once,
 * or persistently: the k-th and every later one) the way the system
 * would: open -> EACCES, fstat/stat/lstat -> EIO, fdopen -> ENOMEM,
 * fseeko -> EIO, fread -> a read error (error flag set, EIO) or, in a
 * second pass, a short read without error (the file shrank), fwrite -> a
 * short write with ENOSPC (half the bytes really written), fflush ->
 * ENOSPC, fsync -> EIO, fclose -> EIO (the stream really closed), rename
 * -> EXDEV.  The test first proves that the wrappers see the library's
 * calls (each kind must be counted at least once over the saves and
 * loads), so a build that redirects them (e.g. _FORTIFY_SOURCE's
 * __fread_chk, also wrapped) cannot make the test vacuous.
 *
 * After every injected failure of a save: the status is NSLM_ERR_IO (or
 * NSLM_ERR_NOMEM for fdopen's ENOMEM), the previous file is intact byte
 * for byte, no temporary file is left, no descriptor and no heap block
 * leaked; a failure after the rename (the best-effort fsync of the
 * directory) may instead leave a complete new file and NSLM_OK.  Of a
 * load: NSLM_ERR_IO (NSLM_ERR_FORMAT for a short read), outputs untouched
 * (*out NULL), nothing leaked; a failing fclose after the data was read
 * may give NSLM_OK with the right result.
 *
 * A second, wrapper-free injection: RLIMIT_FSIZE below the new file's
 * size makes the kernel refuse the writes (EFBIG, SIGXFSZ ignored) at
 * every prefix length; and saves onto /dev/full (a character device) and
 * through a symbolic link to it are refused without touching it.
 *
 * Prints per save/load the faults injected and "files damaged: 0". */
#define _GNU_SOURCE 1 /* O_TMPFILE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "hardutil.h"
#include "hardwrap.h"
#include "nslm.h"
#include "status.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* The wrappers */

enum { OP_OPEN, OP_FSTAT, OP_STAT, OP_LSTAT, OP_FDOPEN, OP_FSEEKO, OP_FREAD, OP_FWRITE, OP_FFLUSH,
       OP_FSYNC, OP_FCLOSE, OP_RENAME, OP_COUNT };
static const char *OP_NAMES[OP_COUNT] = {"open",   "fstat", "stat",  "lstat",  "fdopen", "fseeko",
                                         "fread",  "fwrite", "fflush", "fsync", "fclose", "rename"};

static struct {
  int armed;             /* count (and maybe fail) calls */
  long target;           /* index of the call to fail; < 0: none */
  int persistent;
  int short_read;        /* fread fails as a short read without error */
  long count;            /* calls since arming */
  long seen[OP_COUNT];   /* calls per kind since arming */
  long total[OP_COUNT];  /* calls per kind over the whole program (armed) */
  long failed[OP_COUNT]; /* injected failures per kind */
  int failed_kind;       /* kind of the first injected failure, or -1 */
  int renamed;           /* a rename succeeded while armed */
  int failed_pre_rename; /* the first injected failure came before it */
} inj;

static void arm(long target, int persistent, int short_read) {
  memset(inj.seen, 0, sizeof inj.seen);
  inj.armed = 1;
  inj.target = target;
  inj.persistent = persistent;
  inj.short_read = short_read;
  inj.count = 0;
  inj.failed_kind = -1;
  inj.renamed = 0;
}
static void disarm(void) { inj.armed = 0; }

/* Counts a call of kind op; 1 if it is to fail. */
static int hit(int op) {
  if (!inj.armed) return 0;
  long idx = inj.count++;
  inj.seen[op]++;
  inj.total[op]++;
  if (getenv("NSLMT_TRACE")) {
    inj.armed = 0; /* stderr is written with the wrapped calls too */
    fprintf(stderr, "  [%ld] %s\n", idx, OP_NAMES[op]);
    inj.armed = 1;
  }
  if (inj.target < 0) return 0;
  if (inj.persistent ? idx >= inj.target : idx == inj.target) {
    inj.failed[op]++;
    if (inj.failed_kind < 0) {
      inj.failed_kind = op;
      inj.failed_pre_rename = !inj.renamed;
    }
    return 1;
  }
  return 0;
}

int __real_open(const char *path, int flags, ...);
int __real_fstat(int fd, struct stat *st);
int __real_stat(const char *path, struct stat *st);
int __real_lstat(const char *path, struct stat *st);
FILE *__real_fdopen(int fd, const char *mode);
int __real_fseeko(FILE *f, off_t off, int whence);
size_t __real_fread(void *buf, size_t size, size_t n, FILE *f);
size_t __real___fread_chk(void *buf, size_t cap, size_t size, size_t n, FILE *f);
size_t __real_fwrite(const void *buf, size_t size, size_t n, FILE *f);
int __real_fflush(FILE *f);
int __real_fsync(int fd);
int __real_fclose(FILE *f);
int __real_rename(const char *a, const char *b);

int __wrap_open(const char *path, int flags, ...);
int __wrap_fstat(int fd, struct stat *st);
int __wrap_stat(const char *path, struct stat *st);
int __wrap_lstat(const char *path, struct stat *st);
FILE *__wrap_fdopen(int fd, const char *mode);
int __wrap_fseeko(FILE *f, off_t off, int whence);
size_t __wrap_fread(void *buf, size_t size, size_t n, FILE *f);
size_t __wrap___fread_chk(void *buf, size_t cap, size_t size, size_t n, FILE *f);
size_t __wrap_fwrite(const void *buf, size_t size, size_t n, FILE *f);
int __wrap_fflush(FILE *f);
int __wrap_fsync(int fd);
int __wrap_fclose(FILE *f);
int __wrap_rename(const char *a, const char *b);

int __wrap_open(const char *path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if (hit(OP_OPEN)) {
    errno = EACCES;
    return -1;
  }
  return __real_open(path, flags, mode);
}
int __wrap_fstat(int fd, struct stat *st) {
  if (hit(OP_FSTAT)) {
    errno = EIO;
    return -1;
  }
  return __real_fstat(fd, st);
}
int __wrap_stat(const char *path, struct stat *st) {
  if (hit(OP_STAT)) {
    errno = EIO;
    return -1;
  }
  return __real_stat(path, st);
}
int __wrap_lstat(const char *path, struct stat *st) {
  if (hit(OP_LSTAT)) {
    errno = EIO;
    return -1;
  }
  return __real_lstat(path, st);
}
FILE *__wrap_fdopen(int fd, const char *mode) {
  if (hit(OP_FDOPEN)) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_fdopen(fd, mode);
}
int __wrap_fseeko(FILE *f, off_t off, int whence) {
  if (hit(OP_FSEEKO)) {
    errno = EIO;
    return -1;
  }
  return __real_fseeko(f, off, whence);
}
static size_t failed_read(void *buf, size_t size, size_t n, FILE *f) {
  if (inj.short_read) {
    /* the file shrank under us: fewer items, no error */
    return n > 0 ? __real_fread(buf, size, n / 2, f) : 0;
  }
  f->_flags |= _IO_ERR_SEEN; /* what a failed read(2) leaves (glibc) */
  errno = EIO;
  return 0;
}
size_t __wrap_fread(void *buf, size_t size, size_t n, FILE *f) {
  if (hit(OP_FREAD)) return failed_read(buf, size, n, f);
  return __real_fread(buf, size, n, f);
}
size_t __wrap___fread_chk(void *buf, size_t cap, size_t size, size_t n, FILE *f) {
  if (hit(OP_FREAD)) return failed_read(buf, size, n, f);
  return __real___fread_chk(buf, cap, size, n, f);
}
size_t __wrap_fwrite(const void *buf, size_t size, size_t n, FILE *f) {
  if (hit(OP_FWRITE)) {
    size_t put = n > 1 ? __real_fwrite(buf, size, n / 2, f) : 0; /* a short write */
    errno = ENOSPC;
    return put;
  }
  return __real_fwrite(buf, size, n, f);
}
int __wrap_fflush(FILE *f) {
  if (hit(OP_FFLUSH)) {
    errno = ENOSPC;
    return EOF;
  }
  return __real_fflush(f);
}
int __wrap_fsync(int fd) {
  if (hit(OP_FSYNC)) {
    errno = EIO;
    return -1;
  }
  return __real_fsync(fd);
}
int __wrap_fclose(FILE *f) {
  if (hit(OP_FCLOSE)) {
    __real_fclose(f); /* the stream is gone either way (C11 7.21.5.1) */
    errno = EIO;
    return EOF;
  }
  return __real_fclose(f);
}
int __wrap_rename(const char *a, const char *b) {
  if (hit(OP_RENAME)) {
    errno = EXDEV;
    return -1;
  }
  int r = __real_rename(a, b);
  if (r == 0 && inj.armed) inj.renamed = 1;
  return r;
}

/* ------------------------------------------------------------------ */
/* Files and the objects saved */

enum { F_NPY, F_NPZ, F_PATH, F_PCSV, F_PSVG, F_GCSV, F_GSVG, F_NSAVE };
static const char *SAVE_NAMES[F_NSAVE] = {"nslm_npy_write",         "nslm_params_save",
                                          "nslm_path_save",         "nslm_profile_write_csv",
                                          "nslm_profile_write_svg", "nslm_plane_write_csv",
                                          "nslm_plane_write_svg"};
static const char *FILE_NAMES[F_NSAVE] = {"m.npy", "t.npz", "p.npz", "prof.csv", "prof.svg", "plane.csv",
                                          "plane.svg"};

static struct {
  nslmh_inst in;
  nslm_path *path;
  double big[60 * 50]; /* 24000 bytes of .npy data: more than stdio's buffer */
  double t[9], risk[9], r[9], grid[12], gr[12];
  char dir[512], file[F_NSAVE][600];
  char ld[3][600]; /* valid files for the loads: .npy, params, path */
} W;

static void world_make(void) {
  static const int acts[2] = {NSLM_ACT_TANH, NSLM_ACT_RELU};
  nslmh_blis_warmup();
  memset(&W, 0, sizeof W);
  nslmh_inst_make(&W.in, 11, 2, 40, 30, 3, 5, acts, 2, NSLM_LOSS_SQUARED);
  ck_assert_int_eq(nslm_path_create(&W.path, W.in.net, W.in.theta), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(W.path, W.in.gamma, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(W.path, W.in.theta, NSLM_SEG_CONVEX), NSLM_OK);
  for (int i = 0; i < 60 * 50; i++) W.big[i] = sin(0.37 * i) * exp(0.001 * i);
  for (int i = 0; i < 9; i++) {
    W.t[i] = i / 8.0;
    W.risk[i] = 1.0 + cos(i);
    W.r[i] = 0.5 + 0.01 * i;
  }
  for (int i = 0; i < 12; i++) W.grid[i] = 0.1 * i * i, W.gr[i] = 1.0 / (1 + i);
  snprintf(W.dir, sizeof W.dir, "%s/iofault-%ld", nslmt_tmpdir(), (long)getpid());
  ck_assert_int_eq(mkdir(W.dir, 0700), 0);
  for (int f = 0; f < F_NSAVE; f++) {
    snprintf(W.file[f], sizeof W.file[f], "%s/%s", W.dir, FILE_NAMES[f]);
    FILE *fp = fopen(W.file[f], "wb");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "the previous content of %s, which a failed save must keep\n", FILE_NAMES[f]);
    fclose(fp);
  }
  const char *ln[3] = {"load.npy", "load-params.npz", "load-path.npz"};
  for (int i = 0; i < 3; i++) snprintf(W.ld[i], sizeof W.ld[i], "%s/%s", W.dir, ln[i]);
  ck_assert_int_eq(nslm_npy_write(W.ld[0], 60, 50, W.big, 50, 1), NSLM_OK);
  ck_assert_int_eq(nslm_params_save(W.in.theta, W.ld[1]), NSLM_OK);
  ck_assert_int_eq(nslm_path_save(W.path, W.ld[2]), NSLM_OK);
}

static void rm_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[1200];
  while (d && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);
}

static void world_free(void) {
  rm_dir(W.dir);
  nslm_path_destroy(W.path);
  nslmh_inst_free(&W.in);
}

static int do_save(int which, const char *file) {
  switch (which) {
  case F_NPY: return nslm_npy_write(file, 60, 50, W.big, 50, 1);
  case F_NPZ: return nslm_params_save(W.in.theta, file);
  case F_PATH: return nslm_path_save(W.path, file);
  case F_PCSV: return nslm_profile_write_csv(file, W.path, 9, W.t, W.risk, W.r);
  case F_PSVG: return nslm_profile_write_svg(file, W.path, 9, W.t, W.risk, W.r, "io faults");
  case F_GCSV: return nslm_plane_write_csv(file, 4, -1, 1, 3, 0, 2, W.grid, 3, 1, W.gr, 3, 1);
  case F_GSVG: return nslm_plane_write_svg(file, 4, -1, 1, 3, 0, 2, W.grid, 3, 1, 1, (double[]){0, 1}, NULL);
  }
  return -999;
}

static unsigned char *read_all(const char *path, size_t *len) {
  int fd = __real_open(path, O_RDONLY);
  *len = 0;
  if (fd < 0) return NULL;
  struct stat st;
  ck_assert_int_eq(__real_fstat(fd, &st), 0);
  unsigned char *b = malloc((size_t)st.st_size + 1);
  ck_assert_ptr_nonnull(b);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
    ck_assert(r > 0);
    got += (size_t)r;
  }
  close(fd);
  *len = got;
  return b;
}

static int same_bytes(const char *path, const unsigned char *b, size_t len) {
  size_t l2;
  unsigned char *c = read_all(path, &l2);
  int same = c != NULL && l2 == len && memcmp(b, c, len) == 0;
  free(c);
  return same;
}

static size_t dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (d) closedir(d);
  return n;
}

static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  if (d) closedir(d);
  return n;
}

/* ------------------------------------------------------------------ */
/* Saves */

static long damaged, temp_left;

/* Every call of the save failed once and persistently; returns the
 * number of faults injected. */
static long save_faults(int which) {
  const char *file = W.file[which];
  /* the new content, from a clean save into a scratch name */
  char fresh[700];
  snprintf(fresh, sizeof fresh, "%s/fresh-%d", W.dir, which);
  ck_assert_int_eq(do_save(which, fresh), NSLM_OK);
  size_t newlen;
  unsigned char *newb = read_all(fresh, &newlen);
  unlink(fresh);
  arm(-1, 0, 0); /* no Check macro while armed: Check itself writes with fwrite */
  int st0 = do_save(which, fresh);
  long count = inj.count;
  disarm();
  ck_assert_int_eq(st0, NSLM_OK);
  unlink(fresh);
  ck_assert_msg(count > 0, "%s: the wrappers saw no call", SAVE_NAMES[which]);
  long injected = 0;
  for (int persistent = 0; persistent <= 1; persistent++)
    for (long k = 0; k < count; k++) {
      size_t oldlen;
      unsigned char *old = read_all(file, &oldlen);
      ck_assert_ptr_nonnull(old);
      size_t entries = dir_entries(W.dir);
      int fds = open_fds();
      long blocks = nslmh_live_blocks();
      nslmi_fail(NSLM_OK, "iofault", "cleared");
      arm(k, persistent, 0);
      int st = do_save(which, file);
      int kind = inj.failed_kind, renamed = inj.renamed, pre = inj.failed_pre_rename;
      long seen = inj.count;
      disarm();
      ck_assert_msg(kind >= 0, "%s: call %ld of %ld not reached (%ld calls, status %d: %s)", SAVE_NAMES[which], k,
                    count, seen, st, nslm_last_error());
      injected++;
      const char *what = OP_NAMES[kind];
      int fine;
      if (st == NSLM_OK) {
        /* only a failure after the rename (the directory's fsync) or of
         * the symbolic-link probe (lstat) may pass, with the new file */
        fine = renamed && (!pre || kind == OP_LSTAT) && same_bytes(file, newb, newlen);
        ck_assert_msg(fine, "%s: %s failed (call %ld, %s) but the save reported success", SAVE_NAMES[which],
                      what, k, persistent ? "persistently" : "once");
        /* put the old content back for the next run */
        FILE *fp = fopen(file, "wb");
        fwrite(old, 1, oldlen, fp);
        fclose(fp);
      } else {
        ck_assert_msg(st == NSLM_ERR_IO || (kind == OP_FDOPEN && st == NSLM_ERR_NOMEM),
                      "%s: %s failed (call %ld): status %d, expected NSLM_ERR_IO", SAVE_NAMES[which], what, k, st);
        ck_assert_msg(strcmp(nslm_last_error(), "iofault: cleared") != 0, "%s: no detail", SAVE_NAMES[which]);
        if (!same_bytes(file, old, oldlen)) {
          damaged++;
          ck_abort_msg("%s: %s failed (call %ld, %s): the previous file was damaged", SAVE_NAMES[which], what,
                       k, persistent ? "persistently" : "once");
        }
      }
      if (dir_entries(W.dir) != entries) {
        temp_left++;
        ck_abort_msg("%s: %s failed (call %ld): a temporary file was left", SAVE_NAMES[which], what, k);
      }
      ck_assert_msg(open_fds() == fds, "%s: %s failed (call %ld): a descriptor leaked", SAVE_NAMES[which], what,
                    k);
      ck_assert_msg(nslmh_live_blocks() == blocks, "%s: %s failed (call %ld): %ld heap block(s) leaked",
                    SAVE_NAMES[which], what, k, nslmh_live_blocks() - blocks);
      free(old);
    }
  free(newb);
  return injected;
}

/* ------------------------------------------------------------------ */
/* Loads */

static long load_faults(int which, int short_read) {
  static const char *names[4] = {"nslm_npy_read (size query)", "nslm_npy_read", "nslm_params_load",
                                 "nslm_path_load"};
  const char *file = W.ld[which == 0 ? 0 : which - 1];
  long count = 0, injected = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int persistent = 0; persistent <= (pass ? 1 : 0); persistent++)
      for (long k = pass ? 0 : -1; pass == 0 || k < count; k++) {
        static double a[60 * 50];
        size_t rows = 777, cols = 777;
        nslm_params *p = (nslm_params *)&rows;
        nslm_path *path = (nslm_path *)&rows;
        a[0] = a[2999] = 42.0;
        int fds = open_fds();
        long blocks = nslmh_live_blocks();
        arm(k, persistent, short_read);
        int st;
        switch (which) {
        case 0: st = nslm_npy_read(file, NULL, 0, &rows, &cols); break;
        case 1: st = nslm_npy_read(file, a, 3000, &rows, &cols); break;
        case 2: st = nslm_params_load(&p, file); break;
        default: st = nslm_path_load(&path, file); break;
        }
        int kind = inj.failed_kind;
        long used = inj.count;
        disarm();
        if (pass == 0) {
          ck_assert_msg(st == NSLM_OK, "%s: clean load failed: %s", names[which], nslm_last_error());
          count = used;
          ck_assert_msg(count > 0, "%s: the wrappers saw no call", names[which]);
        } else {
          ck_assert(kind >= 0);
          injected++;
          int ok_allowed = kind == OP_FCLOSE; /* the data was read before */
          if (st == NSLM_OK) {
            ck_assert_msg(ok_allowed, "%s: %s failed (call %ld) but the load reported success", names[which],
                          OP_NAMES[kind], k);
          } else {
            int want = (kind == OP_FREAD && short_read) ? NSLM_ERR_FORMAT : NSLM_ERR_IO;
            ck_assert_msg(st == want || (kind == OP_FDOPEN && st == NSLM_ERR_NOMEM),
                          "%s: %s failed (call %ld%s): status %d, expected %d", names[which], OP_NAMES[kind], k,
                          short_read ? ", short read" : "", st, want);
            ck_assert_msg(rows == 777 && cols == 777 && a[0] == 42.0 && a[2999] == 42.0,
                          "%s: an output was written on failure", names[which]);
            if (which == 2) ck_assert_ptr_null(p);
            if (which == 3) ck_assert_ptr_null(path);
          }
        }
        if (st == NSLM_OK) {
          if (which == 2) nslm_params_destroy(p);
          if (which == 3) nslm_path_destroy(path);
        }
        ck_assert_msg(open_fds() == fds, "%s: a descriptor leaked (call %ld)", names[which], k);
        ck_assert_msg(nslmh_live_blocks() == blocks, "%s: %ld heap block(s) leaked (call %ld)", names[which],
                      nslmh_live_blocks() - blocks, k);
        if (pass == 0) break;
      }
  return injected;
}

/* ------------------------------------------------------------------ */

START_TEST(every_save_fails_cleanly) {
  world_make();
  long total = 0;
  char line[2048] = "";
  for (int which = 0; which < F_NSAVE; which++) {
    long n = save_faults(which);
    total += n;
    char part[128];
    snprintf(part, sizeof part, "%s %ld, ", SAVE_NAMES[which], n);
    strncat(line, part, sizeof line - strlen(line) - 1);
    nslmh_result_add(SAVE_NAMES[which], (double)n);
  }
  printf("I/O faults injected into saves (libc calls, once and persistently): %sin all %ld; files damaged: "
         "%ld, temporary files left: %ld\n",
         line, total, damaged, temp_left);
  nslmh_result_add("save_faults", (double)total);
  for (int op = 0; op < OP_COUNT; op++) nslmh_result_add(OP_NAMES[op], (double)inj.total[op]);
  for (int op = 0; op < OP_COUNT; op++) nslmh_result_add("injected", (double)inj.failed[op]);
  world_free();
}
END_TEST

START_TEST(every_load_fails_cleanly) {
  world_make();
  long total = 0;
  char line[2048] = "";
  for (int which = 0; which < 4; which++)
    for (int short_read = 0; short_read <= 1; short_read++) {
      long n = load_faults(which, short_read);
      total += n;
      char part[128];
      snprintf(part, sizeof part, "%s%s %ld, ", which == 0 ? "npy_read(query)" : which == 1 ? "npy_read"
                                                : which == 2 ? "params_load" : "path_load",
               short_read ? "/short" : "", n);
      strncat(line, part, sizeof line - strlen(line) - 1);
    }
  printf("I/O faults injected into loads: %sin all %ld\n", line, total);
  nslmh_result_add("load_faults", (double)total);
  for (int op = 0; op < OP_COUNT; op++) nslmh_result_add(OP_NAMES[op], (double)inj.total[op]);
  world_free();
}
END_TEST

/* Real refusals by the kernel: RLIMIT_FSIZE below the file size. */
START_TEST(file_size_limit_at_every_length) {
  world_make();
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit saved, lim;
  ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
  long runs = 0;
  for (int which = 0; which < F_NSAVE; which++) {
    char fresh[700];
    snprintf(fresh, sizeof fresh, "%s/fresh", W.dir);
    ck_assert_int_eq(do_save(which, fresh), NSLM_OK);
    size_t newlen;
    free(read_all(fresh, &newlen));
    unlink(fresh);
    size_t oldlen;
    unsigned char *old = read_all(W.file[which], &oldlen);
    size_t entries = dir_entries(W.dir);
    /* every length below 64, then 40 lengths spread over the rest */
    for (size_t i = 0; i < 104; i++) {
      size_t L = i < 64 ? i : 64 + (newlen - 64) * (i - 64) / 40;
      if (L >= newlen) break;
      lim = saved;
      lim.rlim_cur = L;
      ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
      int st = do_save(which, W.file[which]);
      ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
      ck_assert_msg(st == NSLM_ERR_IO, "%s with a %zu-byte limit (file %zu bytes): status %d", SAVE_NAMES[which],
                    L, newlen, st);
      ck_assert_msg(same_bytes(W.file[which], old, oldlen), "%s: file damaged at limit %zu", SAVE_NAMES[which], L);
      ck_assert_msg(dir_entries(W.dir) == entries, "%s: temporary file left at limit %zu", SAVE_NAMES[which], L);
      runs++;
    }
    free(old);
  }
  printf("RLIMIT_FSIZE refusals (EFBIG from the kernel): %ld saves, files damaged: 0\n", runs);
  nslmh_result_add("rlimit_faults", (double)runs);
  world_free();
}
END_TEST

/* Character devices are not replaced: /dev/full and a link to it. */
START_TEST(devices_are_refused) {
  world_make();
  char link[700];
  snprintf(link, sizeof link, "%s/full-link", W.dir);
  ck_assert_int_eq(symlink("/dev/full", link), 0);
  struct stat before, after;
  ck_assert_int_eq(stat("/dev/full", &before), 0);
  for (int which = 0; which < F_NSAVE; which++) {
    ck_assert_int_eq(do_save(which, "/dev/full"), NSLM_ERR_IO);
    ck_assert_int_eq(do_save(which, link), NSLM_ERR_IO);
  }
  ck_assert_int_eq(stat("/dev/full", &after), 0);
  ck_assert(S_ISCHR(after.st_mode) && after.st_rdev == before.st_rdev);
  /* a directory is not replaced either, and loads of a device fail */
  ck_assert_int_eq(do_save(F_NPY, W.dir), NSLM_ERR_IO);
  size_t r, c;
  ck_assert_int_eq(nslm_npy_read("/dev/full", NULL, 0, &r, &c), NSLM_ERR_IO);
  world_free();
}
END_TEST

int main(void) {
  nslmh_result_reset("test_iofault");
  Suite *s = suite_create("iofault");
  TCase *tc = tcase_create("io");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, every_save_fails_cleanly);
  tcase_add_test(tc, every_load_fails_cleanly);
  tcase_add_test(tc, file_size_limit_at_every_length);
  tcase_add_test(tc, devices_are_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  /* the wrappers must have seen every kind of call the library makes */
  int blind = 0;
  printf("library calls seen by the wrappers:");
  for (int op = 0; op < OP_COUNT; op++) {
    double n = nslmh_result_sum(OP_NAMES[op]);
    printf(" %s %.0f", OP_NAMES[op], n);
    if (n == 0 && op != OP_STAT && op != OP_LSTAT) blind++;
  }
  printf("\n");
  printf("I/O faults injected: saves %.0f, loads %.0f, kernel refusals %.0f; files damaged: %s\n",
         nslmh_result_sum("save_faults"), nslmh_result_sum("load_faults"), nslmh_result_sum("rlimit_faults"),
         failed ? "see failures" : "0");
  if (blind) printf("FAIL: %d kind(s) of call never reached the wrappers\n", blind);
  return failed == 0 && blind == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
