/* The tune cache: in-memory table, text file reader and writer.
 *
 * File syntax (also docs/tune-cache.md). Line-based ASCII; every line ends
 * in '\n' and is at most 4096 bytes; fields are separated by spaces or
 * tabs; blank lines and lines starting with '#' are comments, anywhere.
 *
 *   rnnk-tune-cache 1                       format version: must come first
 *   library 0.1.0                           RNNK_VERSION of the writer
 *   kernels <token>                         fingerprint of the kernel set
 *   cpu vendor=GenuineIntel family=6 model=143 stepping=8
 *       isa=fma,avx2,avx512f,...,os_ymm,os_zmm l1d_kib=48 l2_kib=2048 l3_kib=107520
 *                                           (one line in the file)
 *   entry isa=avx512 cell=lstm dtype=f32 hidden=512 input=512 batch=1
 *       threads=1 variant=0 unit=32 batch_tile=0 k_block=0 time_chunk=0
 *       split=0 use_isa=same ms=0.153 ms_default=0.201   (one line per entry;
 *       use_isa names the ISA that won when it is not the key's own)
 *   end 1                                   number of entries: proves the
 *                                           file was not cut short
 *
 * The three header lines (any order, each exactly once) sit between the
 * version line and the first entry. ISA, cell and dtype are written by
 * name, never by enum index, so reordering an enum cannot silently remap
 * a file. input and batch are buckets (rnnk_tune_bucket). Every entry key
 * is required exactly once; 0 in a tile field means "default".
 *
 * Reading is strict and all-or-nothing: any syntax error, unknown keyword
 * or key, bad number, value out of range, duplicate header field or entry,
 * wrong format version, a missing 'end' or a count that disagrees gives
 * RNNK_EFORMAT with "file:line: why". A well-formed header whose library
 * version, kernel fingerprint or CPU identity differs from this process
 * gives RNNK_ESTALE naming the field (checked as soon as the header is
 * complete, so a newer library's entry syntax reads as stale, not as
 * malformed). In both cases nothing in memory changes.
 *
 * Memory: the table is an immutable sorted array published through an
 * atomic pointer; writers (put/load) build a new one under a mutex. Old
 * tables are kept on a list until exit, so a reader never needs a lock and
 * never sees a half-built table. Entries from the system file are marked
 * so rnnk_tune_save() does not copy them into the user's file.
 *
 * Writing: flock on "<path>.lock", re-read the file on disk and merge (our
 * entries win), write "<path>.tmp.<pid>", fsync, rename, fsync the
 * directory. Concurrent writers therefore lose no entry. Numbers are read
 * and written in the C locale whatever the application's locale is. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv, uselocale */
#endif
#include "tune/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dispatch/cpu.h"
#include "rnnk_config.h"
#include "src/internal.h"

#ifndef RNNK_DATADIR
#define RNNK_DATADIR "/usr/local/share" /* meson should define prefix/datadir */
#endif

#define FORMAT_VERSION 1
#define MAX_LINE 4096
#define MAX_FILE (16u << 20) /* a real cache is a few KiB */
#define MAX_TOKENS 32
#define WHY_LEN 1024

/* Messages: truncation is fine (vsnprintf also keeps gcc's
 * -Wformat-truncation quiet about long paths). */
__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Names and ranges                                                    */
/* ------------------------------------------------------------------ */

static const char *const isa_names[] = {
    [RNNK_ISA_SCALAR] = "scalar", [RNNK_ISA_AVX2] = "avx2",
    [RNNK_ISA_AVX512] = "avx512", [RNNK_ISA_NEON] = "neon"};
static const char *const cell_names[] = {
    [RNNK_ELMAN] = "elman", [RNNK_JORDAN] = "jordan", [RNNK_LSTM] = "lstm", [RNNK_GRU] = "gru"};
static const char *const dtype_names[] = {[RNNK_F32] = "f32"};

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int name_index(const char *const *names, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (names[i] && strcmp(names[i], s) == 0) return i;
  return -1;
}

static bool is_pow2_le(int v, int cap) { return v >= 1 && v <= cap && (v & (v - 1)) == 0; }

int rnnk_tune_bucket(int n) {
  int b = 1;
  while (b < n && b < 4096) b <<= 1;
  return b;
}

static bool check_key(const rnnk_tune_key *k, char *why, size_t len) {
  const char *bad = NULL;
  if (k->isa < RNNK_ISA_SCALAR || k->isa >= NELEM(isa_names) || !isa_names[k->isa]) bad = "isa";
  else if (k->cell < 0 || k->cell >= NELEM(cell_names)) bad = "cell";
  else if (k->dtype < 0 || k->dtype >= NELEM(dtype_names)) bad = "dtype";
  else if (k->hidden < 1 || k->hidden > (1 << 24)) bad = "hidden (1..16777216)";
  else if (!is_pow2_le(k->input_bucket, 4096)) bad = "input (a power of two <= 4096)";
  else if (!is_pow2_le(k->batch_bucket, 4096)) bad = "batch (a power of two <= 4096)";
  else if (k->threads < 1 || k->threads > 4096) bad = "threads (1..4096)";
  else if (k->variant < 0 || k->variant > 255) bad = "variant (0..255)";
  if (bad && why) say(why, len, "key out of range: %s", bad);
  return bad == NULL;
}

static bool ms_ok(double x) { return isfinite(x) && x >= 0 && x <= 1e12 && (x == 0 || x >= 1e-12); }

static bool check_value(const rnnk_tune_value *v, char *why, size_t len) {
  const char *bad = NULL;
  const int tmax = 1 << 20;
  if (v->unit < 0 || v->unit > tmax) bad = "unit (0..1048576)";
  else if (v->batch_tile < 0 || v->batch_tile > tmax) bad = "batch_tile (0..1048576)";
  else if (v->k_block < 0 || v->k_block > tmax) bad = "k_block (0..1048576)";
  else if (v->time_chunk < 0 || v->time_chunk > tmax) bad = "time_chunk (0..1048576)";
  else if (v->split < 0 || v->split > 2) bad = "split (0, 1 or 2)";
  else if (v->isa != 0 && (v->isa < RNNK_ISA_SCALAR || v->isa >= NELEM(isa_names) || !isa_names[v->isa]))
    bad = "use_isa";
  else if (!ms_ok(v->ms)) bad = "ms (0 or 1e-12..1e12)";
  else if (!ms_ok(v->ms_default)) bad = "ms_default (0 or 1e-12..1e12)";
  if (bad && why) say(why, len, "value out of range: %s", bad);
  return bad == NULL;
}

