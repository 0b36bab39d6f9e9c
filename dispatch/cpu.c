/* CPU detection, the usable-ISA set and the RNNK_ISA cap.
 *
 * Compiled with baseline flags only: this file decides whether the AVX2 /
 * AVX-512 code may run at all, so it must itself run everywhere.
 * x86-64: CPUID + XGETBV by hand (a CPU bit alone is not enough: the OS has
 * to save the YMM/ZMM state, which XCR0 tells). aarch64: getauxval(AT_HWCAP).
 * Everything is detected once (pthread_once) and read-only afterwards. */
#include "rnnk_config.h"

#if defined(__has_include)
#if __has_include("src/internal.h")
#include "src/internal.h"
#define RNNK_CPU_HAVE_INTERNAL_H 1
#endif
#endif

#include "cpu.h"
#include "rnnk.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h> /* snprintf only: the library never prints */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#ifndef RNNK_CPU_HAVE_INTERNAL_H
/* Thread-local error message, defined in src/error.c. */
extern void rnnk_set_error(const char *fmt, ...);
#endif

#if defined(RNNK_HAVE_AVX2) && RNNK_HAVE_AVX2
#define CPU_HAVE_AVX2 1
#else
#define CPU_HAVE_AVX2 0
#endif
#if defined(RNNK_HAVE_AVX512) && RNNK_HAVE_AVX512
#define CPU_HAVE_AVX512 1
#else
#define CPU_HAVE_AVX512 0
#endif
#if defined(RNNK_HAVE_NEON) && RNNK_HAVE_NEON
#define CPU_HAVE_NEON 1
#else
#define CPU_HAVE_NEON 0
#endif

/* What the CPU needs for each ISA; the OS bits make it "usable", not just present. */
#define NEED_AVX2 ((uint64_t)(RNNK_CPU_AVX2 | RNNK_CPU_FMA | RNNK_CPU_OS_YMM))
#define NEED_AVX512                                                                                \
  ((uint64_t)(RNNK_CPU_AVX512F | RNNK_CPU_AVX512BW | RNNK_CPU_AVX512DQ | RNNK_CPU_AVX512VL |       \
              RNNK_CPU_FMA | RNNK_CPU_OS_YMM | RNNK_CPU_OS_ZMM))
#define NEED_NEON ((uint64_t)RNNK_CPU_NEON)

/* How RNNK_ISA was taken. */
typedef enum cap_state {
  CAP_UNSET = 0, /* no RNNK_ISA in the environment */
  CAP_AUTO,      /* "auto" or empty: no cap */
  CAP_HONOURED,  /* a cap at or below the best usable ISA */
  CAP_ABOVE,     /* a cap above what the CPU, OS and build allow: caps nothing */
  CAP_FOREIGN,   /* an ISA of another architecture */
  CAP_UNKNOWN,   /* not an ISA name */
} cap_state;

typedef struct cpu_state {
  rnnk_cpu_id id;
  uint64_t raw; /* CPU bits before the OS check (for the report) */
  bool is_x86;
  bool osxsave; /* CPUID.1:ECX.OSXSAVE, i.e. XGETBV may be executed */
  uint64_t xcr0;
  unsigned long hwcap;
  unsigned mask;   /* 1u << isa for each usable ISA */
  rnnk_isa best;   /* best usable ISA, ignoring the cap */
  rnnk_isa active; /* best capped by RNNK_ISA */
  cap_state cap;
  rnnk_isa cap_isa; /* the ISA named by RNNK_ISA, if any */
  char cap_text[32];
} cpu_state;

static cpu_state g_cpu;
static pthread_once_t g_cpu_once = PTHREAD_ONCE_INIT;

static const char *const feature_names[64] = {
    [0] = "fma",      [1] = "avx2",       [2] = "avx512f",    [3] = "avx512bw", [4] = "avx512dq",
    [5] = "avx512vl", [6] = "avx512bf16", [7] = "avx512fp16", [8] = "avxvnni",  [9] = "neon",
    [10] = "neondot", [16] = "os-ymm",    [17] = "os-zmm",
};

