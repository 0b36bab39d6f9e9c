/* Tuning never changes results: every tile candidate the tuner may choose
 * (panel width, time chunk, ISA, hidden-unit split over a pool) gives the
 * bits of the default network; and rnnk_tune() end to end writes an entry
 * that later networks pick up. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/internal.h"
#include "tests/common.h"
#include "tune/cache.h"

TestSuite(tune, .fini = test_leak_check);

enum { T = 9, N = 3, I = 21, H = 45 };

typedef struct net_data {
  float w_ih[4 * H * 2 * H], w_hh[4 * H * H], b[8 * H], peep[3 * H], x[T * N * I];
} net_data;

static void fill(net_data *d) {
  test_rng r = {99};
  test_fill(&r, d->w_ih, sizeof d->w_ih / 4, -0.15f, 0.15f);
  test_fill(&r, d->w_hh, sizeof d->w_hh / 4, -0.15f, 0.15f);
  test_fill(&r, d->b, sizeof d->b / 4, -0.1f, 0.1f);
  test_fill(&r, d->peep, sizeof d->peep / 4, -0.1f, 0.1f);
  test_fill(&r, d->x, sizeof d->x / 4, -1, 1);
}

/* y of a 2-layer bidirectional network of @p cell built with @p tiles (NULL = default). */
static void run(rnnk_cell cell, rnnk_isa isa, const rnnk_tiles *tiles, rnnk_pool *pool, const net_data *d, float *y) {
  rnnk_config c;
  rnnk_config_init(&c, cell, I, H);
  c.num_layers = 2, c.direction = RNNK_BIDIR_CONCAT, c.isa = isa;
  c.peephole = cell == RNNK_LSTM;
  rnnk_rnn *rnn;
  cr_assert_eq(rnnk_rnn_create_tiled(&c, tiles, &rnn), RNNK_OK, "%s", rnnk_last_error());
  const int G = cell == RNNK_LSTM ? 4 : cell == RNNK_GRU ? 3 : 1;
  rnnk_weights w = {.w_ih = d->w_ih, .w_hh = d->w_hh, .b_ih = d->b, .b_hh = d->b + G * H,
                    .peephole = c.peephole ? d->peep : NULL};
  for (int l = 0; l < 2; l++)
    for (int dir = 0; dir < 2; dir++) cr_assert_eq(rnnk_rnn_set_weights(rnn, l, dir, RNNK_LAYOUT_PYTORCH, &w), RNNK_OK);
  if (pool) rnnk_rnn_set_pool(rnn, pool);
  const int lengths[N] = {T, 4, 7};
  cr_assert_eq(rnnk_rnn_forward(rnn, T, N, d->x, lengths, NULL, NULL, y, NULL, NULL), RNNK_OK, "%s", rnnk_last_error());
  rnnk_rnn_destroy(rnn);
}

Test(tune, every_candidate_gives_the_same_bits) {
  static net_data d;
  fill(&d);
  static float want[T * N * 2 * H], got[T * N * 2 * H];
  rnnk_isa isas[4];
  const int ni = test_isas(isas);
  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(3, RNNK_PIN_NONE, &pool), RNNK_OK);
  const rnnk_cell cells[] = {RNNK_ELMAN, RNNK_LSTM, RNNK_GRU};
  for (int ci = 0; ci < 3; ci++) {
    run(cells[ci], RNNK_ISA_SCALAR, NULL, NULL, &d, want);
    for (int i = 0; i < ni; i++) {
      const int vw = (int)rnnk_ukernels_for(isas[i])->unit_align;
      /* the ISA's one- and two-vector panels, and Elman's widest (8 vectors) */
      const int units[] = {vw == 1 ? 8 : vw, vw == 1 ? 3 : 2 * vw, vw == 1 ? 64 : 8 * vw};
      for (int u = 0; u < (cells[ci] == RNNK_ELMAN ? 3 : 2); u++)
        for (int tc = 0; tc <= 4; tc += 2)
          for (int split = 0; split < 2; split++) {
            rnnk_tiles t = {.unit = units[u], .unit_out = vw == 1 ? 8 : vw, .time_chunk = tc, .split = split};
            run(cells[ci], isas[i], &t, split ? pool : NULL, &d, got);
            cr_assert(!memcmp(want, got, sizeof want), "cell %d isa %s unit %d time_chunk %d split %d changed the bits",
                      cells[ci], rnnk_isa_name(isas[i]), t.unit, tc, split);
          }
    }
  }
  rnnk_pool_destroy(pool);
}