static int key_cmp(const rnnk_tune_key *a, const rnnk_tune_key *b) {
  const int fa[] = {a->cell, a->isa, a->dtype, a->hidden, a->input_bucket, a->batch_bucket, a->threads, a->variant};
  const int fb[] = {b->cell, b->isa, b->dtype, b->hidden, b->input_bucket, b->batch_bucket, b->threads, b->variant};
  for (int i = 0; i < NELEM(fa); i++)
    if (fa[i] != fb[i]) return fa[i] < fb[i] ? -1 : 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* C locale for numbers (the application may have set another)         */
/* ------------------------------------------------------------------ */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale = (locale_t)0;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Switches this thread to the C locale; returns what to restore. */
static locale_t enter_c_locale(void) {
  pthread_once(&c_locale_once, c_locale_init);
  return c_locale ? uselocale(c_locale) : (locale_t)0;
}
static void leave_c_locale(locale_t old) {
  if (old) uselocale(old);
}

/* ------------------------------------------------------------------ */
/* This process's header                                               */
/* ------------------------------------------------------------------ */

static const char *const feature_names[64] = {
    [0] = "fma", [1] = "avx2", [2] = "avx512f", [3] = "avx512bw", [4] = "avx512dq",
    [5] = "avx512vl", [6] = "avx512bf16", [7] = "avx512fp16", [8] = "avxvnni",
    [9] = "neon", [10] = "neondot", [16] = "os_ymm", [17] = "os_zmm"};

static pthread_once_t id_once = PTHREAD_ONCE_INIT;
static char id_cpu[512], id_model[80], id_library[64], id_kernels[1024];
static char id_override[512];
static atomic_bool id_overridden;

/* Header values are single tokens: anything but graphic ASCII becomes '_'. */
static void token_copy(char *dst, size_t len, const char *src, bool strict) {
  size_t i = 0;
  for (; src[i] && i + 1 < len; i++) {
    unsigned char c = (unsigned char)src[i];
    bool ok = strict ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        c == '.' || c == '-' || c == '_')
                     : (c > ' ' && c < 127);
    dst[i] = ok ? (char)c : '_';
  }
  dst[i] = '\0';
  if (i == 0) snprintf(dst, len, "none");
}

static void id_init(void) {
  rnnk_cpu_id id;
  memset(&id, 0, sizeof id);
  rnnk_cpu_identity(&id);
  char vendor[sizeof id.vendor + 1];
  id.vendor[sizeof id.vendor - 1] = '\0';
  token_copy(vendor, sizeof vendor, id.vendor, true);

  char isa[400];
  size_t n = 0;
  isa[0] = '\0';
  for (int b = 0; b < 64; b++) {
    if (!(id.features >> b & 1)) continue;
    char one[16];
    if (feature_names[b]) snprintf(one, sizeof one, "%s", feature_names[b]);
    else snprintf(one, sizeof one, "bit%d", b);
    int w = snprintf(isa + n, sizeof isa - n, "%s%s", n ? "," : "", one);
    if (w < 0 || (size_t)w >= sizeof isa - n) break;
    n += (size_t)w;
  }
  if (n == 0) snprintf(isa, sizeof isa, "none");
  snprintf(id_cpu, sizeof id_cpu,
           "vendor=%s family=%d model=%d stepping=%d isa=%s l1d_kib=%u l2_kib=%u l3_kib=%u", vendor,
           id.family, id.model, id.stepping, isa, id.l1d_kib, id.l2_kib, id.l3_kib);

  /* The brand string is informative only: written as a comment. */
  id.model_name[sizeof id.model_name - 1] = '\0';
  size_t j = 0;
  for (const char *s = id.model_name; *s && j + 1 < sizeof id_model; s++)
    id_model[j++] = (*s >= ' ' && *s < 127) ? *s : '?';
  id_model[j] = '\0';

  token_copy(id_library, sizeof id_library, RNNK_VERSION, false);
  token_copy(id_kernels, sizeof id_kernels, rnnk_kernel_fingerprint, false);
}

const char *rnnk_tune_cache_identity(void) {
  pthread_once(&id_once, id_init);
  return atomic_load(&id_overridden) ? id_override : id_cpu;
}

void rnnk_tune_cache_set_identity_for_test(const char *cpu_line) {
  if (!cpu_line) {
    atomic_store(&id_overridden, false);
    return;
  }
  snprintf(id_override, sizeof id_override, "%s", cpu_line);
  atomic_store(&id_overridden, true);
}

static rnnk_tune_header own_header(void) {
  pthread_once(&id_once, id_init);
  return (rnnk_tune_header){id_library, id_kernels, rnnk_tune_cache_identity()};
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

typedef struct parser {
  const char *name;
  int line;
  char *why;
  size_t why_len;
} parser;

__attribute__((format(printf, 3, 4))) static rnnk_status perr(parser *p, rnnk_status s,
                                                              const char *fmt, ...) {
  if (p->why && p->why_len) {
    int w = p->line > 0 ? snprintf(p->why, p->why_len, "%s:%d: ", p->name, p->line)
                        : snprintf(p->why, p->why_len, "%s: ", p->name);
    if (w >= 0 && (size_t)w < p->why_len) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(p->why + w, p->why_len - (size_t)w, fmt, ap);
      va_end(ap);
    }
  }
  return s;
}

