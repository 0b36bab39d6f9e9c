/* See svg_plot.h. */
#include "svg_plot.h"

#include <math.h>
#include <stdio.h>

enum { PW = 440, PH = 300, ML = 60, MT = 50, GAP = 90, LEGEND = 170 };

static void esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else if (*s == '&') fputs("&amp;", f);
    else fputc(*s, f);
  }
}

static double nice_max(double v) {
  if (!(v > 0)) return 1;
  const double e = pow(10, floor(log10(v)));
  const double m = v / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

static void panel(FILE *f, int x0, const char *ylabel, double xmin, double xmax, double ymax,
                  const svg_series *s, int ns, int which, const char *xlabel) {
  const double lx0 = log2(xmin), lx1 = log2(xmax) > log2(xmin) ? log2(xmax) : log2(xmin) + 1;
  fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#444'/>\n", x0, MT, PW, PH);
  for (int i = 0; i <= 5; i++) {
    const double v = ymax * i / 5, y = MT + PH - PH * (double)i / 5;
    fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>\n", x0, y, x0 + PW, y);
    fprintf(f, "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%g</text>\n", x0 - 4, y + 4, v);
  }
  for (double lx = ceil(lx0); lx <= lx1 + 1e-9; lx += 1) {
    const double x = x0 + PW * (lx - lx0) / (lx1 - lx0);
    fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>\n", x, MT, x, MT + PH);
    fprintf(f, "<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%g</text>\n", x, MT + PH + 16, pow(2, lx));
  }
  fprintf(f, "<text x='%d' y='%d' font-size='12' text-anchor='middle'>", x0 + PW / 2, MT + PH + 34);
  esc(f, xlabel);
  fprintf(f, "</text>\n<text x='%d' y='%d' font-size='12' text-anchor='middle' transform='rotate(-90 %d %d)'>",
          x0 - 42, MT + PH / 2, x0 - 42, MT + PH / 2);
  esc(f, ylabel);
  fputs("</text>\n", f);
  static const char *dash[] = {"", " stroke-dasharray='6,4'", " stroke-dasharray='2,3'"};
  for (int k = 0; k < ns; k++) {
    const double *y = which ? s[k].y2 : s[k].y1;
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='", s[k].color,
            dash[s[k].dashed % 3]);
    for (int i = 0; i < s[k].n; i++) {
      if (!(y[i] >= 0)) continue;
      const double px = x0 + PW * (log2(s[k].x[i]) - lx0) / (lx1 - lx0);
      const double py = MT + PH - PH * (y[i] / ymax);
      fprintf(f, "%.1f,%.1f ", px, py);
    }
    fputs("'/>\n", f);
    for (int i = 0; i < s[k].n; i++) {
      if (!(y[i] >= 0)) continue;
      const double px = x0 + PW * (log2(s[k].x[i]) - lx0) / (lx1 - lx0);
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", px, MT + PH - PH * (y[i] / ymax), s[k].color);
    }
  }
}

int svg_plot_write(const char *path, const char *title, const char *xlabel, const char *y1label,
                   const char *y2label, const svg_series *s, int ns) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  double xmin = INFINITY, xmax = -INFINITY, y1 = 0, y2 = 0;
  for (int k = 0; k < ns; k++)
    for (int i = 0; i < s[k].n; i++) {
      if (s[k].x[i] > 0 && s[k].x[i] < xmin) xmin = s[k].x[i];
      if (s[k].x[i] > xmax) xmax = s[k].x[i];
      if (s[k].y1[i] > y1) y1 = s[k].y1[i];
      if (s[k].y2[i] > y2) y2 = s[k].y2[i];
    }
  if (!(xmin < INFINITY)) xmin = 1, xmax = 2;
  const int W = ML + PW + GAP + PW + 20 + LEGEND, Hh = MT + PH + 50;
  const int lh = 16, Htot = Hh > MT + ns * lh + 20 ? Hh : MT + ns * lh + 20;
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif'>\n", W, Htot);
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
  fprintf(f, "<text x='%d' y='24' font-size='15' font-weight='bold'>", ML);
  esc(f, title);
  fputs("</text>\n", f);
  panel(f, ML, y1label, xmin, xmax, nice_max(y1 * 1.05), s, ns, 0, xlabel);
  panel(f, ML + PW + GAP, y2label, xmin, xmax, nice_max(y2 * 1.05), s, ns, 1, xlabel);
  const int lx = ML + 2 * PW + GAP + 20;
  static const char *dash[] = {"", " stroke-dasharray='6,4'", " stroke-dasharray='2,3'"};
  for (int k = 0; k < ns; k++) {
    const int y = MT + 10 + k * lh;
    fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='2'%s/>\n", lx, y, lx + 24, y,
            s[k].color, dash[s[k].dashed % 3]);
    fprintf(f, "<text x='%d' y='%d' font-size='11'>", lx + 30, y + 4);
    esc(f, s[k].name);
    fputs("</text>\n", f);
  }
  fputs("</svg>\n", f);
  return fclose(f) == 0 ? 0 : -1;
}
