/* Tune cache: round-trip, layering, stale and malformed files refused whole
 * with the old state kept, concurrent writers, lock-free readers. Each
 * Criterion test runs in its own process, so the lazily loaded cache state
 * starts empty in every test; every test gets its own temp directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* gcc 12 reports pointers into strings built by these tests as dangling
 * (a known false positive with Criterion's assertion macros). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rnnk.h"
#include "tune/cache.h"

static char dir[256];
static char user_file[512], sys_file[512];

static void setup(void) {
  snprintf(dir, sizeof dir, "%s/rnnk-tune-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(user_file, sizeof user_file, "%s/user/tune.txt", dir);
  snprintf(sys_file, sizeof sys_file, "%s/sys.txt", dir);
  setenv("RNNK_TUNE_CACHE", user_file, 1);
  setenv("RNNK_TUNE_SYSTEM_CACHE", sys_file, 1);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f) {
  (void)sb, (void)flag, (void)f;
  return remove(p);
}

static void teardown(void) {
  if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(tune_cache, .init = setup, .fini = teardown);

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* A distinct valid key per (who, i); the value is derived from the key so
 * any reader can check what it got. */
static rnnk_tune_key key_of(int who, int i) {
  rnnk_tune_key k = {.isa = RNNK_ISA_SCALAR + (i % 3), .cell = i % 4, .dtype = RNNK_F32,
                     .hidden = 1000 * (who + 1) + i, .input_bucket = rnnk_tune_bucket(1 + i % 700),
                     .batch_bucket = rnnk_tune_bucket(1 + i % 33), .threads = 1 + i % 8,
                     .variant = i % 5};
  return k;
}

static rnnk_tune_value val_of(const rnnk_tune_key *k, int salt) {
  rnnk_tune_value v = {.unit = 8 * (1 + k->hidden % 7), .batch_tile = k->hidden % 5,
                       .k_block = 64 * (k->hidden % 4), .time_chunk = k->threads,
                       .split = k->hidden & 1, .ms = 0.001 * k->hidden + salt / 3.0,
                       .ms_default = k->hidden / 7.0 + 1e-5};
  return v;
}

static bool val_eq(const rnnk_tune_value *a, const rnnk_tune_value *b) {
  return a->unit == b->unit && a->batch_tile == b->batch_tile && a->k_block == b->k_block &&
         a->time_chunk == b->time_chunk && a->split == b->split && a->ms == b->ms &&
         a->ms_default == b->ms_default;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "open %s", path);
  cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
  cr_assert_eq(fclose(f), 0);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* A valid file (this process's header) holding entries (who, 0..n-1). */
static char *valid_text(int who, int n) {
  rnnk_tune_entry *e = calloc((size_t)n + 1, sizeof *e);
  for (int i = 0; i < n; i++) {
    e[i].key = key_of(who, i);
    e[i].val = val_of(&e[i].key, 0);
  }
  char *text = NULL;
  size_t len = 0;
  cr_assert_eq(rnnk_tune_cache_format(NULL, e, (size_t)n, &text, &len), RNNK_OK);
  cr_assert_eq(strlen(text), len);
  free(e);
  return text;
}

/* Copy of s with the first `from` replaced by `to` (must occur). */
static char *replace(const char *s, const char *from, const char *to) {
  const char *at = strstr(s, from);
  cr_assert_not_null(at, "'%s' not in text", from);
  size_t a = (size_t)(at - s), fl = strlen(from), tl = strlen(to), sl = strlen(s);
  char *r = malloc(sl - fl + tl + 1);
  memcpy(r, s, a);
  memcpy(r + a, to, tl);
  memcpy(r + a + tl, at + fl, sl - a - fl + 1);
  return r;
}

static void report(char *buf, size_t len) { cr_assert_eq(rnnk_tune_report(buf, len), RNNK_OK); }

static bool has(int who, int i, int salt) {
  rnnk_tune_key k = key_of(who, i);
  rnnk_tune_value want = val_of(&k, salt), got;
  return rnnk_tune_cache_lookup(&k, &got) == RNNK_OK && val_eq(&got, &want);
}

static void put(int who, int i, int salt) {
  rnnk_tune_key k = key_of(who, i);
  rnnk_tune_value v = val_of(&k, salt);
  cr_assert_eq(rnnk_tune_cache_put(&k, &v), RNNK_OK, "%s", rnnk_last_error());
}

/* Runs fn in a child (fresh cache state is inherited, so call it before the
 * parent touches the cache) and asserts it exited 0. */
static void in_child(void (*fn)(void *), void *arg) {
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    fn(arg);
    _exit(0);
  }
  int ws;
  cr_assert_eq(waitpid(pid, &ws, 0), pid);
  cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child failed (status %d)", ws);
}