/* ------------------------------------------------------------------ */
/* Small helpers (no stdio streams: files are read with read(2))       */
/* ------------------------------------------------------------------ */

/* Read up to len-1 bytes of a (possibly /proc, size 0) file; "" on failure. */
static size_t read_text(const char *path, char *buf, size_t len) {
  size_t n = 0;
  buf[0] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  while (n + 1 < len) {
    ssize_t r = read(fd, buf + n, len - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  return n;
}

/* Copy src into dst (size len), trimmed of surrounding blanks, NUL-terminated. */
static void copy_trim(char *dst, size_t len, const char *src, size_t n) {
  while (n > 0 && (*src == ' ' || *src == '\t'))
    src++, n--;
  while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\t' || src[n - 1] == '\n' ||
                   src[n - 1] == '\r' || src[n - 1] == '\0'))
    n--;
  if (n >= len) n = len - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Value of the first "key<blanks>: value" line of /proc/cpuinfo text; false if absent. */
static bool cpuinfo_field(const char *text, const char *key, char *out, size_t len) {
  size_t klen = strlen(key);
  for (const char *line = text; line && *line;
       line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    if (strncmp(line, key, klen) != 0) continue;
    const char *p = line + klen;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != ':') continue;
    p++;
    const char *end = strchr(p, '\n');
    copy_trim(out, len, p, end ? (size_t)(end - p) : strlen(p));
    return true;
  }
  return false;
}

/* "48K", "2048K", "32M" -> KiB; 0 if unparsable. */
static unsigned parse_kib(const char *s) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s) return 0;
  if (*end == 'M' || *end == 'm')
    v *= 1024;
  else if (*end == 'G' || *end == 'g')
    v *= 1024 * 1024;
  else if (*end != 'K' && *end != 'k')
    v /= 1024; /* plain bytes */
  return v > 0xffffffffUL ? 0 : (unsigned)v;
}

/* Fill the cache sizes still unknown from sysfs (works on any Linux arch). */
static void caches_from_sysfs(rnnk_cpu_id *id) {
  for (int i = 0; i < 16; i++) {
    char path[96], level[16], type[32], size[32];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    if (read_text(path, level, sizeof level) == 0) continue;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
    read_text(path, type, sizeof type);
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    read_text(path, size, sizeof size);
    if (strncmp(type, "Instruction", 11) == 0) continue;
    unsigned kib = parse_kib(size);
    int lv = atoi(level);
    if (lv == 1 && id->l1d_kib == 0) id->l1d_kib = kib;
    if (lv == 2 && id->l2_kib == 0) id->l2_kib = kib;
    if (lv == 3 && id->l3_kib == 0) id->l3_kib = kib;
  }
}

/* ------------------------------------------------------------------ */
/* x86-64                                                              */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__)
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

/* Deterministic cache parameters (leaf 4 on Intel, 0x8000001D on AMD share the format). */
static void caches_from_cpuid(rnnk_cpu_id *id, unsigned leaf) {
  for (unsigned sub = 0; sub < 32; sub++) {
    unsigned r[4];
    cpuid(leaf, sub, r);
    unsigned type = r[0] & 0x1f; /* 0 none, 1 data, 2 instruction, 3 unified */
    if (type == 0) break;
    if (type == 2) continue;
    unsigned level = (r[0] >> 5) & 7;
    uint64_t bytes = (uint64_t)((r[1] >> 22) + 1) * (((r[1] >> 12) & 0x3ff) + 1) *
                     ((r[1] & 0xfff) + 1) * ((uint64_t)r[2] + 1);
    unsigned kib = (unsigned)(bytes / 1024);
    if (level == 1 && id->l1d_kib == 0) id->l1d_kib = kib;
    if (level == 2 && id->l2_kib == 0) id->l2_kib = kib;
    if (level == 3 && id->l3_kib == 0) id->l3_kib = kib;
  }
}