/* Panel widths per cell: LSTM and GRU (linear before reset) up to 2
 * vectors, GRU with the reset first up to 4, Elman and Jordan up to 8;
 * a network asked for a wider or odd panel is refused, not built. */
Test(tune, panel_widths_per_cell) {
  const struct {
    rnnk_cell cell;
    bool lbr;
    int max_uv;
  } cases[] = {{RNNK_LSTM, false, 2}, {RNNK_GRU, true, 2}, {RNNK_GRU, false, 4}, {RNNK_ELMAN, false, 8}};
  rnnk_isa isas[4];
  const int ni = test_isas(isas);
  for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++)
    for (int i = 0; i < ni; i++) {
      const int vw = (int)rnnk_ukernels_for(isas[i])->unit_align;
      if (vw == 1) continue; /* the scalar reference: any unit up to 64 */
      rnnk_config c;
      rnnk_config_init(&c, cases[ci].cell, 7, 21);
      c.linear_before_reset = cases[ci].lbr;
      c.isa = isas[i];
      cr_assert_eq(rnnk_max_unit_vectors(&c), cases[ci].max_uv);
      for (int u = 1; u <= 16 * vw; u++) {
        const int uv = u / vw;
        const bool want = u % vw == 0 && (uv & (uv - 1)) == 0 && uv <= cases[ci].max_uv;
        cr_assert_eq(rnnk_unit_valid(u, vw, cases[ci].max_uv), want, "cell %d isa %s unit %d", cases[ci].cell,
                     rnnk_isa_name(isas[i]), u);
        if (u % vw) continue;
        rnnk_tiles t = {.unit = u, .unit_out = vw, .time_chunk = 0, .split = 1};
        rnnk_rnn *rnn = NULL;
        const rnnk_status st = rnnk_rnn_create_tiled(&c, &t, &rnn);
        cr_assert_eq(st, want ? RNNK_OK : RNNK_EINVAL, "cell %d isa %s unit %d: %s", cases[ci].cell,
                     rnnk_isa_name(isas[i]), u, rnnk_last_error());
        cr_assert(want == (rnn != NULL));
        rnnk_rnn_destroy(rnn);
      }
    }
}

Test(tune, tune_save_load_roundtrip) {
  char dir[] = "/tmp/rnnk-tune-XXXXXX", path[128];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/tune.txt", dir);
  rnnk_config c;
  rnnk_config_init(&c, RNNK_GRU, 24, 40);
  int calls = 0;
  rnnk_tune_result res = {0};
  rnnk_tune_options opt = {.time_limit_s = 2, .repeats = 3, .user = &calls, .result = &res};
  cr_assert_eq(rnnk_tune(&c, 2, 1, &opt), RNNK_OK, "%s", rnnk_last_error());
  cr_assert(res.candidates > 0 && res.ms_tuned > 0 && res.ms_tuned <= res.ms_default && res.unit > 0,
            "result: %d candidates, %g ms tuned, %g ms default, unit %d", res.candidates, res.ms_tuned,
            res.ms_default, res.unit);
  cr_assert(rnnk_isa_supported(res.isa));
  cr_assert_eq(rnnk_tune_save(path), RNNK_OK, "%s", rnnk_last_error());
  cr_assert_eq(rnnk_tune_load(path), RNNK_OK, "%s", rnnk_last_error());
  rnnk_config r;
  cr_assert_eq(rnnk_config_resolve(&c, &r), RNNK_OK);
  rnnk_tune_key k = rnnk_tiles_key(rnnk_active_isa(), &r, 2, 1);
  rnnk_tune_value v;
  cr_assert_eq(rnnk_tune_cache_lookup(&k, &v), RNNK_OK, "the tuned entry is in the cache");
  cr_assert(v.ms > 0 && v.ms_default > 0 && v.ms <= v.ms_default, "winner %g ms, default %g ms", v.ms, v.ms_default);
  /* bad arguments */
  cr_assert_eq(rnnk_tune(&c, 0, 1, &opt), RNNK_EINVAL);
  cr_assert_eq(rnnk_tune(&c, 1, 0, &opt), RNNK_EINVAL);
  cr_assert_eq(rnnk_tune(NULL, 1, 1, &opt), RNNK_EINVAL);
  unlink(path);
  char lock[160];
  snprintf(lock, sizeof lock, "%s.lock", path);
  unlink(lock);
  rmdir(dir);
}

