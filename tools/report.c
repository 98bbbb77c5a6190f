/* report.c - 'key value...' lines describing widths and paths. */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>

#include "cli.h"

static void print_sizes(FILE *f, const char *key, const size_t *v, size_t len) {
  fprintf(f, "%s", key);
  for (size_t i = 0; i < len; i++) fprintf(f, " %zu", v[i]);
  fputc('\n', f);
}

int report_widths(FILE *f, const nslm_net *net, const nslm_params *theta,
                  const nslm_params *gamma, const nslm_data *data,
                  const nslm_constraint *con, const nslm_construct_opts *opts, size_t n) {
  size_t l = nslm_net_depth(net);
  size_t *w = calloc(l + 2, sizeof *w), *v = calloc(l + 1, sizeof *v);
  if (w == NULL || v == NULL) {
    free(w);
    free(v);
    return cli_error(CLI_EFAIL, "out of memory");
  }
  for (size_t j = 0; j <= l + 1; j++) w[j] = nslm_net_width(net, j);
  print_sizes(f, "widths", w, l + 2);
  fprintf(f, "depth %zu\n", l);
  fprintf(f, "activations");
  for (size_t j = 1; j <= l; j++) {
    int kind;
    double c, k;
    nslm_net_get_activation(net, j, &kind, &c, &k);
    if (kind == NSLM_ACT_LEAKY_RELU) fprintf(f, " leaky:%g", c);
    else if (kind == NSLM_ACT_POLY) fprintf(f, " poly:%g:%g", c, k);
    else fprintf(f, " %s", cli_act_name(kind));
  }
  fputc('\n', f);
  size_t pmin = SIZE_MAX;
  for (size_t j = 1; j <= l; j++) pmin = w[j] < pmin ? w[j] : pmin;
  if (n > 0) {
    size_t bound = nslm_net_paper_width_bound(net, n);
    fprintf(f, "samples %zu\n", n);
    if (bound == SIZE_MAX) fprintf(f, "paper_bound overflow\n");
    else fprintf(f, "paper_bound %zu\n", bound);
    fprintf(f, "paper_bound_met %s\n", pmin >= bound ? "yes" : "no");
  }
  int st = NSLM_OK;
  for (size_t j = 1; st == NSLM_OK && j <= l; j++)
    st = nslm_params_active_units(theta, j, NULL, 0, &v[j - 1]);
  if (st == NSLM_OK) print_sizes(f, "active", v, l);
  if (st == NSLM_OK && data != NULL) {
    st = nslm_compress_widths(net, theta, data, con, opts, v, l);
    if (st == NSLM_OK) print_sizes(f, "compressed", v, l);
  }
  if (st == NSLM_OK && data != NULL && gamma != NULL) {
    int fits = 0;
    st = nslm_connect_widths(net, theta, gamma, data, con, opts, v, l, &fits);
    if (st == NSLM_OK) {
      print_sizes(f, "needed", v, l);
      fprintf(f, "fits %s\n", fits ? "yes" : "no");
      for (size_t j = 1; j <= l; j++)
        if (v[j - 1] > w[j])
          fprintf(f, "short_layer %zu needs %zu has %zu\n", j, v[j - 1], w[j]);
    }
  }
  free(w);
  free(v);
  if (st) return cli_lib_error(st, CLI_EFAIL, "widths");
  return CLI_OK;
}

int report_segments(FILE *f, const nslm_net *net, const nslm_path *path,
                    const nslm_data *data, const nslm_loss *loss, const nslm_constraint *con) {
  size_t S = nslm_path_num_segments(path), l = nslm_net_depth(net);
  nslm_params *knot = NULL;
  unsigned char *mask = malloc(l + 1);
  int st = mask ? NSLM_OK : NSLM_ERR_NOMEM;
  if (st == NSLM_OK) st = nslm_params_create(&knot, net);
  double prev = 0, risk = 0, r = 0;
  for (size_t i = 0; st == NSLM_OK && i <= S; i++) {
    st = nslm_path_get_knot(path, i, knot);
    if (st == NSLM_OK) st = nslm_eval_risk(net, knot, data, loss, &risk);
    if (st == NSLM_OK && con) st = nslm_constraint_eval(con, knot, &r);
    if (st) break;
    if (i > 0) {
      int kind;
      st = nslm_path_segment_kind(path, i - 1, &kind);
      if (st == NSLM_OK) st = nslm_path_segment_layers(path, i - 1, mask, l + 1);
      if (st) break;
      fprintf(f, "segment %zu %-8s layers", i - 1, cli_kind_name(kind));
      for (size_t j = 0; j <= l; j++)
        if (mask[j]) fprintf(f, " %zu", j);
      fprintf(f, " risk %.10g -> %.10g", prev, risk);
      if (con) fprintf(f, " r_end %.6g", r);
      fputc('\n', f);
    }
    prev = risk;
  }
  nslm_params_destroy(knot);
  free(mask);
  if (st) return cli_lib_error(st, CLI_EFAIL, "path");
  return CLI_OK;
}