static void child_save_50(void *path) {
  for (int i = 0; i < 50; i++) {
    rnnk_tune_key k = key_of(0, i);
    rnnk_tune_value v = val_of(&k, 0);
    if (rnnk_tune_cache_put(&k, &v) != RNNK_OK) _exit(2);
  }
  if (rnnk_tune_save(path) != RNNK_OK) _exit(3);
}

/* This process's CPU line with the value of `key` replaced. */
static void other_cpu(char *buf, size_t len, const char *key, const char *value) {
  const char *id = rnnk_tune_cache_identity();
  char pat[32];
  snprintf(pat, sizeof pat, "%s=", key);
  const char *at = strstr(id, pat);
  cr_assert_not_null(at, "no %s in '%s'", key, id);
  const char *end = strchr(at, ' ');
  snprintf(buf, len, "%.*s%s%s%s", (int)(at - id), id, pat, value, end ? end : "");
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

Test(tune_cache, bucket) {
  const int in[] = {-5, 0, 1, 2, 3, 4, 5, 63, 64, 65, 4095, 4096, 4097, 1 << 30};
  const int out[] = {1, 1, 1, 2, 4, 4, 8, 64, 64, 128, 4096, 4096, 4096, 4096};
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
    cr_expect_eq(rnnk_tune_bucket(in[i]), out[i], "bucket(%d)", in[i]);
}

Test(tune_cache, round_trip) {
  in_child(child_save_50, user_file);
  cr_assert_eq(access(user_file, R_OK), 0);
  /* The parent's cache is untouched so far: the lazy default load (the same
   * path, via RNNK_TUNE_CACHE) must bring all 50 back bit-exact. */
  for (int i = 0; i < 50; i++) cr_expect(has(0, i, 0), "entry %d", i);
  rnnk_tune_key k = key_of(0, 50);
  rnnk_tune_value v;
  cr_expect_eq(rnnk_tune_cache_lookup(&k, &v), RNNK_EINVAL);
  char buf[4096];
  report(buf, sizeof buf);
  cr_expect(strstr(buf, "loaded 50 entries"), "%s", buf);
  cr_expect(strstr(buf, user_file), "%s", buf);

  /* Explicit load of a copy; and text -> parse -> format is the identity. */
  char *text = read_text(user_file);
  rnnk_tune_entry *e = NULL;
  size_t n = 0;
  cr_assert_eq(rnnk_tune_cache_parse(text, strlen(text), "x", NULL, &e, &n, NULL, 0), RNNK_OK);
  cr_assert_eq(n, 50);
  char *again = NULL;
  size_t len;
  cr_assert_eq(rnnk_tune_cache_format(NULL, e, n, &again, &len), RNNK_OK);
  cr_expect_str_eq(again, text);
  char copy[600];
  snprintf(copy, sizeof copy, "%s/copy.txt", dir);
  write_text(copy, text);
  cr_expect_eq(rnnk_tune_load(copy), RNNK_OK, "%s", rnnk_last_error());
  /* No temp file left behind. */
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", user_file, (long)getpid());
  cr_expect_neq(access(tmp, F_OK), 0);
  free(text), free(e), free(again);
}

Test(tune_cache, file_is_readable_text) {
  put(0, 1, 0);
  cr_assert_eq(rnnk_tune_save(NULL), RNNK_OK, "%s", rnnk_last_error());
  char *text = read_text(user_file);
  cr_assert_not_null(text);
  cr_expect(strncmp(text, "# rnnk tune cache", 17) == 0, "%s", text);
  cr_expect(strstr(text, "\nrnnk-tune-cache 1\nlibrary "), "%s", text);
  cr_expect(strstr(text, "\ncpu vendor="), "%s", text);
  cr_expect(strstr(text, "entry isa=avx2 cell=jordan dtype=f32 hidden=1001 "), "%s", text);
  cr_expect(strstr(text, "\nend 1\n"), "%s", text);
  free(text);
}

Test(tune_cache, layering_user_wins) {
  /* system: keys 0,1 (salt 1); user: keys 1,2 (salt 2). */
  rnnk_tune_entry e[3];
  for (int i = 0; i < 3; i++) e[i].key = key_of(0, i);
  for (int i = 0; i < 2; i++) e[i].val = val_of(&e[i].key, 1);
  char *sys = NULL, *usr = NULL;
  size_t len;
  cr_assert_eq(rnnk_tune_cache_format(NULL, e, 2, &sys, &len), RNNK_OK);
  for (int i = 1; i < 3; i++) e[i].val = val_of(&e[i].key, 2);
  cr_assert_eq(rnnk_tune_cache_format(NULL, e + 1, 2, &usr, &len), RNNK_OK);
  write_text(sys_file, sys);
  char udir[600];
  snprintf(udir, sizeof udir, "%s/user", dir);
  mkdir(udir, 0755);
  write_text(user_file, usr);

  cr_expect(has(0, 0, 1), "system entry visible");
  cr_expect(has(0, 1, 2), "user entry wins over system");
  cr_expect(has(0, 2, 2), "user-only entry visible");
  char buf[4096];
  report(buf, sizeof buf);
  cr_expect(strstr(buf, "system file"), "%s", buf);
  cr_expect(strstr(buf, sys_file), "%s", buf);
  cr_expect(strstr(buf, "(1 from the system file)"), "%s", buf);

  /* Saving does not copy system entries into the user's file. */
  put(0, 3, 0);
  cr_assert_eq(rnnk_tune_save(NULL), RNNK_OK, "%s", rnnk_last_error());
  char *text = read_text(user_file);
  rnnk_tune_entry *got = NULL;
  size_t n = 0;
  cr_assert_eq(rnnk_tune_cache_parse(text, strlen(text), "u", NULL, &got, &n, NULL, 0), RNNK_OK);
  cr_expect_eq(n, 3, "user file keeps keys 1,2,3 only, got %zu", n);
  for (size_t i = 0; i < n; i++) cr_expect_neq(got[i].key.hidden, key_of(0, 0).hidden);
  free(sys), free(usr), free(text), free(got);
}

Test(tune_cache, default_path_xdg_then_home) {
  unsetenv("RNNK_TUNE_CACHE");
  char xdg[600], path[700];
  snprintf(xdg, sizeof xdg, "%s/xdg", dir);
  setenv("XDG_CACHE_HOME", xdg, 1);
  put(0, 0, 0);
  cr_assert_eq(rnnk_tune_save(NULL), RNNK_OK, "%s", rnnk_last_error());
  snprintf(path, sizeof path, "%s/rnnk/tune.txt", xdg);
  cr_expect_eq(access(path, R_OK), 0, "%s created with parents", path);

  unsetenv("XDG_CACHE_HOME");
  char home[600];
  snprintf(home, sizeof home, "%s/home", dir);
  setenv("HOME", home, 1);
  cr_assert_eq(rnnk_tune_save(NULL), RNNK_OK, "%s", rnnk_last_error());
  snprintf(path, sizeof path, "%s/.cache/rnnk/tune.txt", home);
  cr_expect_eq(access(path, R_OK), 0, "%s created with parents", path);

  unsetenv("HOME");
  cr_expect_eq(rnnk_tune_save(NULL), RNNK_EIO, "no default path at all");
}

Test(tune_cache, stale_cpu_ignored_whole) {
  in_child(child_save_50, user_file); /* a file made on "this" CPU */
  setenv("RNNK_TUNE_CACHE", "", 1);   /* and keep the lazy load away from it */
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  put(1, 7, 0);

  char other[512];
  other_cpu(other, sizeof other, "model", "4242");
  rnnk_tune_cache_set_identity_for_test(other);
  cr_expect_eq(rnnk_tune_load(user_file), RNNK_ESTALE);
  cr_expect(strstr(rnnk_last_error(), "model"), "%s", rnnk_last_error());
  cr_expect(!has(0, 0, 0), "nothing from a stale file");
  cr_expect(has(1, 7, 0), "old state kept");
  char buf[4096];
  report(buf, sizeof buf);
  cr_expect(strstr(buf, "ignored: "), "%s", buf);
  cr_expect(strstr(buf, "stale: CPU model differs"), "%s", buf);
  cr_expect(strstr(buf, "4242"), "%s", buf);

  rnnk_tune_cache_set_identity_for_test(NULL);
  other_cpu(other, sizeof other, "l2_kib", "1");
  rnnk_tune_cache_set_identity_for_test(other);
  cr_expect_eq(rnnk_tune_load(user_file), RNNK_ESTALE);
  cr_expect(strstr(rnnk_last_error(), "l2_kib"), "%s", rnnk_last_error());

  rnnk_tune_cache_set_identity_for_test(NULL);
  cr_expect_eq(rnnk_tune_load(user_file), RNNK_OK, "%s", rnnk_last_error());
  cr_expect(has(0, 0, 0) && has(0, 49, 0) && has(1, 7, 0));
}

Test(tune_cache, stale_library_and_kernels) {
  char *text = valid_text(0, 3), path[600];
  snprintf(path, sizeof path, "%s/edited.txt", dir);
  const struct {
    const char *field, *why;
  } cases[] = {{"\nlibrary ", "written by library 0.0.0-other"},
               {"\nkernels ", "kernel set"},
               {"\ncpu vendor=", "CPU vendor differs"}};
  for (int c = 0; c < 3; c++) {
    /* Replace the field's value: cut to end of line. */
    const char *at = strstr(text, cases[c].field);
    cr_assert_not_null(at);
    const char *eol = strchr(at + 1, '\n');
    char *edited = malloc(strlen(text) + 64);
    size_t a = (size_t)(at - text);
    memcpy(edited, text, a);
    if (c == 2) {
      const char *sp = strchr(at + strlen(cases[c].field), ' ');
      sprintf(edited + a, "\ncpu vendor=Elsewhere%s", sp);
    } else {
      sprintf(edited + a, "%s%s", c == 0 ? "\nlibrary 0.0.0-other" : "\nkernels other-kernels", eol);
    }
    write_text(path, edited);
    cr_expect_eq(rnnk_tune_load(path), RNNK_ESTALE, "case %d", c);
    char buf[4096];
    report(buf, sizeof buf);
    cr_expect(strstr(buf, cases[c].why), "case %d: %s", c, buf);
    cr_expect(!has(0, 0, 0));
    free(edited);
  }
  free(text);
}

/* A stale header is reported as stale even if the entries use syntax this
 * version does not know (a newer library's file). */
Test(tune_cache, stale_before_entry_syntax) {
  char *text = valid_text(0, 1);
  char *a = replace(text, "\nlibrary ", "\nlibrary 9.9.9\nx-");
  char *b = replace(a, "\nx-", "\n#");
  char *c = replace(b, "dtype=f32", "dtype=bf16 newkey=1");
  rnnk_tune_entry *e = NULL;
  size_t n = 0;
  cr_expect_eq(rnnk_tune_cache_parse(c, strlen(c), "n", NULL, &e, &n, NULL, 0), RNNK_ESTALE);
  free(text), free(a), free(b), free(c);
}

Test(tune_cache, every_truncation_refused) {
  char *text = valid_text(0, 4);
  size_t len = strlen(text);
  for (size_t cut = 0; cut < len; cut++) {
    rnnk_tune_entry *e = NULL;
    size_t n = 0;
    char why[512];
    rnnk_status st = rnnk_tune_cache_parse(text, cut, "t", NULL, &e, &n, why, sizeof why);
    cr_expect_eq(st, RNNK_EFORMAT, "prefix of %zu bytes: status %d", cut, st);
    cr_expect_null(e);
  }
  free(text);
}

/* Each malformed variant: EFORMAT from the parser with the expected reason,
 * and from rnnk_tune_load with the in-memory state unchanged. */
Test(tune_cache, malformed_refused_old_state_kept) {
  setenv("RNNK_TUNE_CACHE", "", 1);
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  put(1, 0, 0);
  char *v = valid_text(0, 2); /* entries (0,0), (0,1): must never appear */
  char long_line[5000];
  memset(long_line, 'x', sizeof long_line);
  long_line[0] = '#';
  long_line[4097] = '\0'; /* 4097 bytes: one over */
  char *long_file = replace(v, "\nend 2\n", "\n");
  {
    char *t = malloc(strlen(long_file) + 5100);
    sprintf(t, "%s%s\nend 2\n", long_file, long_line);
    free(long_file);
    long_file = t;
  }
  const char *const k0 = "hidden=1000";
  char *dup_entry; /* the first entry line twice */
  {
    const char *at = strstr(v, "\nentry ");
    const char *eol = strchr(at + 1, '\n');
    char line[1024];
    snprintf(line, sizeof line, "%.*s\nend 3\n", (int)(eol - at), at);
    dup_entry = replace(v, "\nend 2\n", line);
  }
  struct {
    char *text;
    const char *why;
  } cases[] = {
      {strdup(""), "empty"},
      {strdup("hello world\n"), "not an rnnk tune cache"},
      {strdup("\x7f" "ELF\x02\x01\x01\n"), "byte 0x7f"},
      {strdup("rnnk-tune-cache 1\n"), "truncated: no 'end' line"},
      {replace(v, "rnnk-tune-cache 1", "rnnk-tune-cache 2"), "format version 2"},
      {replace(v, "rnnk-tune-cache 1", "rnnk-tune-cache one"), "rnnk-tune-cache <version>"},
      {long_file, "longer than 4096"},
      {replace(v, "\nlibrary", "\nlibrary 0.1.0\nlibrary"), "duplicate header field 'library'"},
      {replace(v, "\ncpu ", "\n#cpu "), "header lacks 'cpu'"},
      {replace(v, "\nkernels ", "\nkernels a b\n#"), "expected 'kernels <value>'"},
      {replace(v, "\ncpu vendor=", "\ncpu speed=1 vendor="), "cpu: unknown key 'speed'"},
      {replace(v, " family=", " family=six x"), "cpu: bad number for 'family'"},
      {replace(v, "\nend ", "\nwibble 1\nend "), "unknown keyword 'wibble'"},
      {replace(v, "\nend 2", "\nend 3"), "'end' counts 3 entries"},
      {replace(v, "\nend 2\n", "\nend 2\nend 2\n"), "'end' after 'end'"},
      {replace(v, "\nend 2\n", "\nend 2"), "no newline"},
      {replace(v, "\nend 2\n", "\n"), "no 'end' line"},
      {replace(v, "\nend 2\n", "\nend 2\r\n"), "byte 0x0d"},
      {replace(v, "\nend 2\n", "\nlibrary x\nend 2\n"), "after the entries"},
      {replace(v, k0, "hidden=12x"), "bad number for 'hidden'"},
      {replace(v, k0, "hidden="), "bad number for 'hidden'"},
      {replace(v, k0, "hidden=99999999999999999999"), "bad number for 'hidden'"},
      {replace(v, k0, "hidden=0x10"), "bad number for 'hidden'"},
      {replace(v, k0, "hidden=-4"), "hidden"},
      {replace(v, k0, "hidden=1000 hidden=1000"), "duplicate key 'hidden'"},
      {replace(v, k0, "hidden=1000 speed=3"), "unknown key 'speed'"},
      {replace(v, k0, "hidden"), "expected key=value"},
      {replace(v, k0, "bogus=1"), "unknown key 'bogus'"},
      {replace(v, " input=1 ", " input=3 "), "input (a power of two"},
      {replace(v, " threads=1 ", " threads=0 "), "threads"},
      {replace(v, " split=0 ", " split=3 "), "split"},
      {replace(v, " split=0 ", " "), "entry lacks key 'split'"},
      {replace(v, "isa=scalar", "isa=sse"), "unknown isa 'sse'"},
      {replace(v, "isa=scalar", "isa=0"), "unknown isa '0'"},
      {replace(v, "cell=elman", "cell=rnn"), "unknown cell"},
      {replace(v, "dtype=f32", "dtype=f16"), "unknown dtype"},
      {replace(v, " ms=", " ms=nan x="), "bad number for 'ms'"},
      {replace(v, " ms=", " ms=inf x="), "bad number for 'ms'"},
      {replace(v, " ms=", " ms=-1 x="), "bad number for 'ms'"},
      {replace(v, " ms=", " ms=0x1p3 x="), "bad number for 'ms'"},
      {replace(v, " ms=", " ms=1e999 x="), "bad number for 'ms'"},
      {dup_entry, "duplicate entry (same key as line"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const char *t = cases[c].text;
    rnnk_tune_entry *e = NULL;
    size_t n = 7;
    char why[1024];
    rnnk_status st = rnnk_tune_cache_parse(t, strlen(t), "m", NULL, &e, &n, why, sizeof why);
    cr_expect_eq(st, RNNK_EFORMAT, "case %zu (%s): status %d: %s", c, cases[c].why, st, why);
    cr_expect(strstr(why, cases[c].why), "case %zu: want '%s', got '%s'", c, cases[c].why, why);
    cr_expect(e == NULL && n == 7, "case %zu: outputs untouched", c);

    char path[600];
    snprintf(path, sizeof path, "%s/bad%zu.txt", dir, c);
    write_text(path, t);
    cr_expect_eq(rnnk_tune_load(path), RNNK_EFORMAT, "case %zu via load", c);
    cr_expect(strstr(rnnk_last_error(), path), "message names the file: %s", rnnk_last_error());
    cr_expect(!has(0, 0, 0) && !has(0, 1, 0), "case %zu: nothing loaded", c);
    cr_expect(has(1, 0, 0), "case %zu: old state kept", c);
    char buf[4096];
    report(buf, sizeof buf);
    cr_expect(strstr(buf, "malformed"), "case %zu: %s", c, buf);
    free(cases[c].text);
  }
  free(v);
}

Test(tune_cache, line_numbers_and_limits) {
  char *v = valid_text(0, 1);
  char *bad = replace(v, "dtype=f32", "dtype=f64");
  char why[512];
  rnnk_tune_entry *e = NULL;
  size_t n;
  cr_expect_eq(rnnk_tune_cache_parse(bad, strlen(bad), "f.txt", NULL, &e, &n, why, sizeof why),
               RNNK_EFORMAT);
  /* header comment (2 lines), version, library, kernels, cpu, model comment? */
  int line = 1;
  for (const char *s = bad; s < strstr(bad, "\nentry "); s++) line += *s == '\n';
  char want[64];
  snprintf(want, sizeof want, "f.txt:%d: unknown dtype", line + 1);
  cr_expect(strstr(why, want), "want '%s' in '%s'", want, why);

  /* A 4096-byte comment line is fine; comments and blank lines anywhere. */
  char *ok = malloc(strlen(v) + 4200);
  char comment[4097];
  memset(comment, 'c', 4096);
  comment[0] = '#';
  comment[4096] = '\0';
  sprintf(ok, "\n  \t\n# lead\n%s\n%s# trailing\n\n", comment, v);
  cr_expect_eq(rnnk_tune_cache_parse(ok, strlen(ok), "ok", NULL, &e, &n, why, sizeof why), RNNK_OK,
               "%s", why);
  cr_expect_eq(n, 1);

  /* A NUL byte is refused, not taken as the end of the text. */
  size_t vl = strlen(v);
  char *nul = malloc(vl + 1);
  memcpy(nul, v, vl + 1);
  nul[strstr(v, "\nentry ") - v + 3] = '\0';
  free(e);
  e = NULL;
  cr_expect_eq(rnnk_tune_cache_parse(nul, vl, "z", NULL, &e, &n, why, sizeof why), RNNK_EFORMAT);
  cr_expect(strstr(why, "byte 0x00"), "%s", why);
  free(e), free(v), free(bad), free(ok), free(nul);
}

static void child_writer(void *arg) {
  int who = *(int *)arg;
  for (int i = 0; i < 200; i++) {
    rnnk_tune_key k = key_of(who, i);
    rnnk_tune_value v = val_of(&k, who);
    if (rnnk_tune_cache_put(&k, &v) != RNNK_OK) _exit(2);
    if (rnnk_tune_save(user_file) != RNNK_OK) _exit(3);
    if (i % 10 == 9 && rnnk_tune_load(user_file) != RNNK_OK) _exit(4);
  }
}

Test(tune_cache, concurrent_writers_lose_nothing, .timeout = 300) {
  int who[2] = {0, 1};
  pid_t pid[2];
  for (int c = 0; c < 2; c++) {
    pid[c] = fork();
    cr_assert_neq(pid[c], -1);
    if (pid[c] == 0) {
      child_writer(&who[c]);
      _exit(0);
    }
  }
  for (int c = 0; c < 2; c++) {
    int ws;
    cr_assert_eq(waitpid(pid[c], &ws, 0), pid[c]);
    cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "writer %d status %d", c, ws);
  }
  char *text = read_text(user_file);
  cr_assert_not_null(text);
  rnnk_tune_entry *e = NULL;
  size_t n = 0;
  char why[512];
  cr_assert_eq(rnnk_tune_cache_parse(text, strlen(text), "c", NULL, &e, &n, why, sizeof why),
               RNNK_OK, "%s", why);
  cr_expect_eq(n, 400, "entries on disk: %zu", n);
  for (int w = 0; w < 2; w++)
    for (int i = 0; i < 200; i++) cr_expect(has(w, i, w), "writer %d entry %d", w, i);
  /* Only the file and its lock remain: no temp files. */
  char udir[600];
  snprintf(udir, sizeof udir, "%s/user", dir);
  DIR *d = opendir(udir);
  cr_assert_not_null(d);
  for (struct dirent *de; (de = readdir(d));)
    cr_expect(strstr(de->d_name, ".tmp.") == NULL, "left over %s", de->d_name);
  closedir(d);
  free(text), free(e);
}

/* Readers never see a half-built table while a writer keeps replacing it. */
static atomic_bool stop;
static atomic_long bad_reads, found_reads;

static void *reader(void *arg) {
  (void)arg;
  while (!atomic_load(&stop))
    for (int i = 0; i < 1000; i += 7) {
      rnnk_tune_key k = key_of(2, i);
      rnnk_tune_value v, want = val_of(&k, 0);
      if (rnnk_tune_cache_lookup(&k, &v) == RNNK_OK) {
        atomic_fetch_add(&found_reads, 1);
        if (!val_eq(&v, &want)) atomic_fetch_add(&bad_reads, 1);
      }
    }
  return NULL;
}

Test(tune_cache, readers_lock_free_during_puts) {
  pthread_t th[4];
  for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&th[i], NULL, reader, NULL), 0);
  for (int i = 0; i < 1000; i++) put(2, i, 0);
  atomic_store(&stop, true);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  cr_expect_eq(atomic_load(&bad_reads), 0);
  for (int i = 0; i < 1000; i++) cr_expect(has(2, i, 0), "entry %d", i);
}

