/* progress.c - progress on stderr driven by the library's callback. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
  signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process */
}

void progress_install_sigint(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

int progress_interrupted(void) { return interrupted != 0; }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_begin(progress *p, const char *label, int quiet) {
  p->label = label;
  p->quiet = quiet;
  p->tty = isatty(STDERR_FILENO);
  p->shown = 0;
  p->last_fraction = -1.0;
  p->start = p->last_time = now();
}

int progress_callback(double fraction, void *user_data) {
  progress *p = user_data;
  if (interrupted) return 1;
  if (p == NULL || p->quiet) return 0;
  if (!(fraction >= 0.0)) fraction = 0.0;
  if (fraction > 1.0) fraction = 1.0;
  double t = now();
  if (p->tty) {
    /* Redraw at most 20 times a second, and only after half a second of
     * work: quick calls show nothing. */
    if (t - p->start < 0.5 || (t - p->last_time < 0.05 && fraction < 1.0)) return 0;
    int width = 30, done = (int)(fraction * width + 0.5);
    fprintf(stderr, "\r%-12s [", p->label);
    for (int i = 0; i < width; i++) fputc(i < done ? '#' : ' ', stderr);
    fprintf(stderr, "] %3d%%", (int)(100.0 * fraction + 0.5));
    fflush(stderr);
    p->shown = 1;
  } else {
    if (t - p->start < 1.0 || t - p->last_time < 1.0 || fraction < p->last_fraction + 0.1)
      return 0;
    fprintf(stderr, "nslm: %s: %3d%%\n", p->label, (int)(100.0 * fraction + 0.5));
    p->last_fraction = fraction;
  }
  p->last_time = t;
  return 0;
}

void progress_end(progress *p) {
  if (p->tty && p->shown) fprintf(stderr, "\r%*s\r", 50, "");
  p->shown = 0;
}