static void detect_x86(cpu_state *s) {
  rnnk_cpu_id *id = &s->id;
  unsigned r[4];
  s->is_x86 = true;
  unsigned max_leaf = (unsigned)__get_cpuid_max(0, NULL);
  if (max_leaf == 0) return;
  cpuid(0, 0, r);
  memcpy(id->vendor, &r[1], 4);
  memcpy(id->vendor + 4, &r[3], 4);
  memcpy(id->vendor + 8, &r[2], 4);
  id->vendor[12] = '\0';

  cpuid(1, 0, r);
  unsigned base_family = (r[0] >> 8) & 0xf, base_model = (r[0] >> 4) & 0xf;
  id->stepping = (int)(r[0] & 0xf);
  id->family = (int)base_family + (base_family == 0xf ? (int)((r[0] >> 20) & 0xff) : 0);
  id->model = (int)base_model +
              ((base_family == 6 || base_family == 0xf) ? (int)(((r[0] >> 16) & 0xf) << 4) : 0);
  uint64_t raw = 0;
  if (r[2] & (1u << 12)) raw |= RNNK_CPU_FMA;
  s->osxsave = (r[2] & (1u << 27)) != 0;
  bool avx = (r[2] & (1u << 28)) != 0;

  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    unsigned max_sub = r[0];
    if (r[1] & (1u << 5)) raw |= RNNK_CPU_AVX2;
    if (r[1] & (1u << 16)) raw |= RNNK_CPU_AVX512F;
    if (r[1] & (1u << 17)) raw |= RNNK_CPU_AVX512DQ;
    if (r[1] & (1u << 30)) raw |= RNNK_CPU_AVX512BW;
    if (r[1] & (1u << 31)) raw |= RNNK_CPU_AVX512VL;
    if (r[3] & (1u << 23)) raw |= RNNK_CPU_AVX512FP16;
    if (max_sub >= 1) {
      cpuid(7, 1, r);
      if (r[0] & (1u << 5)) raw |= RNNK_CPU_AVX512BF16;
      if (r[0] & (1u << 4)) raw |= RNNK_CPU_AVXVNNI;
    }
  }

  /* XCR0: which register state the OS saves on a context switch. */
  uint64_t os = 0;
  if (s->osxsave) {
    s->xcr0 = xgetbv0();
    if (avx && (s->xcr0 & 0x6) == 0x6) os |= RNNK_CPU_OS_YMM;
    if ((os & RNNK_CPU_OS_YMM) && (s->xcr0 & 0xe6) == 0xe6) os |= RNNK_CPU_OS_ZMM;
  }
  s->raw = raw | os;
  uint64_t usable = os;
  const uint64_t vex = RNNK_CPU_FMA | RNNK_CPU_AVX2 | RNNK_CPU_AVXVNNI;
  const uint64_t evex = RNNK_CPU_AVX512F | RNNK_CPU_AVX512BW | RNNK_CPU_AVX512DQ |
                        RNNK_CPU_AVX512VL | RNNK_CPU_AVX512BF16 | RNNK_CPU_AVX512FP16;
  if (os & RNNK_CPU_OS_YMM) usable |= raw & vex;
  if (os & RNNK_CPU_OS_ZMM) usable |= raw & evex;
  id->features = usable;

  /* Brand string, e.g. "Intel(R) Xeon(R) Platinum 8480+". */
  unsigned max_ext = (unsigned)__get_cpuid_max(0x80000000, NULL);
  if (max_ext >= 0x80000004) {
    char brand[49];
    for (unsigned i = 0; i < 3; i++) {
      cpuid(0x80000002 + i, 0, r);
      memcpy(brand + 16 * i, r, 16);
    }
    brand[48] = '\0';
    copy_trim(id->model_name, sizeof id->model_name, brand, strlen(brand));
  }

  bool amd = strcmp(id->vendor, "AuthenticAMD") == 0 || strcmp(id->vendor, "HygonGenuine") == 0;
  if (amd) {
    bool topo_ext = false;
    if (max_ext >= 0x80000001) {
      cpuid(0x80000001, 0, r);
      topo_ext = (r[2] & (1u << 22)) != 0;
    }
    if (topo_ext && max_ext >= 0x8000001d) caches_from_cpuid(id, 0x8000001d);
    /* Legacy AMD leaves: L1d in 0x80000005, L2/L3 in 0x80000006. */
    if (id->l1d_kib == 0 && max_ext >= 0x80000005) {
      cpuid(0x80000005, 0, r);
      id->l1d_kib = r[2] >> 24;
    }
    if (id->l2_kib == 0 && max_ext >= 0x80000006) {
      cpuid(0x80000006, 0, r);
      id->l2_kib = r[2] >> 16;
      if (id->l3_kib == 0) id->l3_kib = (r[3] >> 18) * 512;
    }
  } else if (max_leaf >= 4) {
    caches_from_cpuid(id, 4);
  }
}
#endif /* __x86_64__ */

