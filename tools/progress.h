/* progress.h - progress on stderr and clean cancellation on Ctrl-C. */
#ifndef NSLM_TOOLS_PROGRESS_H
#define NSLM_TOOLS_PROGRESS_H

/* Installs the SIGINT handler: the first Ctrl-C sets a flag that makes
 * cli_progress() return nonzero, so the running library call stops with
 * NSLM_ERR_CANCELLED; a second Ctrl-C kills the process. */
void progress_install_sigint(void);
/* 1 once Ctrl-C was pressed. */
int progress_interrupted(void);

/* A progress display: a bar on a terminal, a line every 10% (at most one
 * per second) otherwise, nothing when quiet. */
typedef struct {
  const char *label;
  int quiet, tty, shown;
  double last_fraction, last_time, start;
} progress;

void progress_begin(progress *p, const char *label, int quiet);
/* nslm_progress_fn: user_data is a progress *. */
int progress_callback(double fraction, void *user_data);
/* Ends the display (clears the bar's line). */
void progress_end(progress *p);

#endif