/* Each candidate is compared with the default of its own pass (the mean of
 * the opening and closing default), median over passes; the default stays
 * unless a candidate's median ratio is below 1 - margin. */
Test(tune, winner_beats_the_default_of_its_own_pass_by_the_margin) {
  double q, def;
  /* 3 passes of [default, c1, c2, c3, closing default] */
  const double noise[3][5] = {{1.00, 0.99, 0.985, 1.2, 1.00}, {2.0, 1.98, 1.97, 2.4, 2.0}, {1.0, 0.99, 0.99, 1.2, 1.0}};
  cr_expect_eq(rnnk_tune_pick(&noise[0][0], 3, 4, 5, 0.02, &q, &def), 0, "a 1.5%% win is noise");
  cr_expect(q == 1 && def == 1.0, "ratio %g, default %g", q, def);
  cr_expect_eq(rnnk_tune_pick(&noise[0][0], 3, 4, 5, 0.0, &q, &def), 2, "without a margin the fastest wins");
  /* c1 is 10% faster in every pass although pass 2 ran at half speed;
   * c2 is faster than c1 in absolute terms only by a fast spell in pass 2 */
  const double spell[3][5] = {{1.0, 0.9, 1.0, 0.95, 1.0}, {2.0, 1.8, 0.85, 1.9, 2.0}, {1.0, 0.9, 1.0, 0.95, 1.0}};
  cr_expect_eq(rnnk_tune_pick(&spell[0][0], 3, 4, 5, 0.02, &q, &def), 1, "the median ratio decides, not the best time");
  cr_expect(fabs(q - 0.9) < 1e-12 && def == 1.0, "ratio %g, default %g", q, def);
  /* the default drifts within a pass: a candidate timed in between is
   * compared with the mean of the two */
  const double drift[1][3] = {{1.0, 1.0, 1.2}};
  cr_expect_eq(rnnk_tune_pick(&drift[0][0], 1, 2, 3, 0.02, &q, &def), 1, "1.0 against the mean 1.1");
  /* a pass cut short by the time limit (zeros) counts where it measured;
   * a candidate timed in one pass of several cannot replace the default */
  const double cut[3][4] = {{1.0, 0.8, 0.7, 1.0}, {1.0, 0.85, 0, 0}, {0, 0, 0, 0}};
  cr_expect_eq(rnnk_tune_pick(&cut[0][0], 3, 3, 4, 0.02, &q, &def), 1, "c2 was timed in one pass only");
  cr_expect(fabs(q - 0.85) < 1e-12, "ratio %g (upper middle of 0.8, 0.85)", q);
  const double once[2][4] = {{1.0, 0.8, 0.7, 1.0}, {0, 0, 0, 0}};
  cr_expect_eq(rnnk_tune_pick(&once[0][0], 2, 3, 4, 0.02, &q, &def), 0, "one pass of two: no evidence");
  const double one[1][2] = {{1.0, 1.0}};
  cr_expect_eq(rnnk_tune_pick(&one[0][0], 1, 1, 2, 0.02, &q, &def), 0, "one candidate: the default");
}

/* A winner of the passes stays only if it beats the default again, timed
 * back to back, by the margin in the median pair. */
Test(tune, winner_confirmed_back_to_back) {
  double q;
  const double holds[3][2] = {{1.0, 0.9}, {2.0, 1.9}, {1.0, 0.88}}; /* 0.9, 0.95, 0.88 */
  cr_expect(rnnk_tune_confirmed(&holds[0][0], 3, 0.02, &q), "a 10%% win in the median pair holds");
  cr_expect(fabs(q - 0.9) < 1e-12, "ratio %g", q);
  const double spell[3][2] = {{1.3, 1.0}, {1.0, 1.0}, {1.0, 1.01}}; /* a slow spell over one default */
  cr_expect(!rnnk_tune_confirmed(&spell[0][0], 3, 0.02, &q), "one slow default is no win");
  cr_expect(fabs(q - 1.0) < 1e-12, "ratio %g", q);
  const double close[2][2] = {{1.0, 0.985}, {1.0, 0.97}}; /* even count: the upper middle, 0.985 */
  cr_expect(!rnnk_tune_confirmed(&close[0][0], 2, 0.02, &q), "1.5%% is inside the margin");
  const double none[1][2] = {{0, 0}};
  cr_expect(!rnnk_tune_confirmed(&none[0][0], 1, 0.02, &q) && q == 1, "nothing timed: the default");
}