/* Strict decimal integer: -?[0-9]+, within [lo, hi]. */
static bool parse_int(const char *s, long lo, long hi, long *out) {
  const char *d = s[0] == '-' ? s + 1 : s;
  if (!*d) return false;
  for (const char *c = d; *c; c++)
    if (*c < '0' || *c > '9') return false;
  errno = 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (errno || !end || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

/* Decimal floating point only (no inf, nan, hex); caller is in the C locale. */
static bool parse_ms(const char *s, double *out) {
  if (!*s) return false;
  for (const char *c = s; *c; c++)
    if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == 'e' || *c == 'E' || *c == '-' || *c == '+'))
      return false;
  errno = 0;
  char *end = NULL;
  double v = strtod(s, &end);
  if (errno || !end || *end || !ms_ok(v)) return false;
  *out = v;
  return true;
}

static int tokenize(char *line, char **tok, int max) {
  int n = 0;
  char *s = line;
  for (;;) {
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return n;
    if (n == max) return -1;
    tok[n++] = s;
    while (*s && *s != ' ' && *s != '\t') s++;
    if (*s) *s++ = '\0';
  }
}

enum { K_ISA, K_CELL, K_DTYPE, K_HIDDEN, K_INPUT, K_BATCH, K_THREADS, K_VARIANT, K_UNIT,
       K_BATCH_TILE, K_K_BLOCK, K_TIME_CHUNK, K_SPLIT, K_USE_ISA, K_MS, K_MS_DEFAULT, K_COUNT };
static const char *const entry_keys[K_COUNT] = {
    "isa", "cell", "dtype", "hidden", "input", "batch", "threads", "variant", "unit",
    "batch_tile", "k_block", "time_chunk", "split", "use_isa", "ms", "ms_default"};

static rnnk_status parse_entry(parser *p, char **tok, int nt, rnnk_tune_entry *e) {
  bool seen[K_COUNT] = {false};
  memset(e, 0, sizeof *e);
  for (int i = 0; i < nt; i++) {
    char *eq = strchr(tok[i], '=');
    if (!eq) return perr(p, RNNK_EFORMAT, "expected key=value, got '%.64s'", tok[i]);
    *eq = '\0';
    const char *key = tok[i], *val = eq + 1;
    int k = name_index(entry_keys, K_COUNT, key);
    if (k < 0) return perr(p, RNNK_EFORMAT, "unknown key '%.64s'", key);
    if (seen[k]) return perr(p, RNNK_EFORMAT, "duplicate key '%s'", key);
    seen[k] = true;
    long v = 0;
    bool ok = true;
    switch (k) {
    case K_ISA:
      if ((e->key.isa = name_index(isa_names, NELEM(isa_names), val)) < 0)
        return perr(p, RNNK_EFORMAT, "unknown isa '%.64s'", val);
      break;
    case K_CELL:
      if ((e->key.cell = name_index(cell_names, NELEM(cell_names), val)) < 0)
        return perr(p, RNNK_EFORMAT, "unknown cell '%.64s'", val);
      break;
    case K_DTYPE:
      if ((e->key.dtype = name_index(dtype_names, NELEM(dtype_names), val)) < 0)
        return perr(p, RNNK_EFORMAT, "unknown dtype '%.64s'", val);
      break;
    case K_USE_ISA:
      if (!strcmp(val, "same")) e->val.isa = 0;
      else if ((e->val.isa = name_index(isa_names, NELEM(isa_names), val)) < 0)
        return perr(p, RNNK_EFORMAT, "unknown use_isa '%.64s'", val);
      break;
    case K_MS: ok = parse_ms(val, &e->val.ms); break;
    case K_MS_DEFAULT: ok = parse_ms(val, &e->val.ms_default); break;
    default: {
      int *dst[K_COUNT] = {[K_HIDDEN] = &e->key.hidden, [K_INPUT] = &e->key.input_bucket,
                           [K_BATCH] = &e->key.batch_bucket, [K_THREADS] = &e->key.threads,
                           [K_VARIANT] = &e->key.variant, [K_UNIT] = &e->val.unit,
                           [K_BATCH_TILE] = &e->val.batch_tile, [K_K_BLOCK] = &e->val.k_block,
                           [K_TIME_CHUNK] = &e->val.time_chunk, [K_SPLIT] = &e->val.split};
      ok = parse_int(val, INT_MIN, INT_MAX, &v);
      if (ok) *dst[k] = (int)v;
    }
    }
    if (!ok) return perr(p, RNNK_EFORMAT, "bad number for '%s': '%.64s'", key, val);
  }
  for (int k = 0; k < K_COUNT; k++)
    if (!seen[k]) return perr(p, RNNK_EFORMAT, "entry lacks key '%s'", entry_keys[k]);
  char why[128];
  if (!check_key(&e->key, why, sizeof why) || !check_value(&e->val, why, sizeof why))
    return perr(p, RNNK_EFORMAT, "%s", why);
  return RNNK_OK;
}

/* The CPU line as key=value pairs, in this fixed order. */
enum { C_VENDOR, C_FAMILY, C_MODEL, C_STEPPING, C_ISA, C_L1D, C_L2, C_L3, C_COUNT };
static const char *const cpu_keys[C_COUNT] = {"vendor", "family", "model", "stepping",
                                              "isa", "l1d_kib", "l2_kib", "l3_kib"};

/* Splits a copy of a cpu line into its values; false with *why on error. */
static bool parse_cpu(char *line, const char **val, char *why, size_t len) {
  char *tok[MAX_TOKENS];
  int nt = tokenize(line, tok, MAX_TOKENS);
  for (int k = 0; k < C_COUNT; k++) val[k] = NULL;
  if (nt < 0) return say(why, len, "too many fields on the cpu line"), false;
  for (int i = 0; i < nt; i++) {
    char *eq = strchr(tok[i], '=');
    if (!eq) return say(why, len, "cpu: expected key=value, got '%.64s'", tok[i]), false;
    *eq = '\0';
    int k = name_index(cpu_keys, C_COUNT, tok[i]);
    if (k < 0) return say(why, len, "cpu: unknown key '%.64s'", tok[i]), false;
    if (val[k]) return say(why, len, "cpu: duplicate key '%s'", tok[i]), false;
    if (!eq[1]) return say(why, len, "cpu: empty value for '%s'", tok[i]), false;
    long v;
    if (k != C_VENDOR && k != C_ISA && !parse_int(eq + 1, k <= C_STEPPING ? INT_MIN : 0,
                                                  k <= C_STEPPING ? INT_MAX : UINT_MAX, &v))
      return say(why, len, "cpu: bad number for '%s': '%.64s'", tok[i], eq + 1), false;
    val[k] = eq + 1;
  }
  for (int k = 0; k < C_COUNT; k++)
    if (!val[k]) return say(why, len, "cpu: missing key '%s'", cpu_keys[k]), false;
  return true;
}