/* ------------------------------------------------------------------ */
/* aarch64                                                             */
/* ------------------------------------------------------------------ */

#if defined(__aarch64__)
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif

static const char *arm_implementer(unsigned long impl) {
  switch (impl) {
  case 0x41: return "ARM";
  case 0x42: return "Broadcom";
  case 0x43: return "Cavium";
  case 0x46: return "Fujitsu";
  case 0x48: return "HiSilicon";
  case 0x4e: return "NVIDIA";
  case 0x50: return "APM";
  case 0x51: return "Qualcomm";
  case 0x61: return "Apple";
  case 0x6d: return "Microsoft";
  case 0xc0: return "Ampere";
  default: return NULL;
  }
}

static void detect_arm64(cpu_state *s, const char *cpuinfo) {
  rnnk_cpu_id *id = &s->id;
#if defined(__linux__)
  s->hwcap = getauxval(AT_HWCAP);
#endif
  uint64_t f = 0;
  if (s->hwcap & HWCAP_ASIMD) f |= RNNK_CPU_NEON;
  if (s->hwcap & HWCAP_ASIMDDP) f |= RNNK_CPU_NEON_DOT;
  s->raw = f;
  id->features = f;

  char v[64];
  unsigned long impl = 0, part = 0;
  if (cpuinfo_field(cpuinfo, "CPU implementer", v, sizeof v)) impl = strtoul(v, NULL, 0);
  if (cpuinfo_field(cpuinfo, "CPU part", v, sizeof v)) part = strtoul(v, NULL, 0);
  if (cpuinfo_field(cpuinfo, "CPU architecture", v, sizeof v)) id->family = atoi(v);
  if (cpuinfo_field(cpuinfo, "CPU revision", v, sizeof v)) id->stepping = atoi(v);
  id->model = (int)part;
  const char *name = arm_implementer(impl);
  if (name)
    snprintf(id->vendor, sizeof id->vendor, "%s", name);
  else if (impl)
    snprintf(id->vendor, sizeof id->vendor, "0x%02lx", impl);
  if (id->model_name[0] == '\0' && part)
    snprintf(id->model_name, sizeof id->model_name, "%s part 0x%03lx r%d",
             id->vendor[0] ? id->vendor : "arm64", part, id->stepping);
}
#endif /* __aarch64__ */

/* ------------------------------------------------------------------ */
/* ISA choice                                                          */
/* ------------------------------------------------------------------ */

static const char *const isa_names[] = {"auto", "scalar", "avx2", "avx512", "neon"};
#define ISA_COUNT ((int)(sizeof isa_names / sizeof isa_names[0]))

static bool isa_valid(rnnk_isa isa) { return (int)isa >= 0 && (int)isa < ISA_COUNT; }

/* Does this build's architecture have the ISA at all? */
static bool isa_native(rnnk_isa isa) {
  switch (isa) {
  case RNNK_ISA_SCALAR: return true;
#if defined(__x86_64__)
  case RNNK_ISA_AVX2:
  case RNNK_ISA_AVX512: return true;
#endif
#if defined(__aarch64__)
  case RNNK_ISA_NEON: return true;
#endif
  default: return false;
  }
}

static bool isa_compiled(rnnk_isa isa) {
  switch (isa) {
  case RNNK_ISA_SCALAR: return true;
  case RNNK_ISA_AVX2: return CPU_HAVE_AVX2;
  case RNNK_ISA_AVX512: return CPU_HAVE_AVX512;
  case RNNK_ISA_NEON: return CPU_HAVE_NEON;
  default: return false;
  }
}

