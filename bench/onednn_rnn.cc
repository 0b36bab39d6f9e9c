// C-callable wrapper over oneDNN 2.6's RNN primitive (bench-only). See onednn_rnn.h.
#include "onednn_rnn.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

struct rnnk_dnnl {
  engine eng;
  stream strm;
  primitive prim;
  std::unordered_map<int, memory> args;
  memory src, dst;
  std::string impl;
  int threads = 1;
};

static void set_threads(int t) {
#if defined(_OPENMP)
  omp_set_num_threads(t > 0 ? t : 1);
#else
  (void)t;
#endif
}

extern "C" void rnnk_dnnl_threads_init(int max_threads) {
#if defined(_OPENMP)
  set_threads(max_threads);
  volatile int sink = 0;
#pragma omp parallel
  { sink = sink + 1; }
  (void)sink;
#else
  (void)max_threads;
#endif
}

extern "C" const char *rnnk_dnnl_version(void) {
  static char buf[96];
  const dnnl_version_t *v = dnnl_version();
  snprintf(buf, sizeof buf, "%d.%d.%d (%s)", v->major, v->minor, v->patch, v->hash);
  return buf;
}

static void zero(memory &m) {
  std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
}

extern "C" rnnk_dnnl *rnnk_dnnl_create(rnnk_dnnl_cell cell, int T, int N, int I, int H,
                                       int threads, const float *w_ih, const float *w_hh,
                                       const float *b_ih, const float *b_hh, char *err,
                                       size_t errlen) {
  try {
    const int G = cell == RNNK_DNNL_LSTM ? 4 : cell == RNNK_DNNL_LBR_GRU ? 3 : 1;
    const int Gb = cell == RNNK_DNNL_LBR_GRU ? 4 : G;
    // oneDNN gate g holds PyTorch gate pt[g]: LSTM i,f,c,o = i,f,g,o; GRU u,r,o = z,r,n.
    const int pt_lstm[4] = {0, 1, 2, 3}, pt_gru[3] = {1, 0, 2}, pt_rnn[1] = {0};
    const int *pt = cell == RNNK_DNNL_LSTM ? pt_lstm : cell == RNNK_DNNL_LBR_GRU ? pt_gru : pt_rnn;

    auto *d = new rnnk_dnnl{engine(engine::kind::cpu, 0), stream(), primitive(), {}, {}, {}, {},
                            threads};
    d->strm = stream(d->eng);
    set_threads(threads);

    memory::desc src_layer({T, N, I}, dt::f32, tag::tnc);
    memory::desc iter({1, 1, N, H}, dt::f32, tag::ldnc);
    memory::desc wl_any({1, 1, I, G, H}, dt::f32, tag::any);
    memory::desc wi_any({1, 1, H, G, H}, dt::f32, tag::any);
    memory::desc wl_usr({1, 1, I, G, H}, dt::f32, tag::ldigo);
    memory::desc wi_usr({1, 1, H, G, H}, dt::f32, tag::ldigo);
    memory::desc bias({1, 1, Gb, H}, dt::f32, tag::ldgo);
    memory::desc dst_layer({T, N, H}, dt::f32, tag::tnc);
    const auto pk = prop_kind::forward_inference;
    const auto dir = rnn_direction::unidirectional_left2right;

    memory::desc wl_md, wi_md, sp_md;
    if (cell == RNNK_DNNL_LSTM) {
      lstm_forward::desc ds(pk, dir, src_layer, iter, iter, wl_any, wi_any, bias, dst_layer, iter,
                            iter);
      lstm_forward::primitive_desc p(ds, d->eng);
      d->prim = lstm_forward(p);
      wl_md = p.weights_layer_desc(), wi_md = p.weights_iter_desc(), sp_md = p.scratchpad_desc();
      d->impl = p.impl_info_str();
    } else if (cell == RNNK_DNNL_LBR_GRU) {
      lbr_gru_forward::desc ds(pk, dir, src_layer, iter, wl_any, wi_any, bias, dst_layer, iter);
      lbr_gru_forward::primitive_desc p(ds, d->eng);
      d->prim = lbr_gru_forward(p);
      wl_md = p.weights_layer_desc(), wi_md = p.weights_iter_desc(), sp_md = p.scratchpad_desc();
      d->impl = p.impl_info_str();
    } else {
      vanilla_rnn_forward::desc ds(pk, algorithm::eltwise_tanh, dir, src_layer, iter, wl_any,
                                   wi_any, bias, dst_layer, iter);
      vanilla_rnn_forward::primitive_desc p(ds, d->eng);
      d->prim = vanilla_rnn_forward(p);
      wl_md = p.weights_layer_desc(), wi_md = p.weights_iter_desc(), sp_md = p.scratchpad_desc();
      d->impl = p.impl_info_str();
    }

    // PyTorch [G*H][K] (gate-major, "ldgoi") -> ldigo with oneDNN's gate order.
    memory wl_u(wl_usr, d->eng), wi_u(wi_usr, d->eng), b(bias, d->eng);
    float *pl = (float *)wl_u.get_data_handle(), *pi = (float *)wi_u.get_data_handle();
    for (int k = 0; k < I; k++)
      for (int g = 0; g < G; g++)
        for (int h = 0; h < H; h++)
          pl[((size_t)k * G + g) * H + h] = w_ih[((size_t)pt[g] * H + h) * I + k];
    for (int k = 0; k < H; k++)
      for (int g = 0; g < G; g++)
        for (int h = 0; h < H; h++)
          pi[((size_t)k * G + g) * H + h] = w_hh[((size_t)pt[g] * H + h) * H + k];
    float *pb = (float *)b.get_data_handle();
    auto bi = [&](int g, int h) { return b_ih ? b_ih[(size_t)g * H + h] : 0.f; };
    auto bh = [&](int g, int h) { return b_hh ? b_hh[(size_t)g * H + h] : 0.f; };
    for (int h = 0; h < H; h++) {
      if (cell == RNNK_DNNL_LBR_GRU) {
        pb[0 * H + h] = bi(1, h) + bh(1, h); // u = z
        pb[1 * H + h] = bi(0, h) + bh(0, h); // r
        pb[2 * H + h] = bi(2, h);            // o = n: input bias
        pb[3 * H + h] = bh(2, h);            // u': recurrent bias of n, inside r * (.)
      } else {
        for (int g = 0; g < G; g++) pb[(size_t)g * H + h] = bi(pt[g], h) + bh(pt[g], h);
      }
    }
    // Reorder once into the primitive's layout (outside any timing).
    memory wl(wl_md, d->eng), wi(wi_md, d->eng);
    reorder(wl_u, wl).execute(d->strm, wl_u, wl);
    reorder(wi_u, wi).execute(d->strm, wi_u, wi);
    d->strm.wait();

    d->src = memory(src_layer, d->eng);
    d->dst = memory(dst_layer, d->eng);
    memory hi(iter, d->eng), ho(iter, d->eng);
    zero(d->src), zero(hi);
    d->args = {{DNNL_ARG_SRC_LAYER, d->src}, {DNNL_ARG_SRC_ITER, hi},
               {DNNL_ARG_WEIGHTS_LAYER, wl},  {DNNL_ARG_WEIGHTS_ITER, wi},
               {DNNL_ARG_BIAS, b},            {DNNL_ARG_DST_LAYER, d->dst},
               {DNNL_ARG_DST_ITER, ho}};
    if (cell == RNNK_DNNL_LSTM) {
      memory ci(iter, d->eng), co(iter, d->eng);
      zero(ci);
      d->args[DNNL_ARG_SRC_ITER_C] = ci;
      d->args[DNNL_ARG_DST_ITER_C] = co;
    }
    if (sp_md.get_size() > 0) d->args[DNNL_ARG_SCRATCHPAD] = memory(sp_md, d->eng);
    return d;
  } catch (const std::exception &e) {
    if (err && errlen) snprintf(err, errlen, "oneDNN: %s", e.what());
    return nullptr;
  } catch (...) {
    if (err && errlen) snprintf(err, errlen, "oneDNN: unknown exception");
    return nullptr;
  }
}

extern "C" void rnnk_dnnl_set_input(rnnk_dnnl *d, const float *x) {
  std::memcpy(d->src.get_data_handle(), x, d->src.get_desc().get_size());
}

extern "C" int rnnk_dnnl_execute(rnnk_dnnl *d) {
  try {
    set_threads(d->threads);
    d->prim.execute(d->strm, d->args);
    d->strm.wait();
    return 0;
  } catch (...) {
    return -1;
  }
}

extern "C" const float *rnnk_dnnl_output(const rnnk_dnnl *d) {
  return (const float *)d->dst.get_data_handle();
}

extern "C" const char *rnnk_dnnl_impl(const rnnk_dnnl *d) { return d->impl.c_str(); }

extern "C" void rnnk_dnnl_destroy(rnnk_dnnl *d) { delete d; }