/* Compares a well-formed header with what this process expects. */
static rnnk_status check_header(parser *p, const char *library, const char *kernels,
                                const char *cpu, int cpu_line, const rnnk_tune_header *x) {
  p->line = 0;
  if (strcmp(library, x->library) != 0)
    return perr(p, RNNK_ESTALE, "stale: written by library %.64s, this is %.64s", library, x->library);
  if (strcmp(kernels, x->kernels) != 0)
    return perr(p, RNNK_ESTALE, "stale: kernel set %.64s differs from this library's %.64s", kernels,
                x->kernels);
  char fbuf[MAX_LINE + 1], xbuf[MAX_LINE + 1], why[160];
  const char *fv[C_COUNT], *xv[C_COUNT];
  snprintf(fbuf, sizeof fbuf, "%s", cpu);
  snprintf(xbuf, sizeof xbuf, "%s", x->cpu);
  if (!parse_cpu(fbuf, fv, why, sizeof why)) {
    p->line = cpu_line;
    return perr(p, RNNK_EFORMAT, "%s", why);
  }
  if (!parse_cpu(xbuf, xv, why, sizeof why)) /* a bad expectation: compare whole lines */
    return strcmp(cpu, x->cpu) ? perr(p, RNNK_ESTALE, "stale: cpu line differs") : RNNK_OK;
  for (int k = 0; k < C_COUNT; k++)
    if (strcmp(fv[k], xv[k]) != 0)
      return perr(p, RNNK_ESTALE, "stale: CPU %s differs (file %.200s, this host %.200s)", cpu_keys[k],
                  fv[k], xv[k]);
  return RNNK_OK;
}

typedef struct pentry {
  rnnk_tune_entry e;
  int line;
} pentry;

static int pentry_cmp(const void *a, const void *b) {
  const pentry *x = a, *y = b;
  int c = key_cmp(&x->e.key, &y->e.key);
  return c ? c : (x->line > y->line) - (x->line < y->line);
}

enum { H_LIBRARY, H_KERNELS, H_CPU, H_COUNT };
static const char *const header_keys[H_COUNT] = {"library", "kernels", "cpu"};

static rnnk_status parse_body(parser *p, const char *data, size_t len, const rnnk_tune_header *x,
                              pentry **ents, size_t *n_ents) {
  char line[MAX_LINE + 1], *tok[MAX_TOKENS];
  char header[H_COUNT][MAX_LINE + 1];
  int header_line[H_COUNT] = {0};
  enum { S_VERSION, S_HEADER, S_ENTRIES, S_END } stage = S_VERSION;
  size_t cap = 0, pos = 0;
  rnnk_status st;
  p->line = 0;
  while (pos < len) {
    p->line++;
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;
    if (ll > MAX_LINE) return perr(p, RNNK_EFORMAT, "line longer than %d bytes", MAX_LINE);
    if (!nl) return perr(p, RNNK_EFORMAT, "truncated: last line has no newline");
    for (size_t i = 0; i < ll; i++) {
      unsigned char c = (unsigned char)data[pos + i];
      if ((c < ' ' && c != '\t') || c >= 127)
        return perr(p, RNNK_EFORMAT, "byte 0x%02x in column %zu (ASCII text only)", c, i + 1);
    }
    memcpy(line, data + pos, ll);
    line[ll] = '\0';
    pos += ll + 1;

    int nt = tokenize(line, tok, MAX_TOKENS);
    if (nt < 0) return perr(p, RNNK_EFORMAT, "more than %d fields", MAX_TOKENS);
    if (nt == 0 || tok[0][0] == '#') continue;
    const char *kw = tok[0];

    if (stage == S_VERSION) {
      long v;
      if (strcmp(kw, "rnnk-tune-cache") != 0)
        return perr(p, RNNK_EFORMAT, "not an rnnk tune cache (expected 'rnnk-tune-cache %d')",
                    FORMAT_VERSION);
      if (nt != 2 || !parse_int(tok[1], LONG_MIN, LONG_MAX, &v))
        return perr(p, RNNK_EFORMAT, "expected 'rnnk-tune-cache <version>'");
      if (v != FORMAT_VERSION)
        return perr(p, RNNK_EFORMAT, "format version %ld not supported (this library reads %d)", v,
                    FORMAT_VERSION);
      stage = S_HEADER;
      continue;
    }
    int h = name_index(header_keys, H_COUNT, kw);
    if (h >= 0) {
      if (stage != S_HEADER) return perr(p, RNNK_EFORMAT, "header field '%s' after the entries", kw);
      if (header_line[h])
        return perr(p, RNNK_EFORMAT, "duplicate header field '%s' (first on line %d)", kw,
                    header_line[h]);
      if (nt < 2 || (h != H_CPU && nt != 2))
        return perr(p, RNNK_EFORMAT, "expected '%s <value>'", kw);
      /* Normalise the value to single spaces so comparisons see tokens. */
      size_t w = 0;
      header[h][0] = '\0';
      for (int i = 1; i < nt; i++)
        w += (size_t)snprintf(header[h] + w, sizeof header[h] - w, "%s%s", i > 1 ? " " : "", tok[i]);
      header_line[h] = p->line;
      continue;
    }
    bool is_entry = strcmp(kw, "entry") == 0, is_end = strcmp(kw, "end") == 0;
    if (!is_entry && !is_end) return perr(p, RNNK_EFORMAT, "unknown keyword '%.64s'", kw);
    if (stage == S_END) return perr(p, RNNK_EFORMAT, "'%s' after 'end'", kw);
    if (stage == S_HEADER) {
      for (int i = 0; i < H_COUNT; i++)
        if (!header_line[i]) return perr(p, RNNK_EFORMAT, "header lacks '%s'", header_keys[i]);
      int here = p->line;
      if ((st = check_header(p, header[H_LIBRARY], header[H_KERNELS], header[H_CPU],
                             header_line[H_CPU], x)) != RNNK_OK)
        return st;
      p->line = here;
      stage = S_ENTRIES;
    }
    if (is_end) {
      long n;
      if (nt != 2 || !parse_int(tok[1], 0, LONG_MAX, &n))
        return perr(p, RNNK_EFORMAT, "expected 'end <number of entries>'");
      if ((size_t)n != *n_ents)
        return perr(p, RNNK_EFORMAT, "'end' counts %ld entries, the file has %zu", n, *n_ents);
      stage = S_END;
      continue;
    }
    if (*n_ents == cap) {
      size_t nc = cap ? cap * 2 : 16;
      pentry *ne = realloc(*ents, nc * sizeof *ne);
      if (!ne) return perr(p, RNNK_ENOMEM, "out of memory");
      *ents = ne;
      cap = nc;
    }
    pentry *pe = &(*ents)[*n_ents];
    if ((st = parse_entry(p, tok + 1, nt - 1, &pe->e)) != RNNK_OK) return st;
    pe->line = p->line;
    (*n_ents)++;
  }
  p->line = 0;
  if (stage == S_VERSION) return perr(p, RNNK_EFORMAT, "empty: no 'rnnk-tune-cache' line");
  if (stage != S_END) return perr(p, RNNK_EFORMAT, "truncated: no 'end' line");
  if (*n_ents > 1) qsort(*ents, *n_ents, sizeof **ents, pentry_cmp); /* qsort(NULL, 0) is UB */
  for (size_t i = 1; i < *n_ents; i++)
    if (key_cmp(&(*ents)[i - 1].e.key, &(*ents)[i].e.key) == 0) {
      p->line = (*ents)[i].line;
      return perr(p, RNNK_EFORMAT, "duplicate entry (same key as line %d)", (*ents)[i - 1].line);
    }
  return RNNK_OK;
}

