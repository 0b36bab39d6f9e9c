/**
 * @file golden_io.h
 * @brief Reader for rnnk's PyTorch golden files (tests/golden/README.md).
 *
 * One file per case, `<dir>/<name>.bin`, where dir is $RNNK_GOLDEN_DIR, else
 * the compiled-in RNNK_GOLDEN_DEFAULT_DIR (if defined), else "tests/golden".
 * Test-only code: it returns error codes and never aborts or prints.
 */
#ifndef RNNK_TESTS_GOLDEN_IO_H
#define RNNK_TESTS_GOLDEN_IO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Return codes of golden_load(). */
enum {
  GOLDEN_OK = 0,
  GOLDEN_EOPEN = -1,   /**< file missing or unreadable */
  GOLDEN_ESHORT = -2,  /**< file ends early */
  GOLDEN_EFORMAT = -3, /**< bad magic, version, header value, or trailing bytes */
  GOLDEN_ENOMEM = -4,
};

/** Cell kinds as stored in the file. */
enum { GOLDEN_RNN_TANH = 0, GOLDEN_RNN_RELU = 1, GOLDEN_LSTM = 2, GOLDEN_GRU = 3 };

/** PyTorch's weights of one (layer, direction). */
typedef struct golden_weights {
  int k;       /**< the layer's input size K */
  float *w_ih; /**< [G*H][K] */
  float *w_hh; /**< [G*H][S] */
  float *b_ih; /**< [G*H] */
  float *b_hh; /**< [G*H] */
  float *w_hr; /**< [P][H], or NULL when P = 0 */
} golden_weights;

/** One case; every array is malloc'd (free with golden_free()). */
typedef struct golden_case {
  char name[96];
  int cell; /**< GOLDEN_RNN_TANH, ... */
  int input_size, hidden_size, proj_size, num_layers, bidir, T, N;
  int batch_first, has_lengths, has_h0;
  /* derived */
  int dirs;       /**< 1 or 2 */
  int gates;      /**< G: 1, 4 or 3 */
  int state_size; /**< S: P if P > 0 else H */
  size_t x_count, y_count, h_count, c_count; /**< element counts (c: 0 if not LSTM) */

  int *lengths;       /**< [N] or NULL */
  float *x;           /**< [T][N][I] or [N][T][I] */
  float *h0, *c0;     /**< [L*D][N][S], [L*D][N][H]; NULL when absent */
  golden_weights *w;  /**< [L*D], index l*D + d */
  float *y;           /**< [T][N][D*S] or [N][T][D*S] */
  float *hT, *cT;     /**< [L*D][N][S], [L*D][N][H] (cT NULL if not LSTM) */
} golden_case;

/** Directory the files are read from (see the file comment). */
const char *golden_dir(void);

/**
 * Read `<golden_dir()>/<name>.bin` into @p out.
 * @return GOLDEN_OK, or a negative code; on failure @p out holds nothing to
 *         free and @p err (if not NULL) a message naming the file and the
 *         problem.
 */
int golden_load(const char *name, golden_case *out, char *err, size_t err_len);

/** Same, from an explicit path. */
int golden_load_path(const char *path, golden_case *out, char *err, size_t err_len);

/** Free every array of @p c (safe on a zeroed or already-freed case). */
void golden_free(golden_case *c);

/**
 * Read the case index `<golden_dir()>/cases.txt` (one name a line).
 * @return the number of names (>= 0) stored in *names (malloc'd array of
 *         malloc'd strings; free with golden_free_names()), or a negative code.
 */
int golden_list(char ***names, char *err, size_t err_len);
void golden_free_names(char **names, int count);

#ifdef __cplusplus
}
#endif
#endif /* RNNK_TESTS_GOLDEN_IO_H */