Test(tune_cache, null_and_empty_arguments) {
  char buf[64];
  cr_expect_eq(rnnk_tune_load(""), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_save(""), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_report(NULL, 10), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_report(buf, 0), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_report(buf, 8), RNNK_OK, "a short buffer is truncated");
  cr_expect_eq(strlen(buf), 7);
  rnnk_tune_key k = key_of(0, 0);
  rnnk_tune_value v = val_of(&k, 0);
  cr_expect_eq(rnnk_tune_cache_lookup(NULL, &v), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_cache_lookup(&k, NULL), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_cache_lookup(&k, &v), RNNK_EINVAL, "empty cache");
  cr_expect_eq(rnnk_tune_cache_put(NULL, &v), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_cache_put(&k, NULL), RNNK_EINVAL);
  rnnk_tune_key bad = k;
  bad.input_bucket = 3;
  cr_expect_eq(rnnk_tune_cache_put(&bad, &v), RNNK_EINVAL);
  bad = k;
  bad.isa = RNNK_ISA_AUTO;
  cr_expect_eq(rnnk_tune_cache_put(&bad, &v), RNNK_EINVAL);
  rnnk_tune_value badv = v;
  badv.ms = -1;
  cr_expect_eq(rnnk_tune_cache_put(&k, &badv), RNNK_EINVAL);
  rnnk_tune_entry *e = NULL;
  size_t n = 0;
  cr_expect_eq(rnnk_tune_cache_parse(NULL, 0, NULL, NULL, &e, &n, NULL, 0), RNNK_EFORMAT);
  cr_expect_eq(rnnk_tune_cache_parse(NULL, 5, NULL, NULL, &e, &n, NULL, 0), RNNK_EINVAL);

  /* Missing files: an explicit path is an error, the default ones are not. */
  char missing[600];
  snprintf(missing, sizeof missing, "%s/nope.txt", dir);
  cr_expect_eq(rnnk_tune_load(missing), RNNK_EIO);
  cr_expect_eq(rnnk_tune_load(NULL), RNNK_OK, "%s", rnnk_last_error());
  char rep[4096];
  report(rep, sizeof rep);
  cr_expect(strstr(rep, "not found"), "%s", rep);
  /* A directory is not a cache file. */
  cr_expect_eq(rnnk_tune_load(dir), RNNK_EIO);
}

Test(tune_cache, save_replaces_stale_file_and_reports) {
  in_child(child_save_50, user_file);
  char *text = read_text(user_file);
  char *stale = replace(text, "\nlibrary ", "\nlibrary 0.0.1\n#");
  write_text(user_file, stale); /* now lazily ignored as stale */
  put(1, 1, 0);
  cr_assert_eq(rnnk_tune_save(NULL), RNNK_OK, "%s", rnnk_last_error());
  char buf[4096];
  report(buf, sizeof buf);
  cr_expect(strstr(buf, "stale: written by library 0.0.1"), "%s", buf);
  cr_expect(strstr(buf, "replaced a stale or malformed file"), "%s", buf);
  char *now = read_text(user_file);
  cr_expect(strstr(now, "\nend 1\n"), "%s", now);
  free(text), free(stale), free(now);
}