static uint64_t isa_needs(rnnk_isa isa) {
  switch (isa) {
  case RNNK_ISA_AVX2: return NEED_AVX2;
  case RNNK_ISA_AVX512: return NEED_AVX512;
  case RNNK_ISA_NEON: return NEED_NEON;
  default: return 0;
  }
}

static bool isa_cpu_can(rnnk_isa isa, uint64_t features) {
  if (isa == RNNK_ISA_SCALAR) return true;
  if (!isa_native(isa)) return false;
  uint64_t need = isa_needs(isa);
  return need != 0 && (features & need) == need;
}

int rnnk_isa_level(rnnk_isa isa) {
  switch (isa) {
  case RNNK_ISA_SCALAR: return 0;
  case RNNK_ISA_AVX2:
  case RNNK_ISA_NEON: return 1;
  case RNNK_ISA_AVX512: return 2;
  default: return -1;
  }
}

/* Best first; only the native ones are ever usable. */
static const rnnk_isa isa_order[] = {RNNK_ISA_AVX512, RNNK_ISA_AVX2, RNNK_ISA_NEON,
                                     RNNK_ISA_SCALAR};

static rnnk_isa best_at_most(unsigned mask, int level) {
  for (size_t i = 0; i < sizeof isa_order / sizeof isa_order[0]; i++) {
    rnnk_isa isa = isa_order[i];
    if ((mask & (1u << isa)) && rnnk_isa_level(isa) <= level) return isa;
  }
  return RNNK_ISA_SCALAR;
}

static void read_cap(cpu_state *s) {
  const char *env = getenv("RNNK_ISA");
  s->cap = CAP_UNSET;
  s->cap_isa = RNNK_ISA_AUTO;
  s->active = s->best;
  if (!env) return;
  /* Keep a printable copy for the report. */
  size_t n = 0;
  for (; env[n] && n + 1 < sizeof s->cap_text; n++)
    s->cap_text[n] = (env[n] >= 0x20 && env[n] < 0x7f) ? env[n] : '?';
  s->cap_text[n] = '\0';

  char word[16];
  size_t w = 0;
  const char *p = env;
  while (*p == ' ' || *p == '\t')
    p++;
  for (; *p && *p != ' ' && *p != '\t' && w + 1 < sizeof word; p++)
    word[w++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
  word[w] = '\0';
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p) { /* trailing junk, or longer than any name */
    s->cap = CAP_UNKNOWN;
    return;
  }
  if (w == 0 || strcmp(word, "auto") == 0) {
    s->cap = CAP_AUTO;
    return;
  }
  rnnk_isa isa = RNNK_ISA_AUTO;
  for (int i = RNNK_ISA_SCALAR; i < ISA_COUNT; i++)
    if (strcmp(word, isa_names[i]) == 0) isa = (rnnk_isa)i;
  if (isa == RNNK_ISA_AUTO) {
    s->cap = CAP_UNKNOWN;
    return;
  }
  s->cap_isa = isa;
  if (!isa_native(isa)) {
    s->cap = CAP_FOREIGN;
    return;
  }
  if (rnnk_isa_level(isa) > rnnk_isa_level(s->best)) {
    s->cap = CAP_ABOVE; /* a cap may only lower */
    return;
  }
  s->cap = CAP_HONOURED;
  s->active = best_at_most(s->mask, rnnk_isa_level(isa));
}