Test(tune, topology_report) {
  char buf[8192];
  cr_assert_eq(rnnk_topology_report(buf, sizeof buf), RNNK_OK, "%s", rnnk_last_error());
  cr_assert(strstr(buf, "default pool"), "%s", buf);
  cr_assert_eq(rnnk_topology_report(NULL, 10), RNNK_EINVAL);
  cr_assert_eq(rnnk_topology_report(buf, 0), RNNK_EINVAL);
  char small[8];
  cr_assert_eq(rnnk_topology_report(small, sizeof small), RNNK_OK);
  cr_assert_eq(strlen(small), sizeof small - 1, "truncated and terminated");
}

/* config.batch_hint picks the tune cache entry that fixes the packed
 * layout: the hinted batch's entry, else batch 1's, else the defaults. */
Test(tune, batch_hint_picks_the_layout_entry) {
  rnnk_config c;
  rnnk_config_init(&c, RNNK_LSTM, 48, 48);
  rnnk_config r;
  cr_assert_eq(rnnk_config_resolve(&c, &r), RNNK_OK);
  const rnnk_isa isa = rnnk_active_isa();
  /* one vector per gate-row; 2U is a valid LSTM panel too (scalar: any unit) */
  const int U = isa == RNNK_ISA_SCALAR ? 8 : (int)rnnk_ukernels_for(isa)->unit_align;
  rnnk_tune_key k1 = rnnk_tiles_key(isa, &r, 1, 1), k64 = rnnk_tiles_key(isa, &r, 64, 1);
  rnnk_tune_value v1 = {.unit = 2 * U, .split = 1, .ms = 1, .ms_default = 1};
  rnnk_tune_value v64 = {.unit = U, .split = 1, .ms = 1, .ms_default = 1};
  cr_assert_eq(rnnk_tune_cache_put(&k1, &v1), RNNK_OK, "%s", rnnk_last_error());
  cr_assert_eq(rnnk_tune_cache_put(&k64, &v64), RNNK_OK, "%s", rnnk_last_error());
  const int hints[4] = {0, 1, 64, 8}, want[4] = {2 * U, 2 * U, U, 2 * U}; /* 8: no entry, batch 1's */
  for (int i = 0; i < 4; i++) {
    c.batch_hint = hints[i];
    rnnk_rnn *rnn;
    cr_assert_eq(rnnk_rnn_create(&c, &rnn), RNNK_OK, "%s", rnnk_last_error());
    cr_expect_eq(rnn->tiles.unit, want[i], "batch_hint %d: unit %d, want %d", hints[i], rnn->tiles.unit, want[i]);
    rnnk_rnn_destroy(rnn);
  }
  c.batch_hint = -1;
  rnnk_rnn *rnn = NULL;
  cr_expect_eq(rnnk_rnn_create(&c, &rnn), RNNK_EINVAL);
  cr_expect_null(rnn);
}

/* A tuned k-chunk size (k_block) reaches the step through the call's plan
 * and keeps the bits: LSTM H=400, whose 2.5 MiB W_hh the step runs in
 * k-chunks on hosts with up to 4 MiB of L2, at N=13 (several row tiles). */
