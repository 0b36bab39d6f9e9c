/* rnnk tune: autotune a set of shapes on this host and write the tune cache.
 *
 *   rnnk tune [--shapes LIST] [--time-limit S] [-o FILE] [--quick]
 *
 * LIST is comma-separated CELL:H[:N[:THREADS]], CELL one of lstm, gru
 * (linear before reset), gru0 (reset before the product), elman, jordan;
 * I = H. The time limit is for the whole run, shared among the shapes.
 * Public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rnnk.h"
#include "tools/commands.h"

typedef struct shape {
  char cell[16];
  int H, N, threads;
} shape;

static const char *default_shapes = "lstm:128,lstm:256,lstm:512,gru:256,elman:256,lstm:256:64,lstm:512:1:2";

static int parse_shapes(const char *list, shape *out, int max) {
  int n = 0;
  char *copy = strdup(list), *save = NULL;
  if (!copy) return -1;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n == max) break;
    shape s = {.N = 1, .threads = 1};
    char cell[16];
    int got = sscanf(tok, "%15[a-z0-9]:%d:%d:%d", cell, &s.H, &s.N, &s.threads);
    if (got < 2 || s.H < 1 || s.N < 1 || s.threads < 1 ||
        (strcmp(cell, "lstm") && strcmp(cell, "gru") && strcmp(cell, "gru0") && strcmp(cell, "elman") &&
         strcmp(cell, "jordan"))) {
      fprintf(stderr, "rnnk tune: bad shape '%s' (want CELL:H[:N[:THREADS]])\n", tok);
      free(copy);
      return -1;
    }
    snprintf(s.cell, sizeof s.cell, "%s", cell);
    out[n++] = s;
  }
  free(copy);
  return n;
}

static void shape_config(const shape *s, rnnk_config *c) {
  rnnk_cell cell = !strcmp(s->cell, "lstm") ? RNNK_LSTM
                   : !strncmp(s->cell, "gru", 3) ? RNNK_GRU
                   : !strcmp(s->cell, "jordan") ? RNNK_JORDAN
                                                : RNNK_ELMAN;
  rnnk_config_init(c, cell, s->H, s->H);
  c->linear_before_reset = strcmp(s->cell, "gru0") != 0;
  if (cell == RNNK_JORDAN) c->output_size = s->H;
}

typedef struct progress {
  bool tty;
  int shape, shapes;
  const char *name;
} progress;

static void on_progress(void *user, int done, int total, const char *what) {
  const progress *p = user;
  if (p->tty) {
    const int width = 24, fill = total ? done * width / total : width;
    fprintf(stderr, "\r[%d/%d] %-10s [%.*s%*s] %d/%d  %-44.44s", p->shape + 1, p->shapes, p->name, fill,
            "########################", width - fill, "", done, total, what);
    if (done == total) fputc('\n', stderr);
  } else if (done == total) { /* not a terminal (a log): one line per shape */
    fprintf(stderr, "[%d/%d] %s: %d candidate timings; last: %s\n", p->shape + 1, p->shapes, p->name, total, what);
  }
  fflush(stderr);
}

int rnnk_cmd_tune(int argc, char **argv) {
  const char *shapes_arg = default_shapes, *out = NULL;
  double limit = 60;
  int repeats = 7;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--shapes") && i + 1 < argc) shapes_arg = argv[++i];
    else if (!strcmp(argv[i], "--time-limit") && i + 1 < argc) limit = atof(argv[++i]);
    else if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
    else if (!strcmp(argv[i], "--quick")) limit = 40, repeats = 5;
    else {
      fprintf(stderr, "usage: rnnk tune [--shapes CELL:H[:N[:THREADS]],...] [--time-limit S] [-o FILE] [--quick]\n");
      return 2;
    }
  }
  if (!(limit > 0)) {
    fprintf(stderr, "rnnk tune: --time-limit must be > 0\n");
    return 2;
  }
  shape shapes[64];
  const int ns = parse_shapes(shapes_arg, shapes, 64);
  if (ns <= 0) return 2;

  /* Start from what is on disk, so a partial tune keeps older entries. */
  rnnk_status ls = rnnk_tune_load(out);
  if (ls != RNNK_OK && ls != RNNK_EIO)
    fprintf(stderr, "rnnk tune: existing cache ignored: %s (%s)\n", rnnk_strerror(ls), rnnk_last_error());

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  progress pr = {.tty = isatty(2), .shapes = ns};
  printf("%-8s %5s %4s %3s  %-7s %-18s %10s %10s %7s\n", "cell", "H", "N", "thr", "isa", "winner", "default ms",
         "tuned ms", "ratio");
  int failures = 0;
  for (int i = 0; i < ns; i++) {
    rnnk_config c;
    shape_config(&shapes[i], &c);
    pr.shape = i, pr.name = shapes[i].cell;
    rnnk_tune_result res;
    rnnk_tune_options opt = {.time_limit_s = limit / ns, .repeats = repeats, .progress = on_progress, .user = &pr,
                             .result = &res};
    rnnk_status s = rnnk_tune(&c, shapes[i].N, shapes[i].threads, &opt);
    if (s) {
      fprintf(stderr, "rnnk tune: %s H=%d: %s (%s)\n", shapes[i].cell, shapes[i].H, rnnk_strerror(s), rnnk_last_error());
      failures++;
      continue;
    }
    char winner[48];
    char kc[16] = "";
    if (res.k_block) snprintf(kc, sizeof kc, " kc=%dK", res.k_block);
    snprintf(winner, sizeof winner, "%s u=%d%s%s%s", rnnk_isa_name(res.isa), res.unit,
             shapes[i].threads > 1 ? (res.split_rows ? " rows" : res.split ? " split" : " nosplit") : "",
             res.time_chunk ? " T-gemm" : "", kc);
    printf("%-8s %5d %4d %3d  %-7s %-18s %10.3f %10.3f %6.2fx\n", shapes[i].cell, shapes[i].H, shapes[i].N,
           shapes[i].threads, rnnk_isa_name(rnnk_active_isa()), winner, res.ms_default, res.ms_tuned,
           res.ms_tuned > 0 ? res.ms_default / res.ms_tuned : 0.0);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("tuning took %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
  rnnk_status s = rnnk_tune_save(out);
  if (s) {
    fprintf(stderr, "rnnk tune: saving the cache failed: %s (%s)\n", rnnk_strerror(s), rnnk_last_error());
    return 1;
  }
  char report[2048];
  if (rnnk_tune_report(report, sizeof report) == RNNK_OK) printf("%s", report);
  return failures ? 1 : 0;
}
