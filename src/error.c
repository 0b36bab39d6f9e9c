/* Status strings, the thread-local error detail, and small allocation helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "src/internal.h"

static _Thread_local char last_error[512];

RNNK_API const char *rnnk_strerror(rnnk_status s) {
  switch (s) {
  case RNNK_OK: return "success";
  case RNNK_EINVAL: return "invalid argument";
  case RNNK_ENOMEM: return "out of memory";
  case RNNK_ENOTSUP: return "not supported";
  case RNNK_EIO: return "input/output error";
  case RNNK_EFORMAT: return "malformed file";
  case RNNK_ESTALE: return "stale file (other CPU or library version)";
  case RNNK_ESTATE: return "invalid state";
  }
  return "unknown status";
}

RNNK_API const char *rnnk_last_error(void) { return last_error; }

void rnnk_clear_error(void) { last_error[0] = '\0'; }

void rnnk_set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
}

rnnk_status rnnk_fail(rnnk_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return s;
}

RNNK_API const char *rnnk_version(void) { return RNNK_VERSION; }

bool rnnk_mul_ok(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return false;
  *out = a * b;
  return true;
}

void *rnnk_alloc_pages(size_t bytes) {
  enum { HUGE_PAGE = 2u << 20 };
  if (bytes < HUGE_PAGE) return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
  if (bytes > SIZE_MAX - HUGE_PAGE) return NULL;
  const size_t len = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
  void *p = aligned_alloc(HUGE_PAGE, len);
#ifdef MADV_HUGEPAGE
  if (p) madvise(p, len, MADV_HUGEPAGE); /* advice only: failure leaves 4 KiB pages */
#endif
  return p;
}

float *rnnk_falloc_uninit(size_t n) {
  size_t bytes;
  if (!rnnk_mul_ok(n ? n : 1, sizeof(float), &bytes)) return NULL;
  return rnnk_alloc_pages(bytes);
}

float *rnnk_falloc(size_t n) {
  float *p = rnnk_falloc_uninit(n);
  if (p) memset(p, 0, (n ? n : 1) * sizeof(float));
  return p;
}

void rnnk_free(void *p) { free(p); }