Test(tune, tuned_k_block_reaches_the_step_and_keeps_the_bits) {
  enum { KI = 16, KH = 400, KN = 13, KT = 3 };
  rnnk_config c;
  rnnk_config_init(&c, RNNK_LSTM, KI, KH);
  rnnk_config r;
  cr_assert_eq(rnnk_config_resolve(&c, &r), RNNK_OK);
  static float w_ih[4 * KH * KI], w_hh[4 * KH * KH], b[8 * KH], x[KT * KN * KI], want[KT * KN * KH],
      got[KT * KN * KH];
  test_rng rng = {5};
  test_fill(&rng, w_ih, sizeof w_ih / sizeof *w_ih, -0.5f, 0.5f);
  test_fill(&rng, w_hh, sizeof w_hh / sizeof *w_hh, -0.5f, 0.5f);
  test_fill(&rng, b, sizeof b / sizeof *b, -0.5f, 0.5f);
  test_fill(&rng, x, sizeof x / sizeof *x, -0.5f, 0.5f);
  rnnk_rnn *rnn;
  cr_assert_eq(rnnk_rnn_create(&c, &rnn), RNNK_OK, "%s", rnnk_last_error());
  rnnk_weights w = {.w_ih = w_ih, .w_hh = w_hh, .b_ih = b, .b_hh = b + 4 * KH};
  cr_assert_eq(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_OK, "%s", rnnk_last_error());
  cr_assert_eq(rnnk_plan(rnn, KN).k_block, 0);
  cr_assert_eq(rnnk_rnn_forward(rnn, KT, KN, x, NULL, NULL, NULL, want, NULL, NULL), RNNK_OK, "%s", rnnk_last_error());

  for (int kib = 1; kib <= 64; kib *= 8) {
    rnnk_tune_key k = rnnk_tiles_key(rnn->isa, &r, KN, 1);
    rnnk_tune_value v = {.k_block = kib, .ms = 1, .ms_default = 1};
    cr_assert_eq(rnnk_tune_cache_put(&k, &v), RNNK_OK, "%s", rnnk_last_error());
    cr_assert_eq(rnnk_plan(rnn, KN).k_block, kib, "the call's plan did not take k_block from the tune cache");
    cr_assert_eq(rnnk_rnn_forward(rnn, KT, KN, x, NULL, NULL, NULL, got, NULL, NULL), RNNK_OK, "%s", rnnk_last_error());
    cr_assert(!memcmp(want, got, sizeof want), "k_block %d KiB changed the bits (isa %s)", kib, rnnk_isa_name(rnn->isa));
  }
  rnnk_rnn_destroy(rnn);
}

/* A tuner candidate runs the tiles it was created with: a tune cache entry
 * for its own key (an earlier tuning's winner) must not override its split,
 * time chunk or k-chunk size, or every candidate would time that winner.
 * A network created from the defaults takes the entry. */
Test(tune, explicit_tiles_ignore_the_entry_of_their_key) {
  rnnk_config c;
  rnnk_config_init(&c, RNNK_ELMAN, 24, 512);
  rnnk_config r;
  cr_assert_eq(rnnk_config_resolve(&c, &r), RNNK_OK);
  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(2, RNNK_PIN_NONE, &pool), RNNK_OK, "%s", rnnk_last_error());
  rnnk_tune_key k = rnnk_tiles_key(r.isa, &r, 5, 2);
  rnnk_tune_value v = {.time_chunk = 7, .k_block = 8, .split = 1, .ms = 1, .ms_default = 1};
  cr_assert_eq(rnnk_tune_cache_put(&k, &v), RNNK_OK, "%s", rnnk_last_error());

  rnnk_tiles t;
  rnnk_tiles_default(r.isa, &r, &t);
  t.split = RNNK_SPLIT_NONE, t.time_chunk = 3;
  rnnk_rnn *given, *plain;
  cr_assert_eq(rnnk_rnn_create_tiled(&c, &t, &given), RNNK_OK, "%s", rnnk_last_error());
  cr_assert_eq(rnnk_rnn_create(&c, &plain), RNNK_OK, "%s", rnnk_last_error());
  rnnk_rnn_set_pool(given, pool), rnnk_rnn_set_pool(plain, pool);
  const rnnk_call_plan pg = rnnk_plan(given, 5), pp = rnnk_plan(plain, 5);
  cr_expect(pg.pool == NULL && pg.time_chunk == 3 && pg.k_block == 0,
            "explicit tiles: pool %p time_chunk %d k_block %d, want none, 3, 0", (void *)pg.pool, pg.time_chunk,
            pg.k_block);
  cr_expect(pp.pool == pool && pp.time_chunk == 7 && pp.k_block == 8,
            "default tiles: pool %p time_chunk %d k_block %d, want the pool, 7, 8", (void *)pp.pool, pp.time_chunk,
            pp.k_block);
  rnnk_rnn_destroy(given);
  t.split = RNNK_SPLIT_ROWS; /* and a row split as given */
  cr_assert_eq(rnnk_rnn_create_tiled(&c, &t, &given), RNNK_OK, "%s", rnnk_last_error());
  rnnk_rnn_set_pool(given, pool);
  cr_expect(rnnk_plan(given, 5).pool == pool && rnnk_plan(given, 5).rows, "explicit row split not taken");
  rnnk_rnn_destroy(given), rnnk_rnn_destroy(plain);
  rnnk_pool_destroy(pool);
}

