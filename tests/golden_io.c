/* Reader for rnnk's PyTorch golden files; the format is in
 * tests/golden/README.md. Little-endian on disk, decoded byte by byte so the
 * reader works on any host. */
#include "golden_io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_MAGIC "RNNKGLD1"
#define GOLDEN_VERSION 1
#define GOLDEN_HEADER_INTS 12 /* version + 11 fields */
#define GOLDEN_MAX_DIM (1 << 16)

const char *golden_dir(void) {
  const char *env = getenv("RNNK_GOLDEN_DIR");
  if (env != NULL && env[0] != '\0') return env;
#ifdef RNNK_GOLDEN_DEFAULT_DIR
  return RNNK_GOLDEN_DEFAULT_DIR;
#else
  return "tests/golden";
#endif
}

static void set_err(char *err, size_t err_len, const char *fmt, ...) {
  if (err == NULL || err_len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

/* Read a whole file. Returns GOLDEN_OK or a negative code. */
static int read_all(const char *path, unsigned char **data, size_t *size, char *err,
                    size_t err_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    set_err(err, err_len, "golden: cannot open %s: %s (set RNNK_GOLDEN_DIR?)", path,
            strerror(errno));
    return GOLDEN_EOPEN;
  }
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  if (buf == NULL) {
    fclose(f);
    set_err(err, err_len, "golden: out of memory reading %s", path);
    return GOLDEN_ENOMEM;
  }
  for (;;) {
    if (len == cap) {
      unsigned char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        set_err(err, err_len, "golden: out of memory reading %s", path);
        return GOLDEN_ENOMEM;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    set_err(err, err_len, "golden: read error on %s", path);
    return GOLDEN_EOPEN;
  }
  *data = buf;
  *size = len;
  return GOLDEN_OK;
}

typedef struct cursor {
  const unsigned char *p;
  size_t left;
  const char *path;
  char *err;
  size_t err_len;
  int rc;
} cursor;

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int take(cursor *c, size_t bytes, const char *what) {
  if (c->rc != GOLDEN_OK) return 0;
  if (bytes > c->left) {
    set_err(c->err, c->err_len, "golden: %s is short: %s needs %zu bytes, %zu left", c->path,
            what, bytes, c->left);
    c->rc = GOLDEN_ESHORT;
    return 0;
  }
  return 1;
}

static int32_t get_i32(cursor *c, const char *what) {
  if (!take(c, 4, what)) return 0;
  int32_t v = (int32_t)le32(c->p);
  c->p += 4;
  c->left -= 4;
  return v;
}

/* Read @p count floats into a new array (NULL on error; rc set). */
static float *get_f32(cursor *c, size_t count, const char *what) {
  if (c->rc != GOLDEN_OK) return NULL;
  if (count > SIZE_MAX / 4 || !take(c, count * 4, what)) {
    if (c->rc == GOLDEN_OK) c->rc = GOLDEN_ESHORT;
    return NULL;
  }
  float *a = malloc(count ? count * sizeof(float) : 1);
  if (a == NULL) {
    set_err(c->err, c->err_len, "golden: out of memory for %s of %s", what, c->path);
    c->rc = GOLDEN_ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    uint32_t u = le32(c->p + 4 * i);
    memcpy(&a[i], &u, sizeof u);
  }
  c->p += count * 4;
  c->left -= count * 4;
  return a;
}

void golden_free(golden_case *c) {
  if (c == NULL) return;
  if (c->w != NULL) {
    for (int i = 0; i < c->num_layers * c->dirs; i++) {
      free(c->w[i].w_ih);
      free(c->w[i].w_hh);
      free(c->w[i].b_ih);
      free(c->w[i].b_hh);
      free(c->w[i].w_hr);
    }
  }
  free(c->w);
  free(c->lengths);
  free(c->x);
  free(c->h0);
  free(c->c0);
  free(c->y);
  free(c->hT);
  free(c->cT);
  c->w = NULL;
  c->lengths = NULL;
  c->x = c->h0 = c->c0 = c->y = c->hT = c->cT = NULL;
}

static const char *base_name(const char *path, char *buf, size_t len) {
  const char *s = strrchr(path, '/');
  s = s ? s + 1 : path;
  snprintf(buf, len, "%s", s);
  char *dot = strrchr(buf, '.');
  if (dot != NULL && strcmp(dot, ".bin") == 0) *dot = '\0';
  return buf;
}

int golden_load_path(const char *path, golden_case *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  if (err != NULL && err_len > 0) err[0] = '\0';
  unsigned char *data = NULL;
  size_t size = 0;
  int rc = read_all(path, &data, &size, err, err_len);
  if (rc != GOLDEN_OK) return rc;

  golden_case g;
  memset(&g, 0, sizeof g);
  base_name(path, g.name, sizeof g.name);
  cursor c = {data, size, path, err, err_len, GOLDEN_OK};

  if (!take(&c, 8, "magic")) goto fail;
  if (memcmp(c.p, GOLDEN_MAGIC, 8) != 0) {
    set_err(err, err_len, "golden: %s: bad magic (not an rnnk golden file)", path);
    c.rc = GOLDEN_EFORMAT;
    goto fail;
  }
  c.p += 8;
  c.left -= 8;
  int32_t hdr[GOLDEN_HEADER_INTS];
  for (int i = 0; i < GOLDEN_HEADER_INTS; i++) hdr[i] = get_i32(&c, "header");
  if (c.rc != GOLDEN_OK) goto fail;
  if (hdr[0] != GOLDEN_VERSION) {
    set_err(err, err_len, "golden: %s: version %d, reader knows %d", path, (int)hdr[0],
            GOLDEN_VERSION);
    c.rc = GOLDEN_EFORMAT;
    goto fail;
  }
  g.cell = hdr[1];
  g.input_size = hdr[2];
  g.hidden_size = hdr[3];
  g.proj_size = hdr[4];
  g.num_layers = hdr[5];
  g.bidir = hdr[6];
  g.T = hdr[7];
  g.N = hdr[8];
  g.batch_first = hdr[9];
  g.has_lengths = hdr[10];
  g.has_h0 = hdr[11];
  int ok = g.cell >= GOLDEN_RNN_TANH && g.cell <= GOLDEN_GRU;
  ok = ok && g.input_size > 0 && g.input_size <= GOLDEN_MAX_DIM;
  ok = ok && g.hidden_size > 0 && g.hidden_size <= GOLDEN_MAX_DIM;
  ok = ok && g.proj_size >= 0 && g.proj_size < g.hidden_size;
  ok = ok && (g.proj_size == 0 || g.cell == GOLDEN_LSTM);
  ok = ok && g.num_layers > 0 && g.num_layers <= 64;
  ok = ok && (g.bidir == 0 || g.bidir == 1);
  ok = ok && g.T > 0 && g.T <= GOLDEN_MAX_DIM && g.N > 0 && g.N <= GOLDEN_MAX_DIM;
  ok = ok && (g.batch_first == 0 || g.batch_first == 1);
  ok = ok && (g.has_lengths == 0 || g.has_lengths == 1);
  ok = ok && (g.has_h0 == 0 || g.has_h0 == 1);
  if (!ok) {
    set_err(err, err_len,
            "golden: %s: bad header (cell %d I %d H %d P %d L %d bidir %d T %d N %d bf %d "
            "len %d h0 %d)",
            path, g.cell, g.input_size, g.hidden_size, g.proj_size, g.num_layers, g.bidir, g.T,
            g.N, g.batch_first, g.has_lengths, g.has_h0);
    c.rc = GOLDEN_EFORMAT;
    goto fail;
  }
  g.dirs = g.bidir ? 2 : 1;
  g.gates = g.cell == GOLDEN_LSTM ? 4 : g.cell == GOLDEN_GRU ? 3 : 1;
  g.state_size = g.proj_size > 0 ? g.proj_size : g.hidden_size;
  const size_t T = (size_t)g.T, N = (size_t)g.N, H = (size_t)g.hidden_size;
  const size_t S = (size_t)g.state_size, LD = (size_t)g.num_layers * (size_t)g.dirs;
  const size_t GH = (size_t)g.gates * H;
  const int is_lstm = g.cell == GOLDEN_LSTM;
  g.x_count = T * N * (size_t)g.input_size;
  g.y_count = T * N * (size_t)g.dirs * S;
  g.h_count = LD * N * S;
  g.c_count = is_lstm ? LD * N * H : 0;

  if (g.has_lengths) {
    g.lengths = malloc(N * sizeof(int));
    if (g.lengths == NULL) {
      c.rc = GOLDEN_ENOMEM;
      set_err(err, err_len, "golden: out of memory for %s", path);
      goto fail;
    }
    for (size_t n = 0; n < N; n++) {
      g.lengths[n] = get_i32(&c, "lengths");
      if (c.rc == GOLDEN_OK && (g.lengths[n] < 0 || g.lengths[n] > g.T)) {
        set_err(err, err_len, "golden: %s: lengths[%zu] = %d outside 0..%d", path, n,
                g.lengths[n], g.T);
        c.rc = GOLDEN_EFORMAT;
      }
    }
    if (c.rc != GOLDEN_OK) goto fail;
  }
  g.x = get_f32(&c, g.x_count, "x");
  if (g.has_h0) {
    g.h0 = get_f32(&c, g.h_count, "h0");
    if (is_lstm) g.c0 = get_f32(&c, g.c_count, "c0");
  }
  if (c.rc != GOLDEN_OK) goto fail;
  g.w = calloc(LD, sizeof *g.w);
  if (g.w == NULL) {
    c.rc = GOLDEN_ENOMEM;
    set_err(err, err_len, "golden: out of memory for %s", path);
    goto fail;
  }
  for (size_t l = 0; l < (size_t)g.num_layers; l++) {
    for (size_t d = 0; d < (size_t)g.dirs; d++) {
      golden_weights *w = &g.w[l * (size_t)g.dirs + d];
      w->k = l == 0 ? g.input_size : g.dirs * g.state_size;
      w->w_ih = get_f32(&c, GH * (size_t)w->k, "weight_ih");
      w->w_hh = get_f32(&c, GH * S, "weight_hh");
      w->b_ih = get_f32(&c, GH, "bias_ih");
      w->b_hh = get_f32(&c, GH, "bias_hh");
      if (g.proj_size > 0) w->w_hr = get_f32(&c, (size_t)g.proj_size * H, "weight_hr");
    }
  }
  g.y = get_f32(&c, g.y_count, "y");
  g.hT = get_f32(&c, g.h_count, "hT");
  if (is_lstm) g.cT = get_f32(&c, g.c_count, "cT");
  if (c.rc != GOLDEN_OK) goto fail;
  if (c.left != 0) {
    set_err(err, err_len, "golden: %s: %zu trailing bytes", path, c.left);
    c.rc = GOLDEN_EFORMAT;
    goto fail;
  }
  free(data);
  *out = g;
  return GOLDEN_OK;

fail:
  free(data);
  golden_free(&g);
  return c.rc != GOLDEN_OK ? c.rc : GOLDEN_EFORMAT;
}

int golden_load(const char *name, golden_case *out, char *err, size_t err_len) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%s.bin", golden_dir(), name);
  if (n < 0 || (size_t)n >= sizeof path) {
    memset(out, 0, sizeof *out);
    set_err(err, err_len, "golden: path too long for case %s", name);
    return GOLDEN_EOPEN;
  }
  return golden_load_path(path, out, err, err_len);
}

void golden_free_names(char **names, int count) {
  if (names == NULL) return;
  for (int i = 0; i < count; i++) free(names[i]);
  free(names);
}

int golden_list(char ***names, char *err, size_t err_len) {
  *names = NULL;
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/cases.txt", golden_dir());
  if (n < 0 || (size_t)n >= sizeof path) {
    set_err(err, err_len, "golden: path too long");
    return GOLDEN_EOPEN;
  }
  unsigned char *data = NULL;
  size_t size = 0;
  int rc = read_all(path, &data, &size, err, err_len);
  if (rc != GOLDEN_OK) return rc;
  int count = 0, cap = 0;
  char **list = NULL;
  size_t i = 0;
  while (i < size) {
    size_t j = i;
    while (j < size && data[j] != '\n') j++;
    size_t len = j;
    while (len > i && (data[len - 1] == '\r' || data[len - 1] == ' ')) len--;
    if (len > i && data[i] != '#') {
      if (count == cap) {
        cap = cap ? cap * 2 : 32;
        char **nl = realloc(list, (size_t)cap * sizeof *nl);
        if (nl == NULL) goto nomem;
        list = nl;
      }
      list[count] = malloc(len - i + 1);
      if (list[count] == NULL) goto nomem;
      memcpy(list[count], data + i, len - i);
      list[count][len - i] = '\0';
      count++;
    }
    i = j + 1;
  }
  free(data);
  *names = list;
  return count;

nomem:
  free(data);
  golden_free_names(list, count);
  set_err(err, err_len, "golden: out of memory reading %s", path);
  return GOLDEN_ENOMEM;
}