rnnk_status rnnk_tune_cache_parse(const char *data, size_t len, const char *name,
                                  const rnnk_tune_header *expect, rnnk_tune_entry **out,
                                  size_t *n_out, char *why, size_t why_len) {
  parser p = {name ? name : "<memory>", 0, why, why_len};
  if (why && why_len) why[0] = '\0';
  if ((!data && len) || !out || !n_out) return perr(&p, RNNK_EINVAL, "bad argument");
  rnnk_tune_header own;
  if (!expect) {
    own = own_header();
    expect = &own;
  }
  pentry *ents = NULL;
  size_t n = 0;
  locale_t old = enter_c_locale();
  rnnk_status st = parse_body(&p, data ? data : "", len, expect, &ents, &n);
  leave_c_locale(old);
  rnnk_tune_entry *res = NULL;
  if (st == RNNK_OK && n) {
    res = malloc(n * sizeof *res);
    if (!res) st = perr(&p, RNNK_ENOMEM, "out of memory");
    else
      for (size_t i = 0; i < n; i++) res[i] = ents[i].e;
  }
  free(ents);
  if (st != RNNK_OK) return st;
  *out = res;
  *n_out = n;
  return RNNK_OK;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...) {
  for (;;) {
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (w < 0) {
      b->oom = true;
      return;
    }
    if (b->p && (size_t)w < b->cap - b->n) {
      b->n += (size_t)w;
      return;
    }
    size_t nc = b->cap ? b->cap : 1024;
    while (nc - b->n <= (size_t)w) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) {
      b->oom = true;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
}

/* Shortest %g that reads back to the same double. */
static void fmt_ms(char *buf, size_t len, double x) {
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, x);
    if (strtod(buf, NULL) == x) return;
  }
}

rnnk_status rnnk_tune_cache_format(const rnnk_tune_header *h, const rnnk_tune_entry *e, size_t n,
                                   char **text, size_t *len) {
  if (!text || !len || (n && !e)) return RNNK_EINVAL;
  rnnk_tune_header own = own_header();
  if (!h) h = &own;
  for (size_t i = 0; i < n; i++)
    if (!check_key(&e[i].key, NULL, 0) || !check_value(&e[i].val, NULL, 0)) return RNNK_EINVAL;
  sbuf b = {0};
  locale_t old = enter_c_locale();
  sb_printf(&b,
            "# rnnk tune cache (format: docs/tune-cache.md). Written by rnnk_tune_save();\n"
            "# a file from another library version, kernel set or CPU is ignored whole.\n"
            "rnnk-tune-cache %d\nlibrary %s\nkernels %s\ncpu %s\n",
            FORMAT_VERSION, h->library, h->kernels, h->cpu);
  if (h == &own && !atomic_load(&id_overridden) && id_model[0])
    sb_printf(&b, "# cpu model name: %s\n", id_model);
  for (size_t i = 0; i < n; i++) {
    const rnnk_tune_key *k = &e[i].key;
    const rnnk_tune_value *v = &e[i].val;
    char ms[32], msd[32];
    fmt_ms(ms, sizeof ms, v->ms);
    fmt_ms(msd, sizeof msd, v->ms_default);
    sb_printf(&b,
              "entry isa=%s cell=%s dtype=%s hidden=%d input=%d batch=%d threads=%d variant=%d "
              "unit=%d batch_tile=%d k_block=%d time_chunk=%d split=%d use_isa=%s ms=%s ms_default=%s\n",
              isa_names[k->isa], cell_names[k->cell], dtype_names[k->dtype], k->hidden,
              k->input_bucket, k->batch_bucket, k->threads, k->variant, v->unit, v->batch_tile,
              v->k_block, v->time_chunk, v->split, v->isa ? isa_names[v->isa] : "same", ms, msd);
  }
  sb_printf(&b, "end %zu\n", n);
  leave_c_locale(old);
  if (b.oom) {
    free(b.p);
    return RNNK_ENOMEM;
  }
  *text = b.p;
  *len = b.n;
  return RNNK_OK;
}

