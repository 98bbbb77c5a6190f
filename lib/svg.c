/* svg.c - dependency-free SVG plots: a risk profile along a path (segment
 * boundaries and kinds marked, optional r(Theta) on a right axis) and a
 * heat map of a plane with contour lines and a color bar.  Plain SVG 1.1
 * elements only (rect, line, polyline, path, circle, text,
 * linearGradient), so every browser and XML parser reads them. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "landscape.h"
#include "path.h"
#include "status.h"
#include "strbuf.h"

#define FONT "font-family=\"Helvetica, Arial, sans-serif\""

/* ------------------------------------------------------------ axes */

typedef struct {
  double lo, hi, step; /* axis range and tick step */
  int digits;          /* significant digits of the labels */
} axis;

static double nice_step(double raw) {
  double e = floor(log10(raw)), f = raw / pow(10.0, e);
  double n = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
  return n * pow(10.0, e);
}

/* An axis covering [lo, hi] with about nticks nice ticks. */
static axis make_axis(double lo, double hi, int nticks, int expand) {
  axis a;
  /* A range that is rounding around one value (a CONSTANT profile) is
   * drawn as flat, not magnified into 17-digit tick labels. */
  if (hi - lo <= 1e-9 * fmax(fabs(lo), fabs(hi))) hi = lo;
  if (!(hi > lo)) {
    double d = fabs(lo) > 0.0 ? 0.05 * fabs(lo) : 1.0;
    lo -= d;
    hi += d;
  }
  double span = hi - lo;
  if (!isfinite(span) || span <= 0.0) { /* values near DBL_MAX or subnormal spans */
    lo = -1.0;
    hi = 1.0;
    span = 2.0;
  }
  a.step = nice_step(span / nticks);
  if (expand) {
    a.lo = floor(lo / a.step) * a.step;
    a.hi = ceil(hi / a.step) * a.step;
  } else {
    a.lo = lo;
    a.hi = hi;
  }
  double mag = fmax(fabs(a.lo), fabs(a.hi));
  /* Enough digits to tell the ticks apart, and all the integer digits. */
  int d = mag > 0.0 ? (int)ceil(log10(mag / a.step)) + 1 : 1;
  int di = mag >= 1.0 ? (int)floor(log10(mag)) + 1 : 1;
  if (di > d && di <= 6) d = di;
  a.digits = d < 2 ? 2 : d > 15 ? 15 : d;
  return a;
}

/* Ticks of an axis: multiples of step within [lo, hi]. */
static void each_tick(const axis *a, double *first, size_t *count) {
  double t0 = ceil(a->lo / a->step - 1e-9) * a->step;
  size_t c = 0;
  while (c < 50 && t0 + (double)c * a->step <= a->hi + 1e-9 * a->step) c++;
  *first = t0;
  *count = c;
}

static double tick_value(double first, const axis *a, size_t i) {
  double v = first + (double)i * a->step;
  return fabs(v) < 1e-12 * a->step ? 0.0 : v; /* no "-0" or 1e-17 labels */
}

static int label_width(const axis *a);

static double map(double v, double lo, double hi, double p0, double p1) {
  return p0 + (v - lo) / (hi - lo) * (p1 - p0);
}