static void detect_once(void) {
  cpu_state *s = &g_cpu;
  memset(s, 0, sizeof *s);
  char cpuinfo[16384];
  read_text("/proc/cpuinfo", cpuinfo, sizeof cpuinfo);
#if defined(__x86_64__)
  detect_x86(s);
#elif defined(__aarch64__)
  detect_arm64(s, cpuinfo);
#endif
  if (s->id.model_name[0] == '\0' &&
      !cpuinfo_field(cpuinfo, "model name", s->id.model_name, sizeof s->id.model_name))
    cpuinfo_field(cpuinfo, "Processor", s->id.model_name, sizeof s->id.model_name);
  if (s->id.vendor[0] == '\0')
    cpuinfo_field(cpuinfo, "vendor_id", s->id.vendor, sizeof s->id.vendor);
  if (s->id.l1d_kib == 0 || s->id.l2_kib == 0 || s->id.l3_kib == 0) caches_from_sysfs(&s->id);

  s->mask = 1u << RNNK_ISA_SCALAR;
  for (int i = RNNK_ISA_SCALAR + 1; i < ISA_COUNT; i++)
    if (isa_compiled((rnnk_isa)i) && isa_cpu_can((rnnk_isa)i, s->id.features)) s->mask |= 1u << i;
  s->best = best_at_most(s->mask, 2);
  read_cap(s);
}

static const cpu_state *cpu(void) {
  pthread_once(&g_cpu_once, detect_once);
  return &g_cpu;
}

/* ------------------------------------------------------------------ */
/* Public and internal API                                             */
/* ------------------------------------------------------------------ */

RNNK_API uint64_t rnnk_cpu_features(void) { return cpu()->id.features; }

RNNK_API bool rnnk_isa_supported(rnnk_isa isa) {
  if (isa == RNNK_ISA_AUTO) return true;
  if (!isa_valid(isa)) return false;
  return (cpu()->mask & (1u << isa)) != 0;
}

RNNK_API rnnk_isa rnnk_active_isa(void) { return cpu()->active; }

RNNK_API const char *rnnk_isa_name(rnnk_isa isa) {
  return isa_valid(isa) ? isa_names[isa] : "unknown";
}

void rnnk_cpu_identity(rnnk_cpu_id *id) {
  if (id) *id = cpu()->id;
}

unsigned rnnk_isa_mask(void) { return cpu()->mask; }

rnnk_isa rnnk_isa_cap_env(void) {
  const cpu_state *s = cpu();
  return (s->cap == CAP_HONOURED || s->cap == CAP_ABOVE) ? s->cap_isa : RNNK_ISA_AUTO;
}

/* Bounded appender: always NUL-terminated, silently truncates. */
typedef struct out_buf {
  char *buf;
  size_t len, pos;
} out_buf;

__attribute__((format(printf, 2, 3))) static void out(out_buf *o, const char *fmt, ...) {
  if (o->pos + 1 >= o->len) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
  va_end(ap);
  if (n < 0) {
    o->buf[o->pos] = '\0';
    return;
  }
  size_t room = o->len - o->pos - 1;
  o->pos += (size_t)n < room ? (size_t)n : room;
}

static void out_features(out_buf *o, uint64_t f) {
  bool any = false;
  for (int b = 0; b < 64; b++)
    if ((f >> b & 1) && feature_names[b]) {
      out(o, " %s", feature_names[b]);
      any = true;
    }
  if (!any) out(o, " (none)");
  out(o, "\n");
}

/* One line saying why a native ISA above scalar is not usable. */
static void out_why_not(out_buf *o, const cpu_state *s, rnnk_isa isa) {
  out(o, "  %s: unavailable: ", isa_names[isa]);
  if (!isa_compiled(isa)) {
    out(o, "not compiled in (the compiler could not build it)\n");
    return;
  }
  uint64_t need = isa_needs(isa) & ~(uint64_t)(RNNK_CPU_OS_YMM | RNNK_CPU_OS_ZMM);
  uint64_t lacking = need & ~s->raw;
  if (lacking) {
    out(o, "the CPU lacks");
    out_features(o, lacking);
    return;
  }
  if (s->is_x86 && !s->osxsave) {
    out(o, "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE = 0)\n");
  } else if (s->is_x86 && !(s->id.features & RNNK_CPU_OS_YMM)) {
    out(o, "the OS does not save YMM state (XCR0 & 0x6 != 0x6)\n");
  } else if (s->is_x86 && isa == RNNK_ISA_AVX512 && !(s->id.features & RNNK_CPU_OS_ZMM)) {
    out(o, "the OS does not save opmask/ZMM state (XCR0 & 0xe6 != 0xe6)\n");
  } else {
    out(o, "not usable\n");
  }
}