/* ------------------------------------------------------------------ */
/* In-memory table                                                     */
/* ------------------------------------------------------------------ */

typedef struct tab_entry {
  rnnk_tune_entry e;
  bool system; /* came from the system file: not copied into the user's */
} tab_entry;

typedef struct tune_table {
  struct tune_table *retired; /* older tables, kept for readers still holding them */
  size_t n;
  tab_entry e[];
} tune_table;

static _Atomic(tune_table *) g_table;
static tune_table *g_retired;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* writers, g_src, g_save */

/* cur ∪ add (sorted, unique), add winning; NULL on out of memory. */
static tune_table *table_merge(const tune_table *cur, const rnnk_tune_entry *add, size_t n_add,
                               bool system) {
  size_t nc = cur ? cur->n : 0;
  tune_table *t = malloc(sizeof *t + (nc + n_add) * sizeof(tab_entry));
  if (!t) return NULL;
  size_t i = 0, j = 0, n = 0;
  while (i < nc || j < n_add) {
    int c = i == nc ? 1 : j == n_add ? -1 : key_cmp(&cur->e[i].e.key, &add[j].key);
    if (c < 0) {
      t->e[n++] = cur->e[i++];
    } else {
      t->e[n++] = (tab_entry){add[j++], system};
      if (c == 0) i++;
    }
  }
  t->n = n;
  t->retired = NULL;
  return t;
}

static void table_publish(tune_table *t) { /* caller holds g_mu */
  tune_table *old = atomic_exchange_explicit(&g_table, t, memory_order_acq_rel);
  if (old) {
    old->retired = g_retired;
    g_retired = old;
  }
}

/* ------------------------------------------------------------------ */
/* Paths and state for the report                                      */
/* ------------------------------------------------------------------ */

enum { SRC_SYSTEM, SRC_USER, SRC_EXPLICIT, SRC_COUNT };
static const char *const src_names[SRC_COUNT] = {"system file", "user file", "loaded file"};

typedef struct src_state {
  char path[PATH_MAX];
  bool tried, absent;
  rnnk_status st;
  size_t n;
  char why[WHY_LEN];
} src_state;

static src_state g_src[SRC_COUNT];
static char g_save[WHY_LEN + PATH_MAX];

static const char *env(const char *name) {
  const char *v = secure_getenv(name); /* a setuid program must not follow $RNNK_TUNE_CACHE */
  return v && *v ? v : NULL;
}

/* Default user path; false if there is none (no usable variable). */
static bool user_path(char *buf, size_t len) {
  const char *p = env("RNNK_TUNE_CACHE");
  int w;
  if (p) w = snprintf(buf, len, "%s", p);
  else if ((p = env("XDG_CACHE_HOME")) && p[0] == '/') w = snprintf(buf, len, "%s/rnnk/tune.txt", p);
  else if ((p = env("HOME"))) w = snprintf(buf, len, "%s/.cache/rnnk/tune.txt", p);
  else return false;
  return w > 0 && (size_t)w < len;
}

/* System path; $RNNK_TUNE_SYSTEM_CACHE overrides (set but empty: none). */
static bool system_path(char *buf, size_t len) {
  const char *p = secure_getenv("RNNK_TUNE_SYSTEM_CACHE");
  int w = p ? (p[0] ? snprintf(buf, len, "%s", p) : 0)
            : snprintf(buf, len, "%s/rnnk/tune.txt", RNNK_DATADIR);
  return w > 0 && (size_t)w < len;
}

/* Reads and parses one file. *absent: it does not exist (not an error for
 * the default paths). */