/* Without an entry, a batch of at least 4 rows a thread whose W_hh fits
 * two L2 caches splits by rows; fewer rows, one thread, or a W_hh that
 * only the cores' L2s together hold (where the unit split keeps each
 * core's slice in its own L2) do not. */
Test(tune, default_row_split) {
  rnnk_config c;
  rnnk_config_init(&c, RNNK_LSTM, 64, 64);
  cr_expect(!rnnk_split_rows_default(&c, 16, 7, 2), "7 rows for 2 threads");
  cr_expect(!rnnk_split_rows_default(&c, 16, 64, 1), "one thread");
  const bool l2_known = !rnnk_overflows_l2(64 * 1024); /* false where the CPU reports no L2 size */
  if (l2_known) cr_expect(rnnk_split_rows_default(&c, 16, 8, 2), "LSTM H=64 N=8, 2 threads");
  c.hidden_size = c.input_size = 4096; /* W_hh 256 MiB */
  cr_expect(!rnnk_split_rows_default(&c, 16, 64, 2), "W_hh of 256 MiB");

  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(2, RNNK_PIN_NONE, &pool), RNNK_OK, "%s", rnnk_last_error());
  c.hidden_size = c.input_size = 64;
  c.isa = RNNK_ISA_SCALAR;
  rnnk_rnn *rnn;
  cr_assert_eq(rnnk_rnn_create(&c, &rnn), RNNK_OK, "%s", rnnk_last_error());
  rnnk_rnn_set_pool(rnn, pool);
  const rnnk_call_plan p8 = rnnk_plan(rnn, 8), p1 = rnnk_plan(rnn, 1);
  if (l2_known) cr_expect(p8.pool == pool && p8.rows, "N=8: the plan does not split by rows");
  cr_expect(!p1.rows, "N=1: split by rows");
  rnnk_rnn_destroy(rnn);
  rnnk_pool_destroy(pool);
}

/* Without an entry, one sequence splits over a pool only when every thread
 * gets two panels and each phase of a step enough work for its barrier
 * (~2 us of one core): not a 64-unit LSTM step of one row, yes with 32
 * rows or 512 units; GRU with the reset before the product has two phases
 * a step, so H=128 N=4 splits only with the reset after it. */
Test(tune, default_split_needs_work_per_phase) {
  rnnk_config lstm, gru;
  rnnk_config_init(&lstm, RNNK_LSTM, 64, 64);
  rnnk_config_init(&gru, RNNK_GRU, 128, 128);
  cr_expect(!rnnk_split_default(&lstm, 16, 1, 2), "LSTM H=64 N=1");
  cr_expect(rnnk_split_default(&lstm, 16, 32, 2), "LSTM H=64 N=32");
  cr_expect(!rnnk_split_default(&lstm, 16, 32, 1), "one thread");
  cr_expect(!rnnk_split_default(&lstm, 32, 32, 2), "2 panels for 2 threads");
  lstm.hidden_size = lstm.input_size = 512;
  cr_expect(rnnk_split_default(&lstm, 16, 1, 2), "LSTM H=512 N=1");
  gru.linear_before_reset = false;
  cr_expect(!rnnk_split_default(&gru, 16, 4, 2), "GRU (reset before) H=128 N=4");
  gru.linear_before_reset = true;
  cr_expect(rnnk_split_default(&gru, 16, 4, 2), "GRU (linear before reset) H=128 N=4");

  /* and the call's plan follows it */
  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(2, RNNK_PIN_NONE, &pool), RNNK_OK, "%s", rnnk_last_error());
  for (int big = 0; big < 2; big++) {
    lstm.hidden_size = lstm.input_size = big ? 512 : 64;
    lstm.isa = RNNK_ISA_SCALAR; /* 8-unit panels on every host */
    rnnk_rnn *rnn;
    cr_assert_eq(rnnk_rnn_create(&lstm, &rnn), RNNK_OK, "%s", rnnk_last_error());
    rnnk_rnn_set_pool(rnn, pool);
    cr_expect_eq(rnnk_plan(rnn, 1).pool, big ? pool : NULL, "LSTM H=%d N=1 with a 2-thread pool", lstm.hidden_size);
    rnnk_rnn_destroy(rnn);
  }
  rnnk_pool_destroy(pool);
}
