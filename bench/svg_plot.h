/* A tiny SVG line-plot writer (bench-only, no dependency): two panels side
 * by side sharing a log2 x axis (e.g. H), left y1 (GFLOP/s), right y2
 * (% of roofline), one polyline per series. */
#ifndef RNNK_BENCH_SVG_PLOT_H
#define RNNK_BENCH_SVG_PLOT_H

typedef struct svg_series {
  const char *name;  /* legend text */
  const char *color; /* CSS color */
  int dashed;        /* 0 solid, 1 dashed, 2 dotted */
  int n;             /* points */
  const double *x, *y1, *y2;
} svg_series;

/* Writes the plot to @p path. 0 on success, -1 if the file can't be written. */
int svg_plot_write(const char *path, const char *title, const char *xlabel, const char *y1label,
                   const char *y2label, const svg_series *s, int ns);

#endif