static rnnk_status read_cache_file(const char *path, rnnk_tune_entry **ents, size_t *n, bool *absent,
                                   char *why, size_t why_len) {
  *absent = false;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *absent = errno == ENOENT;
    say(why, why_len, "%s: cannot open: %s", path, strerror(errno));
    return RNNK_EIO;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    say(why, why_len, "%s: not a regular file", path);
    return RNNK_EIO;
  }
  char *data = malloc(MAX_FILE + 1);
  if (!data) {
    close(fd);
    say(why, why_len, "%s: out of memory", path);
    return RNNK_ENOMEM;
  }
  size_t got = 0;
  while (got <= MAX_FILE) {
    ssize_t r = read(fd, data + got, MAX_FILE + 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      say(why, why_len, "%s: read error: %s", path, strerror(errno));
      free(data);
      close(fd);
      return RNNK_EIO;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  rnnk_status st;
  if (got > MAX_FILE) {
    say(why, why_len, "%s: larger than %u bytes", path, MAX_FILE);
    st = RNNK_EFORMAT;
  } else {
    st = rnnk_tune_cache_parse(data, got, path, NULL, ents, n, why, why_len);
  }
  free(data);
  return st;
}

static void src_record(int which, const char *path, rnnk_status st, bool absent, size_t n,
                       const char *why) { /* caller holds g_mu */
  src_state *s = &g_src[which];
  snprintf(s->path, sizeof s->path, "%s", path ? path : "");
  s->tried = path != NULL;
  s->absent = absent;
  s->st = st;
  s->n = n;
  snprintf(s->why, sizeof s->why, "%s", st == RNNK_OK ? "" : why);
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* Loads the system file then the user file (user winning); each file is
 * all-or-nothing on its own. Returns the user file's failure, else the
 * system file's; a missing file is not a failure. */
static rnnk_status load_default(char *why, size_t why_len) {
  char path[2][PATH_MAX];
  bool have[2] = {system_path(path[0], sizeof path[0]), user_path(path[1], sizeof path[1])};
  rnnk_tune_entry *ents[2] = {NULL, NULL};
  size_t n[2] = {0, 0};
  rnnk_status st[2] = {RNNK_OK, RNNK_OK};
  bool absent[2] = {false, false};
  char w[2][WHY_LEN] = {"", ""};
  for (int i = 0; i < 2; i++)
    if (have[i]) st[i] = read_cache_file(path[i], &ents[i], &n[i], &absent[i], w[i], WHY_LEN);

  rnnk_status res = RNNK_OK;
  pthread_mutex_lock(&g_mu);
  tune_table *pub = atomic_load_explicit(&g_table, memory_order_relaxed), *t = pub;
  for (int i = 0; i < 2 && res == RNNK_OK; i++) {
    if (st[i] != RNNK_OK || !n[i]) continue;
    tune_table *nt = table_merge(t, ents[i], n[i], i == 0);
    if (t != pub) free(t); /* an intermediate, never published */
    t = nt;
    if (!t) {
      res = RNNK_ENOMEM;
      say(why, why_len, "out of memory");
    }
  }
  if (res == RNNK_OK && t != pub) table_publish(t);
  if (res == RNNK_OK) {
    src_record(SRC_SYSTEM, have[0] ? path[0] : NULL, st[0], absent[0], n[0], w[0]);
    src_record(SRC_USER, have[1] ? path[1] : NULL, st[1], absent[1], n[1], w[1]);
    for (int i = 1; i >= 0; i--)
      if (have[i] && st[i] != RNNK_OK && !absent[i]) {
        res = st[i];
        say(why, why_len, "%s", w[i]);
        break;
      }
  }
  pthread_mutex_unlock(&g_mu);
  free(ents[0]);
  free(ents[1]);
  return res;
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static rnnk_status default_status;
static char default_why[WHY_LEN];
static _Thread_local bool ran_default_here;

static void default_init(void) {
  default_status = load_default(default_why, sizeof default_why);
  ran_default_here = true;
}

static void ensure_default(void) {
  pthread_once(&default_once, default_init);
  ran_default_here = false; /* only rnnk_tune_load(NULL) may reuse that result */
}

rnnk_status rnnk_tune_cache_lookup(const rnnk_tune_key *k, rnnk_tune_value *out) {
  if (!k || !out) return RNNK_EINVAL;
  ensure_default();
  const tune_table *t = atomic_load_explicit(&g_table, memory_order_acquire);
  size_t lo = 0, hi = t ? t->n : 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = key_cmp(&t->e[mid].e.key, k);
    if (c == 0) {
      *out = t->e[mid].e.val;
      return RNNK_OK;
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return RNNK_EINVAL;
}

rnnk_status rnnk_tune_cache_put(const rnnk_tune_key *k, const rnnk_tune_value *v) {
  char why[128];
  if (!k || !v) return rnnk_fail(RNNK_EINVAL, "rnnk_tune_cache_put: NULL argument");
  if (!check_key(k, why, sizeof why) || !check_value(v, why, sizeof why))
    return rnnk_fail(RNNK_EINVAL, "rnnk_tune_cache_put: %s", why);
  ensure_default();
  rnnk_tune_entry e = {*k, *v};
  pthread_mutex_lock(&g_mu);
  tune_table *t = table_merge(atomic_load_explicit(&g_table, memory_order_relaxed), &e, 1, false);
  if (t) table_publish(t);
  pthread_mutex_unlock(&g_mu);
  return t ? RNNK_OK : rnnk_fail(RNNK_ENOMEM, "rnnk_tune_cache_put: out of memory");
}

RNNK_API rnnk_status rnnk_tune_load(const char *path) {
  if (path && !*path) return rnnk_fail(RNNK_EINVAL, "rnnk_tune_load: empty path");
  pthread_once(&default_once, default_init);
  if (!path) {
    rnnk_status st;
    char why[WHY_LEN];
    if (ran_default_here) { /* this very call did the first load: don't read twice */
      ran_default_here = false;
      st = default_status;
      say(why, sizeof why, "%s", default_why);
    } else {
      st = load_default(why, sizeof why);
    }
    if (st != RNNK_OK) rnnk_set_error("rnnk_tune_load: %s", why);
    return st;
  }
  rnnk_tune_entry *ents = NULL;
  size_t n = 0;
  bool absent;
  char why[WHY_LEN];
  rnnk_status st = read_cache_file(path, &ents, &n, &absent, why, sizeof why);
  pthread_mutex_lock(&g_mu);
  if (st == RNNK_OK && n) {
    tune_table *t = table_merge(atomic_load_explicit(&g_table, memory_order_relaxed), ents, n, false);
    if (t) table_publish(t);
    else st = RNNK_ENOMEM, say(why, sizeof why, "%s: out of memory", path);
  }
  src_record(SRC_EXPLICIT, path, st, absent, n, why);
  pthread_mutex_unlock(&g_mu);
  free(ents);
  if (st != RNNK_OK) rnnk_set_error("rnnk_tune_load: %s", why);
  return st;
}

/* ------------------------------------------------------------------ */
/* Saving                                                              */
/* ------------------------------------------------------------------ */

/* mkdir -p of the directory holding @p path. */
static bool make_parent_dirs(const char *path, char *why, size_t why_len) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return true;
  *slash = '\0';
  for (char *s = dir + 1;; s++) {
    bool last = *s == '\0';
    if (*s == '/' || last) {
      char c = *s;
      *s = '\0';
      if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        say(why, why_len, "cannot create directory %s: %s", dir, strerror(errno));
        return false;
      }
      *s = c;
    }
    if (last) return true;
  }
}

static bool write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Writes text to path atomically: temp file, fsync, rename, fsync dir. */
static bool replace_file(const char *path, const char *text, size_t len, char *why, size_t why_len) {
  char tmp[PATH_MAX + 32];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
    say(why, why_len, "%s: path too long", path);
    return false;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    say(why, why_len, "cannot create %s: %s", tmp, strerror(errno));
    return false;
  }
  bool ok = write_all(fd, text, len) && fsync(fd) == 0;
  int err = errno;
  if (close(fd) != 0 && ok) ok = false, err = errno;
  if (ok && rename(tmp, path) != 0) ok = false, err = errno;
  if (!ok) {
    say(why, why_len, "cannot write %s: %s", path, strerror(err));
    unlink(tmp);
    return false;
  }
  /* Make the rename itself durable; some file systems refuse, harmlessly. */
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
  int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return true;
}

RNNK_API rnnk_status rnnk_tune_save(const char *path) {
  char ppath[PATH_MAX], why[WHY_LEN + 64] = "";
  if (path && !*path) return rnnk_fail(RNNK_EINVAL, "rnnk_tune_save: empty path");
  if (!path) {
    if (!user_path(ppath, sizeof ppath))
      return rnnk_fail(RNNK_EIO, "rnnk_tune_save: no default path (set RNNK_TUNE_CACHE or HOME)");
    path = ppath;
  }
  ensure_default();

  /* Snapshot our entries (not the system file's): they win over the disk. */
  const tune_table *t = atomic_load_explicit(&g_table, memory_order_acquire);
  size_t nt = t ? t->n : 0, nm = 0;
  rnnk_tune_entry *mine = malloc((nt ? nt : 1) * sizeof *mine);
  if (!mine) return rnnk_fail(RNNK_ENOMEM, "rnnk_tune_save: out of memory");
  for (size_t i = 0; i < nt; i++)
    if (!t->e[i].system) mine[nm++] = t->e[i].e;

  rnnk_status st = RNNK_OK;
  char lock[PATH_MAX + 8];
  int lfd = -1;
  rnnk_tune_entry *disk = NULL;
  size_t nd = 0;
  tune_table *merged = NULL;
  char *text = NULL;
  size_t len = 0;
  const char *note = "";

  if (!make_parent_dirs(path, why, sizeof why)) goto io_fail;
  if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock) {
    say(why, sizeof why, "%s: path too long", path);
    goto io_fail;
  }
  lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0) {
    say(why, sizeof why, "cannot open lock file %s: %s", lock, strerror(errno));
    goto io_fail;
  }
  int r;
  while ((r = flock(lfd, LOCK_EX)) != 0 && errno == EINTR) {
  }
  if (r != 0) {
    say(why, sizeof why, "cannot lock %s: %s", lock, strerror(errno));
    goto io_fail;
  }

  /* Merge with what is on disk now; a stale or malformed file is replaced. */
  bool absent;
  char dwhy[WHY_LEN];
  rnnk_status ds = read_cache_file(path, &disk, &nd, &absent, dwhy, sizeof dwhy);
  if (ds == RNNK_ENOMEM) {
    st = RNNK_ENOMEM;
    say(why, sizeof why, "out of memory");
    goto done;
  }
  if (ds == RNNK_EIO && !absent) {
    say(why, sizeof why, "%s", dwhy);
    goto io_fail;
  }
  if (ds == RNNK_ESTALE || ds == RNNK_EFORMAT) note = " (replaced a stale or malformed file)";
  if (ds != RNNK_OK) nd = 0;

  tune_table base = {NULL, 0};
  tune_table *dt = nd ? table_merge(&base, disk, nd, false) : NULL;
  merged = table_merge(dt ? dt : &base, mine, nm, false);
  free(dt);
  if (!merged) {
    st = RNNK_ENOMEM;
    say(why, sizeof why, "out of memory");
    goto done;
  }
  rnnk_tune_entry *flat = malloc((merged->n ? merged->n : 1) * sizeof *flat);
  if (!flat) {
    st = RNNK_ENOMEM;
    say(why, sizeof why, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < merged->n; i++) flat[i] = merged->e[i].e;
  st = rnnk_tune_cache_format(NULL, flat, merged->n, &text, &len);
  free(flat);
  if (st != RNNK_OK) {
    say(why, sizeof why, "cannot format the cache");
    goto done;
  }
  if (!replace_file(path, text, len, why, sizeof why)) goto io_fail;
  goto done;

io_fail:
  st = RNNK_EIO;
done:
  if (lfd >= 0) close(lfd); /* releases the flock */
  pthread_mutex_lock(&g_mu);
  if (st == RNNK_OK)
    say(g_save, sizeof g_save, "saved %zu entries to %s%s", merged->n, path, note);
  else
    say(g_save, sizeof g_save, "save to %s failed: %s", path, why);
  pthread_mutex_unlock(&g_mu);
  free(text);
  free(merged);
  free(disk);
  free(mine);
  if (st != RNNK_OK) rnnk_set_error("rnnk_tune_save: %s", why);
  return st;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

RNNK_API rnnk_status rnnk_tune_report(char *buf, size_t len) {
  if (!buf || !len) return rnnk_fail(RNNK_EINVAL, "rnnk_tune_report: NULL or empty buffer");
  ensure_default();
  sbuf b = {0};
  rnnk_tune_header own = own_header();
  pthread_mutex_lock(&g_mu);
  const tune_table *t = atomic_load_explicit(&g_table, memory_order_relaxed);
  size_t n = t ? t->n : 0, nsys = 0;
  for (size_t i = 0; i < n; i++) nsys += t->e[i].system;
  sb_printf(&b, "tune cache: %zu entries in memory (%zu from the system file)\n", n, nsys);
  for (int i = 0; i < SRC_COUNT; i++) {
    const src_state *s = &g_src[i];
    if (!s->tried) {
      if (i != SRC_EXPLICIT) sb_printf(&b, "  %s: none configured\n", src_names[i]);
      continue;
    }
    sb_printf(&b, "  %s %s: ", src_names[i], s->path);
    if (s->st == RNNK_OK) sb_printf(&b, "loaded %zu entries\n", s->n);
    else if (s->absent) sb_printf(&b, "not found\n");
    else if (s->st == RNNK_ESTALE) sb_printf(&b, "ignored: %s\n", s->why);
    else if (s->st == RNNK_EFORMAT) sb_printf(&b, "ignored: malformed: %s\n", s->why);
    else sb_printf(&b, "ignored: %s\n", s->why);
  }
  if (g_save[0]) sb_printf(&b, "  last save: %s\n", g_save);
  pthread_mutex_unlock(&g_mu);
  sb_printf(&b, "  this host: library %s, kernels %s\n  cpu %s\n", own.library, own.kernels, own.cpu);
  if (b.oom) {
    free(b.p);
    return rnnk_fail(RNNK_ENOMEM, "rnnk_tune_report: out of memory");
  }
  snprintf(buf, len, "%s", b.p ? b.p : "");
  free(b.p);
  return RNNK_OK;
}
