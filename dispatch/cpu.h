/* CPU detection and the RNNK_ISA cap: internal interface.
 *
 * Built with baseline flags only. Everything here is detected once
 * (pthread_once) and read-only afterwards, so any thread may call it.
 * The public half (rnnk_cpu_features, rnnk_active_isa, ...) is in rnnk.h. */
#ifndef RNNK_DISPATCH_CPU_H
#define RNNK_DISPATCH_CPU_H

#include <stdint.h>

#include "rnnk.h"

#include "src/visibility.h"

/** Who this CPU is: the tune cache keys on it, `rnnk info` prints it. */
typedef struct rnnk_cpu_id {
  char vendor[16];                  /**< "GenuineIntel", "AuthenticAMD", "ARM", ... */
  char model_name[64];              /**< brand string (x86) or /proc/cpuinfo */
  int family, model, stepping;      /**< x86: display family/model; arm64: arch, part, revision */
  uint64_t features;                /**< rnnk_cpu_features() */
  unsigned l1d_kib, l2_kib, l3_kib; /**< 0 if unknown */
} rnnk_cpu_id;

/** Copy of the identity detected at first use. */
RNNK_INTERNAL void rnnk_cpu_identity(rnnk_cpu_id *id);

/** Bit (1u << isa) for every ISA this CPU and OS can run and this build
 *  compiled in; RNNK_ISA_SCALAR is always set, RNNK_ISA_AUTO never. */
RNNK_INTERNAL unsigned rnnk_isa_mask(void);

/** The RNNK_ISA cap in force: RNNK_ISA_AUTO when unset, unknown or ignored
 *  (an ISA of another architecture), else the ISA named. A cap above the
 *  CPU is still returned: it caps nothing, rnnk_active_isa() says so. */
RNNK_INTERNAL rnnk_isa rnnk_isa_cap_env(void);

/** Rank of an ISA within its architecture (scalar 0, avx2/neon 1, avx512 2);
 *  -1 for RNNK_ISA_AUTO or a value outside the enum. */
RNNK_INTERNAL int rnnk_isa_level(rnnk_isa isa);

#endif /* RNNK_DISPATCH_CPU_H */