static void svg_open(nslmi_strbuf *sb, int w, int h, const char *title) {
  nslmi_strbuf_printf(sb,
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                      "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
                      w, h, w, h);
  nslmi_strbuf_puts(sb, "<title>");
  nslmi_strbuf_xml(sb, title ? title : "libnslm plot");
  nslmi_strbuf_puts(sb, "</title>\n");
  nslmi_strbuf_printf(sb, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", w, h);
  if (title) {
    nslmi_strbuf_printf(sb, "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" " FONT
                        " fill=\"#222222\">", w / 2.0);
    nslmi_strbuf_xml(sb, title);
    nslmi_strbuf_puts(sb, "</text>\n");
  }
}

/* Horizontal axis at y = ybase from x0 to x1 with ticks of ax. */
static void x_axis(nslmi_strbuf *sb, const axis *ax, double x0, double x1, double ybase,
                   const char *label) {
  nslmi_strbuf_printf(sb, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333333\"/>\n",
                      x0, ybase, x1, ybase);
  double first;
  size_t cnt;
  each_tick(ax, &first, &cnt);
  for (size_t i = 0; i < cnt; i++) {
    double v = tick_value(first, ax, i), x = map(v, ax->lo, ax->hi, x0, x1);
    nslmi_strbuf_printf(sb,
                        "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333333\"/>"
                        "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"12\" " FONT
                        " fill=\"#333333\">%.*g</text>\n",
                        x, ybase, x, ybase + 5, x, ybase + 19, ax->digits, v);
  }
  nslmi_strbuf_printf(sb, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"14\" " FONT
                      " fill=\"#222222\">",
                      (x0 + x1) / 2, ybase + 42);
  nslmi_strbuf_xml(sb, label);
  nslmi_strbuf_puts(sb, "</text>\n");
}

/* Vertical axis at x = xbase from y1 (bottom) to y0 (top); side -1 left,
 * +1 right; grid lines to xgrid if != xbase. */
static void y_axis(nslmi_strbuf *sb, const axis *ay, double xbase, double y0, double y1, int side,
                   double xgrid, const char *label, const char *color) {
  nslmi_strbuf_printf(sb, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\"/>\n",
                      xbase, y0, xbase, y1, color);
  double first;
  size_t cnt;
  each_tick(ay, &first, &cnt);
  for (size_t i = 0; i < cnt; i++) {
    double v = tick_value(first, ay, i), y = map(v, ay->lo, ay->hi, y1, y0);
    if (xgrid != xbase)
      nslmi_strbuf_printf(sb, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000000\" "
                          "stroke-opacity=\"0.08\"/>\n",
                          xbase, y, xgrid, y);
    nslmi_strbuf_printf(sb,
                        "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\"/>"
                        "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\" font-size=\"12\" " FONT
                        " fill=\"%s\">%.*g</text>\n",
                        xbase, y, xbase + 5.0 * side, y, color, xbase + 8.0 * side, y + 4,
                        side < 0 ? "end" : "start", color, ay->digits, v);
  }
  double off = 7.0 * label_width(ay) + 22.0;
  double lx = xbase + (side < 0 ? -off : off), ly = (y0 + y1) / 2;
  nslmi_strbuf_printf(sb, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"14\" " FONT
                      " fill=\"%s\" transform=\"rotate(-90 %.2f %.2f)\">",
                      lx, ly, color, lx, ly);
  nslmi_strbuf_xml(sb, label);
  nslmi_strbuf_puts(sb, "</text>\n");
}

/* ------------------------------------------------------------ profile */

static const char *kind_fill(int kind) {
  return kind == NSLM_SEG_CONSTANT ? "#dbe9f6" : kind == NSLM_SEG_CONVEX ? "#dcf0d3" : "#f1f1f1";
}

static const char *kind_label(int kind) {
  return kind == NSLM_SEG_CONSTANT ? "CONSTANT" : kind == NSLM_SEG_CONVEX ? "CONVEX" : "GENERAL";
}

static const char *kind_short(int kind) {
  return kind == NSLM_SEG_CONSTANT ? "const" : kind == NSLM_SEG_CONVEX ? "cvx" : "gen";
}

/* Characters of the widest tick label of an axis. */
static int label_width(const axis *a) {
  double first;
  size_t cnt;
  each_tick(a, &first, &cnt);
  int w = 1;
  for (size_t i = 0; i < cnt; i++) {
    char b[64];
    int n = snprintf(b, sizeof b, "%.*g", a->digits, tick_value(first, a, i));
    if (n > w) w = n;
  }
  return w < 4 ? 4 : w;
}

int nslm_profile_write_svg(const char *filename, const nslm_path *path, size_t k,
                           const double *t, const double *risk, const double *r,
                           const char *title) {
  int st = nslmi_check_profile(__func__, filename, path, k, t, risk, r);
  if (st) return st;
  const int W = 860, H = 520;
  const double y0 = title ? 56 : 30, y1 = H - 86;
  double tmin = t[0], tmax = t[0], lmin = risk[0], lmax = risk[0], rmin = 0, rmax = 0;
  for (size_t i = 0; i < k; i++) {
    tmin = fmin(tmin, t[i]);
    tmax = fmax(tmax, t[i]);
    lmin = fmin(lmin, risk[i]);
    lmax = fmax(lmax, risk[i]);
  }
  if (r) {
    rmin = rmax = r[0];
    for (size_t i = 0; i < k; i++) {
      rmin = fmin(rmin, r[i]);
      rmax = fmax(rmax, r[i]);
    }
  }
  if (path) {
    tmin = 0.0;
    tmax = 1.0;
  }
  axis ax = make_axis(tmin, tmax, 8, 0);
  if (!(ax.hi > ax.lo)) ax = make_axis(tmin - 0.5, tmax + 0.5, 8, 0);
  axis ay = make_axis(lmin, lmax, 6, 1);
  axis ar = make_axis(rmin, rmax, 6, 1);
  /* Margins wide enough for the tick labels (about 7 px a character). */
  const double x0 = 40 + 7.0 * label_width(&ay);
  const double x1 = W - (r ? 40 + 7.0 * label_width(&ar) : 30);

  nslmi_strbuf sb;
  nslmi_strbuf_init(&sb);
  svg_open(&sb, W, H, title);
  /* Segment bands, kind labels and boundaries. */
  size_t S = path && path->nknots > 1 ? path->nknots - 1 : 0;
  for (size_t s = 0; s < S; s++) {
    double a = map((double)s / (double)S, ax.lo, ax.hi, x0, x1);
    double b = map((double)(s + 1) / (double)S, ax.lo, ax.hi, x0, x1);
    nslmi_strbuf_printf(&sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                        a, y0, b - a, y1 - y0, kind_fill(path->kind[s]));
    /* The kind's name where it fits, a short form where that fits. */
    const char *lab = b - a >= 72 ? kind_label(path->kind[s]) : b - a >= 30 ? kind_short(path->kind[s]) : NULL;
    if (lab)
      nslmi_strbuf_printf(&sb, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"11\" " FONT
                          " fill=\"#555555\">%s</text>\n",
                          (a + b) / 2, y0 + 14, lab);
  }
  y_axis(&sb, &ay, x0, y0, y1, -1, x1, "risk", "#1f4e9c");
  for (size_t s = 1; s < S; s++) {
    double a = map((double)s / (double)S, ax.lo, ax.hi, x0, x1);
    nslmi_strbuf_printf(&sb, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#777777\" "
                        "stroke-dasharray=\"4 3\"/>\n",
                        a, y0, a, y1);
  }
  nslmi_strbuf_printf(&sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
                      "stroke=\"#333333\"/>\n",
                      x0, y0, x1 - x0, y1 - y0);
  x_axis(&sb, &ax, x0, x1, y1, path ? "t (segment s covers [s/S, (s+1)/S])" : "t");
  if (r) y_axis(&sb, &ar, x1, y0, y1, 1, x1, "r(\xce\x98)", "#c0600a");
  /* Curves. */
  nslmi_strbuf_puts(&sb, "<polyline fill=\"none\" stroke=\"#1f4e9c\" stroke-width=\"2\" "
                         "stroke-linejoin=\"round\" points=\"");
  for (size_t i = 0; i < k; i++)
    nslmi_strbuf_printf(&sb, "%s%.2f,%.2f", i ? " " : "", map(t[i], ax.lo, ax.hi, x0, x1),
                        map(risk[i], ay.lo, ay.hi, y1, y0));
  nslmi_strbuf_puts(&sb, "\"/>\n");
  if (r) {
    nslmi_strbuf_puts(&sb, "<polyline fill=\"none\" stroke=\"#c0600a\" stroke-width=\"1.5\" "
                           "stroke-dasharray=\"6 3\" points=\"");
    for (size_t i = 0; i < k; i++)
      nslmi_strbuf_printf(&sb, "%s%.2f,%.2f", i ? " " : "", map(t[i], ax.lo, ax.hi, x0, x1),
                          map(r[i], ar.lo, ar.hi, y1, y0));
    nslmi_strbuf_puts(&sb, "\"/>\n");
  }
  if (k == 1)
    nslmi_strbuf_printf(&sb, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"#1f4e9c\"/>\n",
                        map(t[0], ax.lo, ax.hi, x0, x1), map(risk[0], ay.lo, ay.hi, y1, y0));
  /* Legend, below the plot. */
  double lx = x0, ly = H - 14;
  nslmi_strbuf_printf(&sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1f4e9c\" "
                      "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" " FONT
                      " fill=\"#333333\">risk</text>\n",
                      lx, ly - 4, lx + 22, ly - 4, lx + 27, ly);
  lx += 70;
  if (r) {
    nslmi_strbuf_printf(&sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0600a\" "
                        "stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/><text x=\"%.1f\" y=\"%.1f\" "
                        "font-size=\"12\" " FONT " fill=\"#333333\">r(\xce\x98)</text>\n",
                        lx, ly - 4, lx + 22, ly - 4, lx + 27, ly);
    lx += 70;
  }
  if (S > 0)
    for (int kd = 0; kd < 3; kd++) {
      int kind = kd == 0 ? NSLM_SEG_CONSTANT : kd == 1 ? NSLM_SEG_CONVEX : NSLM_SEG_GENERAL;
      nslmi_strbuf_printf(&sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"11\" fill=\"%s\" "
                          "stroke=\"#999999\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" " FONT
                          " fill=\"#333333\">%s</text>\n",
                          lx, ly - 10, kind_fill(kind), lx + 21, ly, kind_label(kind));
      lx += 100;
    }
  nslmi_strbuf_puts(&sb, "</svg>\n");
  st = nslmi_strbuf_save(&sb, filename, __func__);
  nslmi_strbuf_free(&sb);
  return st;
}

/* ------------------------------------------------------------ plane */

/* Viridis, 10 anchors (matplotlib's colormap, public domain). */
static const unsigned char VIRIDIS[10][3] = {
    {0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x49, 0x89}, {0x31, 0x68, 0x8e},
    {0x26, 0x82, 0x8e}, {0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6e, 0xce, 0x58},
    {0xb5, 0xde, 0x2b}, {0xfd, 0xe7, 0x25}};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void color(double s, char out[8]) {
  if (!(s > 0.0)) s = 0.0;
  if (s > 1.0) s = 1.0;
  double x = s * 9.0;
  int i = (int)x;
  if (i > 8) i = 8;
  double f = x - i;
  int c[3];
  for (int q = 0; q < 3; q++)
    c[q] = (int)lround((1.0 - f) * VIRIDIS[i][q] + f * VIRIDIS[i + 1][q]);
  static const char hx[] = "0123456789abcdef";
  out[0] = '#';
  for (int q = 0; q < 3; q++) {
    out[1 + 2 * q] = hx[c[q] >> 4];
    out[2 + 2 * q] = hx[c[q] & 15];
  }
  out[7] = '\0';
}

typedef struct {
  size_t na, nb;
  const double *v;
  ptrdiff_t rs, cs;
  double x0, x1, y0, y1; /* plot coordinates of the first/last grid nodes */
} grid;

static double gv(const grid *g, size_t i, size_t j) {
  return g->v[(ptrdiff_t)i * g->rs + (ptrdiff_t)j * g->cs];
}
static double gx(const grid *g, double i) {
  return g->na > 1 ? g->x0 + i / (double)(g->na - 1) * (g->x1 - g->x0) : g->x0;
}
static double gy(const grid *g, double j) {
  return g->nb > 1 ? g->y0 + j / (double)(g->nb - 1) * (g->y1 - g->y0) : g->y0;
}

/* Contour segments of level c: marching squares over the grid cells,
 * saddles resolved by the cell's mean. */
static void contour(nslmi_strbuf *sb, const grid *g, double c) {
  for (size_t i = 0; i + 1 < g->na; i++)
    for (size_t j = 0; j + 1 < g->nb; j++) {
      double v[4] = {gv(g, i, j), gv(g, i + 1, j), gv(g, i + 1, j + 1), gv(g, i, j + 1)};
      double ci[4] = {(double)i, (double)i + 1, (double)i + 1, (double)i};
      double cj[4] = {(double)j, (double)j, (double)j + 1, (double)j + 1};
      int code = 0;
      for (int q = 0; q < 4; q++) code |= (v[q] >= c) << q;
      if (code == 0 || code == 15) continue;
      /* Crossing points on the four edges (q, q+1). */
      double px[4], py[4];
      int has[4];
      for (int q = 0; q < 4; q++) {
        int a = q, b = (q + 1) % 4;
        has[q] = ((v[a] >= c) != (v[b] >= c));
        if (has[q]) {
          double f = (c - v[a]) / (v[b] - v[a]);
          px[q] = gx(g, ci[a] + f * (ci[b] - ci[a]));
          py[q] = gy(g, cj[a] + f * (cj[b] - cj[a]));
        }
      }
      int e[4], ne = 0;
      for (int q = 0; q < 4; q++)
        if (has[q]) e[ne++] = q;
      if (ne == 2) {
        nslmi_strbuf_printf(sb, "M%.2f %.2fL%.2f %.2f", px[e[0]], py[e[0]], px[e[1]], py[e[1]]);
      } else if (ne == 4) {
        double mean = 0.25 * (v[0] + v[1] + v[2] + v[3]);
        /* Corner 0 above with the mean above: 0 joins 1 and 3 ... pair
         * edges so that the high corners are connected through the center. */
        int join01 = (mean >= c) == (v[0] >= c);
        if (join01) {
          nslmi_strbuf_printf(sb, "M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2f", px[0], py[0], px[1],
                              py[1], px[2], py[2], px[3], py[3]);
        } else {
          nslmi_strbuf_printf(sb, "M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2f", px[0], py[0], px[3],
                              py[3], px[1], py[1], px[2], py[2]);
        }
      }
    }
}

int nslm_plane_write_svg(const char *filename, size_t na, double amin, double amax, size_t nb,
                         double bmin, double bmax, const double *values, ptrdiff_t rs,
                         ptrdiff_t cs, size_t nmarks, const double *marks, const char *title) {
  int st = nslmi_check_plane(__func__, filename, na, amin, amax, nb, bmin, bmax, values, rs, cs, "values");
  if (st) return st;
  if (nmarks > 0 && marks == NULL) return NSLMI_FAIL(NSLM_ERR_INVALID, "marks is NULL with nmarks %zu", nmarks);
  if (nmarks > 1000) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "nmarks %zu is too many (max 1000)", nmarks);
  for (size_t i = 0; i < 2 * nmarks; i++)
    if (!isfinite(marks[i])) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "marks[%zu] is not finite", i);
  const int W = 800, H = 660;
  const double px0 = 90, px1 = 610, py0 = title ? 56 : 30, py1 = py0 + 520;
  double vmin = values[0], vmax = values[0];
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++) {
      double v = values[(ptrdiff_t)i * rs + (ptrdiff_t)j * cs];
      vmin = fmin(vmin, v);
      vmax = fmax(vmax, v);
    }
  /* Positive values spanning two decades or more above their 2% quantile
   * (a loss around a minimum) are colored and contoured on a log scale
   * from that quantile up; the few values below it (an exact minimum at
   * 1e-30, say) get the darkest color instead of squashing the rest. */
  size_t cnt = na * nb;
  double *tv = nslmi_malloc_array(cnt, sizeof *tv);
  if (tv == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "grid of %zu x %zu", na, nb);
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++) tv[i * nb + j] = values[(ptrdiff_t)i * rs + (ptrdiff_t)j * cs];
  qsort(tv, cnt, sizeof *tv, cmp_double);
  double q02 = tv[(size_t)(0.02 * (double)(cnt - 1))];
  int logscale = vmin > 0.0 && vmax / q02 >= 100.0;
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++) {
      double v = values[(ptrdiff_t)i * rs + (ptrdiff_t)j * cs];
      tv[i * nb + j] = logscale ? log10(fmax(v, q02)) : v;
    }
  if (logscale) {
    vmin = log10(q02);
    vmax = log10(vmax);
  }
  /* The grid nodes are cell centres; the axes cover half a cell more. */
  double da = na > 1 ? (amax - amin) / (double)(na - 1) : (amax != amin ? fabs(amax - amin) : 1.0);
  double db = nb > 1 ? (bmax - bmin) / (double)(nb - 1) : (bmax != bmin ? fabs(bmax - bmin) : 1.0);
  double alo = amin - da / 2, ahi = (na > 1 ? amax : amin) + da / 2;
  double blo = bmin - db / 2, bhi = (nb > 1 ? bmax : bmin) + db / 2;
  if (alo > ahi) { double tmp = alo; alo = ahi; ahi = tmp; }
  if (blo > bhi) { double tmp = blo; blo = bhi; bhi = tmp; }
  if (!(ahi > alo)) { alo -= 0.5; ahi += 0.5; }
  if (!(bhi > blo)) { blo -= 0.5; bhi += 0.5; }
  axis ax = make_axis(alo, ahi, 7, 0), ay = make_axis(blo, bhi, 7, 0);
  axis av = make_axis(vmin, vmax, 6, 0);
  double vlo = av.lo, vhi = av.hi;

  nslmi_strbuf sb;
  nslmi_strbuf_init(&sb);
  svg_open(&sb, W, H, title);
  /* Cells. */
  grid g = {na, nb, tv, (ptrdiff_t)nb, 1, map(amin, ax.lo, ax.hi, px0, px1), map(amax, ax.lo, ax.hi, px0, px1),
            map(bmin, ay.lo, ay.hi, py1, py0), map(bmax, ay.lo, ay.hi, py1, py0)};
  double cw = fabs(map(da, 0, ax.hi - ax.lo, 0, px1 - px0));
  double ch = fabs(map(db, 0, ay.hi - ay.lo, 0, py1 - py0));
  nslmi_strbuf_puts(&sb, "<g shape-rendering=\"crispEdges\">\n");
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++) {
      char col[8];
      color((tv[i * nb + j] - vlo) / (vhi - vlo), col);
      double cx = gx(&g, (double)i), cy = gy(&g, (double)j);
      /* +0.6 px of overlap hides seams between cells. */
      nslmi_strbuf_printf(&sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                          cx - cw / 2, cy - ch / 2, cw + 0.6, ch + 0.6, col);
    }
  nslmi_strbuf_puts(&sb, "</g>\n");
  /* Contours at 9 levels strictly inside the value range. */
  if (na > 1 && nb > 1 && vmax > vmin) {
    nslmi_strbuf_puts(&sb, "<path fill=\"none\" stroke=\"#ffffff\" stroke-opacity=\"0.75\" "
                           "stroke-width=\"1\" d=\"");
    for (int q = 1; q <= 9; q++) contour(&sb, &g, vmin + (vmax - vmin) * q / 10.0);
    nslmi_strbuf_puts(&sb, "\"/>\n");
  }
  nslmi_strbuf_printf(&sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
                      "stroke=\"#333333\"/>\n",
                      px0, py0, px1 - px0, py1 - py0);
  x_axis(&sb, &ax, px0, px1, py1, "\xce\xb1");
  y_axis(&sb, &ay, px0, py0, py1, -1, px0, "\xce\xb2", "#333333");
  /* Marks. */
  for (size_t i = 0; i < nmarks; i++) {
    double mx = map(marks[2 * i], ax.lo, ax.hi, px0, px1), my = map(marks[2 * i + 1], ay.lo, ay.hi, py1, py0);
    if (mx < px0 || mx > px1 || my < py0 || my > py1) continue;
    nslmi_strbuf_printf(&sb, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"#ffffff\" stroke=\"#000000\" "
                        "stroke-width=\"1.5\"/>",
                        mx, my);
    if (i < 26)
      nslmi_strbuf_printf(&sb, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"13\" font-weight=\"bold\" " FONT
                          " fill=\"#ffffff\" stroke=\"#000000\" stroke-width=\"0.4\">%c</text>",
                          mx + 7, my - 7, (char)('A' + i));
    nslmi_strbuf_puts(&sb, "\n");
  }
  /* Color bar. */
  double bx = 650, bw = 22;
  nslmi_strbuf_puts(&sb, "<defs><linearGradient id=\"nslm-cbar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
  for (int q = 0; q <= 10; q++) {
    char col[8];
    color(q / 10.0, col);
    nslmi_strbuf_printf(&sb, "<stop offset=\"%.2f\" stop-color=\"%s\"/>", q / 10.0, col);
  }
  nslmi_strbuf_puts(&sb, "</linearGradient></defs>\n");
  nslmi_strbuf_printf(&sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"url(#nslm-cbar)\" "
                      "stroke=\"#333333\"/>\n",
                      bx, py0, bw, py1 - py0);
  {
    double first;
    size_t nt;
    each_tick(&av, &first, &nt);
    for (size_t i = 0; i < nt; i++) {
      double v = tick_value(first, &av, i), y = map(v, vlo, vhi, py1, py0);
      nslmi_strbuf_printf(&sb, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333333\"/>"
                          "<text x=\"%.2f\" y=\"%.2f\" font-size=\"12\" " FONT " fill=\"#333333\">%.*g</text>\n",
                          bx + bw, y, bx + bw + 5, y, bx + bw + 8, y + 4, logscale ? 3 : av.digits,
                          logscale ? pow(10.0, v) : v);
    }
    nslmi_strbuf_printf(&sb, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"13\" " FONT
                        " fill=\"#222222\">%s</text>\n",
                        bx + bw / 2, py0 - 8, logscale ? "value (log scale)" : "value");
  }
  nslmi_strbuf_puts(&sb, "</svg>\n");
  st = nslmi_strbuf_save(&sb, filename, __func__);
  nslmi_strbuf_free(&sb);
  nslmi_free(tv);
  return st;
}