RNNK_API rnnk_status rnnk_isa_report(char *buf, size_t len) {
  if (!buf || len == 0) {
    rnnk_set_error("rnnk_isa_report: %s", !buf ? "buf is NULL" : "len is 0");
    return RNNK_EINVAL;
  }
  const cpu_state *s = cpu();
  const rnnk_cpu_id *id = &s->id;
  out_buf o = {buf, len, 0};
  buf[0] = '\0';

  out(&o, "cpu: %s, %s (family %d, model 0x%x, stepping %d)\n",
      id->vendor[0] ? id->vendor : "unknown vendor",
      id->model_name[0] ? id->model_name : "unknown model", id->family, (unsigned)id->model,
      id->stepping);
  out(&o, "caches: L1d %u KiB, L2 %u KiB, L3 %u KiB (0 = unknown)\n", id->l1d_kib, id->l2_kib,
      id->l3_kib);
  out(&o, "features (CPU):");
  out_features(&o, s->raw & ~(uint64_t)(RNNK_CPU_OS_YMM | RNNK_CPU_OS_ZMM));
  out(&o, "features (usable under this OS):");
  out_features(&o, id->features);
  if (s->is_x86) {
    if (s->osxsave)
      out(&o, "xcr0: 0x%llx (YMM state %s, opmask/ZMM state %s)\n", (unsigned long long)s->xcr0,
          (s->xcr0 & 0x6) == 0x6 ? "saved: AVX/AVX2/FMA usable" : "NOT saved: no AVX",
          (s->xcr0 & 0xe6) == 0xe6 ? "saved: AVX-512 usable" : "NOT saved: no AVX-512");
    else
      out(&o, "xcr0: unavailable (OSXSAVE off): no AVX, no AVX-512\n");
  } else {
    out(&o, "xcr0: n/a (not x86-64)");
#if defined(__aarch64__)
    out(&o, "; hwcap: 0x%lx", s->hwcap);
#endif
    out(&o, "\n");
  }

  out(&o, "compiled in:");
  for (int i = RNNK_ISA_SCALAR; i < ISA_COUNT; i++)
    if (isa_compiled((rnnk_isa)i)) out(&o, " %s", isa_names[i]);
  out(&o, "\nusable:");
  for (int i = RNNK_ISA_SCALAR; i < ISA_COUNT; i++)
    if (s->mask & (1u << i)) out(&o, " %s", isa_names[i]);
  out(&o, "\n");
  for (int i = RNNK_ISA_SCALAR + 1; i < ISA_COUNT; i++)
    if (isa_native((rnnk_isa)i) && !(s->mask & (1u << i))) out_why_not(&o, s, (rnnk_isa)i);

  switch (s->cap) {
  case CAP_UNSET: out(&o, "RNNK_ISA: unset\n"); break;
  case CAP_AUTO: out(&o, "RNNK_ISA=%s: no cap\n", s->cap_text); break;
  case CAP_HONOURED: out(&o, "RNNK_ISA=%s: honoured\n", s->cap_text); break;
  case CAP_ABOVE:
    out(&o, "RNNK_ISA=%s: ignored: above what this CPU, OS and build allow (best: %s)\n",
        s->cap_text, isa_names[s->best]);
    break;
  case CAP_FOREIGN:
    out(&o, "RNNK_ISA=%s: ignored: %s is not an ISA of this architecture\n", s->cap_text,
        isa_names[s->cap_isa]);
    break;
  case CAP_UNKNOWN:
    out(&o, "RNNK_ISA=%s: ignored: unknown value (expected scalar|avx2|avx512|neon)\n",
        s->cap_text);
    break;
  }

  out(&o, "chosen ISA: %s (", isa_names[s->active]);
  if (s->cap == CAP_HONOURED && s->active != s->best)
    out(&o, "the best available, %s, capped by RNNK_ISA=%s", isa_names[s->best], s->cap_text);
  else if (s->cap == CAP_HONOURED)
    out(&o, "the best available, within the RNNK_ISA cap");
  else
    out(&o, "the best this CPU, OS and build allow");
  out(&o, ")\n");
  return RNNK_OK;
}
