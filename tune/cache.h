/* The tune cache: winners of rnnk_tune() keyed by shape, ISA and threads,
 * kept in memory as an immutable sorted table behind an atomic pointer and
 * stored in a text file whose header pins the library version, the kernel
 * set and the CPU (file syntax: tune/cache.c and docs/tune-cache.md).
 *
 * Public half: rnnk_tune_load / rnnk_tune_save / rnnk_tune_report (rnnk.h).
 * Everything here is internal to the library (tests link it statically). */
#ifndef RNNK_TUNE_CACHE_H
#define RNNK_TUNE_CACHE_H

#include <stddef.h>

#include "rnnk.h"

#include "src/visibility.h"

/** What a tuned result is for. Buckets come from rnnk_tune_bucket(). */
typedef struct rnnk_tune_key {
  int isa;          /**< rnnk_isa (not AUTO); written by name in the file */
  int cell;         /**< rnnk_cell; written by name */
  int dtype;        /**< rnnk_dtype; written by name ("f32") */
  int hidden;       /**< H, exact */
  int input_bucket; /**< rnnk_tune_bucket(I) */
  int batch_bucket; /**< rnnk_tune_bucket(N) */
  int threads;      /**< threads the forward call uses (>= 1) */
  int variant;      /**< cell sub-kind (GRU lbr, LSTM proj/peephole flags), 0..255 */
} rnnk_tune_key;

/** The winner. 0 in a tile field means "not set / use the default". */
typedef struct rnnk_tune_value {
  int unit;          /**< U, hidden units per panel */
  int batch_tile;
  int k_block;
  int time_chunk;
  int split;         /**< how the winner used the threads: 0 none, 1 one step's hidden units, 2 the batch's rows */
  int isa;           /**< rnnk_isa that won if not the key's own (AVX2 may beat AVX-512); 0 = same */
  double ms;         /**< measured time of the winner */
  double ms_default; /**< measured time of the default tiles */
} rnnk_tune_value;

/** One cache entry, as parsed from a file. */
typedef struct rnnk_tune_entry {
  rnnk_tune_key key;
  rnnk_tune_value val;
} rnnk_tune_entry;

/** Header fields a file must match (each a single token, no spaces). */
typedef struct rnnk_tune_header {
  const char *library; /**< RNNK_VERSION */
  const char *kernels; /**< rnnk_kernel_fingerprint */
  const char *cpu;     /**< "vendor=... family=... ..." (see cache.c) */
} rnnk_tune_header;

/** Fingerprint of the kernel set (defined by the library, src/). */
extern const char rnnk_kernel_fingerprint[];

/** Bucket of I or N: the next power of two >= n (n <= 1 gives 1), capped at 4096. */
RNNK_INTERNAL int rnnk_tune_bucket(int n);

/** RNNK_OK and *out filled if @p k is cached, else RNNK_EINVAL without an
 *  error message. Loads the default file(s) once on first use. Lock-free
 *  and thread-safe. */
RNNK_INTERNAL rnnk_status rnnk_tune_cache_lookup(const rnnk_tune_key *k, rnnk_tune_value *out);

/** Insert or replace one entry in memory (the tuner's hook). EINVAL on a
 *  key or value out of range. Readers see the old or the new table whole. */
RNNK_INTERNAL rnnk_status rnnk_tune_cache_put(const rnnk_tune_key *k, const rnnk_tune_value *v);

/**
 * Parse a whole cache file held in memory. Pure: touches no global state.
 * @param name    file name used in messages ("<memory>" if NULL)
 * @param expect  header to match; NULL = this process (library, kernels, CPU)
 * @param out     receives a malloc'ed array of entries on RNNK_OK (NULL if
 *                none); the caller frees it. Untouched otherwise.
 * @param why     if non-NULL, receives the reason on failure ("line N: ...")
 * @return RNNK_OK, RNNK_EFORMAT (malformed), RNNK_ESTALE (another library,
 *         kernel set or CPU), RNNK_ENOMEM.
 */
RNNK_INTERNAL rnnk_status rnnk_tune_cache_parse(const char *data, size_t len, const char *name,
                                                const rnnk_tune_header *expect,
                                                rnnk_tune_entry **out, size_t *n_out,
                                                char *why, size_t why_len);

/** Render @p n entries with header @p h (NULL = this process) as file text.
 *  *text is malloc'ed and NUL-terminated; the caller frees it. */
RNNK_INTERNAL rnnk_status rnnk_tune_cache_format(const rnnk_tune_header *h,
                                                 const rnnk_tune_entry *e, size_t n,
                                                 char **text, size_t *len);

/** Tests only: use @p cpu_line (the text after "cpu ") as this process's CPU
 *  identity, for writing and for checking files; NULL restores the real one.
 *  Not thread-safe against concurrent loads. */
RNNK_INTERNAL void rnnk_tune_cache_set_identity_for_test(const char *cpu_line);

/** This process's CPU identity line (the text after "cpu "). */
RNNK_INTERNAL const char *rnnk_tune_cache_identity(void);

#endif /* RNNK_TUNE_CACHE_H */
