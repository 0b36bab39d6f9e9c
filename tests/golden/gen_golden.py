#!/usr/bin/python3
"""Generate rnnk's golden data from PyTorch (nn.RNN, nn.LSTM, nn.GRU).

Run with Debian's python3-torch (not a pyenv/venv python):

    /usr/bin/python3 tests/golden/gen_golden.py            # writes tests/golden/
    /usr/bin/python3 tests/golden/gen_golden.py --check    # regenerate in memory, compare

The file format is described in tests/golden/README.md. Every case is seeded
(torch.manual_seed(case seed)), so a rerun with the same torch version gives
the same bytes.

Weights are PyTorch's own initialisation, uniform(-1/sqrt(H), 1/sqrt(H)),
drawn in float32. Inputs and initial states are uniform [-1, 1] in float32.
The expected outputs are computed by the same module converted to float64
(the float32 parameters and inputs are exact in float64) and rounded once to
float32, so they are PyTorch's result without float32 rounding noise. The
generator also runs the float32 module and checks it "matches" the stored
result (|a - b| <= 1e-5 * max(1, |b|), SPEC.md) so every case is known to be
reachable by a float32 implementation.
"""
import argparse
import os
import struct
import sys

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

MAGIC = b"RNNKGLD1"
VERSION = 1
CELL_IDS = {"rnn_tanh": 0, "rnn_relu": 1, "lstm": 2, "gru": 3}
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}

# name, cell, I, H, P, layers, bidir, T, N, batch_first, lengths (None = all T), h0
CASES = [
    # Elman, tanh
    ("rnn_tanh_l1_i7_h13_n1", "rnn_tanh", 7, 13, 0, 1, False, 5, 1, False, None, False),
    ("rnn_tanh_l2_i13_h7_n3_h0", "rnn_tanh", 13, 7, 0, 2, False, 6, 3, False, None, True),
    ("rnn_tanh_l1_bi_i1_h1_n2", "rnn_tanh", 1, 1, 0, 1, True, 8, 2, False, None, True),
    ("rnn_tanh_l1_i13_h7_n4_len", "rnn_tanh", 13, 7, 0, 1, False, 9, 4, False, [9, 1, 5, 9], False),
    ("rnn_tanh_l1_i129_h129_n1", "rnn_tanh", 129, 129, 0, 1, False, 4, 1, False, None, True),
    # Elman, relu
    ("rnn_relu_l1_i7_h13_n2", "rnn_relu", 7, 13, 0, 1, False, 6, 2, False, None, False),
    ("rnn_relu_l2_bi_i5_h37_n3_len", "rnn_relu", 5, 37, 0, 2, True, 9, 3, False, [4, 9, 6], True),
    ("rnn_relu_l3_i37_h7_n5_bf_len", "rnn_relu", 37, 7, 0, 3, False, 7, 5, True, [2, 7, 5, 1, 6], True),
    ("rnn_relu_l1_bi_i129_h13_n2", "rnn_relu", 129, 13, 0, 1, True, 5, 2, False, None, False),
    # LSTM
    ("lstm_l1_i1_h7_n1", "lstm", 1, 7, 0, 1, False, 10, 1, False, None, False),
    ("lstm_l1_i7_h13_n3_h0", "lstm", 7, 13, 0, 1, False, 6, 3, False, None, True),
    ("lstm_l2_bi_i13_h37_n4_len", "lstm", 13, 37, 0, 2, True, 8, 4, False, [5, 8, 2, 7], True),
    ("lstm_l1_bi_i13_h1_n5_bf_len", "lstm", 13, 1, 0, 1, True, 6, 5, True, [3, 6, 1, 6, 4], False),
    ("lstm_l1_i37_h129_n2_h0", "lstm", 37, 129, 0, 1, False, 5, 2, False, None, True),
    ("lstm_l3_i37_h129_p7_n2", "lstm", 37, 129, 7, 3, False, 6, 2, False, None, True),
    ("lstm_l2_bi_i5_h13_p3_n3_len", "lstm", 5, 13, 3, 2, True, 7, 3, False, [7, 3, 5], True),
    ("lstm_l1_i7_h7_p1_n4_len", "lstm", 7, 7, 1, 1, False, 6, 4, False, [6, 2, 4, 5], True),
    ("lstm_l2_bi_i7_h13_p5_n2_bf", "lstm", 7, 13, 5, 2, True, 5, 2, True, None, False),
    ("lstm_l1_i13_h37_n4_t12_len", "lstm", 13, 37, 0, 1, False, 12, 4, False, [12, 1, 7, 12], True),
    # GRU (PyTorch: linear_before_reset)
    ("gru_l1_i13_h1_n1", "gru", 13, 1, 0, 1, False, 7, 1, False, None, False),
    ("gru_l2_bi_i129_h7_n4_len", "gru", 129, 7, 0, 2, True, 7, 4, False, [3, 7, 1, 5], True),
    ("gru_l1_i7_h129_n2", "gru", 7, 129, 0, 1, False, 5, 2, False, None, True),
    ("gru_l3_i5_h13_n3_bf_len", "gru", 5, 13, 0, 3, False, 8, 3, True, [8, 2, 5], True),
    ("gru_l1_bi_i1_h37_n1", "gru", 1, 37, 0, 1, True, 6, 1, False, None, False),
    ("gru_l2_i37_h37_n5_h0", "gru", 37, 37, 0, 2, False, 5, 5, False, None, True),
    ("gru_l1_bi_i7_h13_n1_len", "gru", 7, 13, 0, 1, True, 6, 1, False, [4], True),
]


def make_module(cell, I, H, P, L, bidir, batch_first):
    kw = dict(num_layers=L, bidirectional=bidir, batch_first=batch_first)
    if cell in ("rnn_tanh", "rnn_relu"):
        return torch.nn.RNN(I, H, nonlinearity=cell[4:], **kw)
    if cell == "lstm":
        return torch.nn.LSTM(I, H, proj_size=P, **kw)
    return torch.nn.GRU(I, H, **kw)


def run(mod, cell, x, lengths, h0, c0, T, batch_first):
    if cell == "lstm":
        hx = (h0, c0) if h0 is not None else None
    else:
        hx = h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths, dtype=torch.int64),
                                      batch_first=batch_first, enforce_sorted=False)
        out, hn = mod(packed, hx)
        y, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    else:
        y, hn = mod(x, hx)
    if cell == "lstm":
        return y, hn[0], hn[1]
    return y, hn, None


def f32(t):
    return np.ascontiguousarray(t.detach().numpy().astype("<f4"))


def build_case(idx, case):
    name, cell, I, H, P, L, bidir, T, N, bf, lengths, has_h0 = case
    assert lengths is None or (len(lengths) == N and all(1 <= n <= T for n in lengths))
    D = 2 if bidir else 1
    S = P if P else H
    torch.manual_seed(20240 + idx)
    mod = make_module(cell, I, H, P, L, bidir, bf).float()
    shape = (N, T, I) if bf else (T, N, I)
    x = torch.rand(shape, dtype=torch.float32) * 2 - 1
    h0 = c0 = None
    if has_h0:
        h0 = torch.rand((L * D, N, S), dtype=torch.float32) * 2 - 1
        if cell == "lstm":
            c0 = torch.rand((L * D, N, H), dtype=torch.float32) * 2 - 1

    with torch.no_grad():
        y32, h32, c32 = run(mod, cell, x, lengths, h0, c0, T, bf)
        mod64 = make_module(cell, I, H, P, L, bidir, bf).double()
        mod64.load_state_dict({k: v.double() for k, v in mod.state_dict().items()})
        dbl = lambda t: None if t is None else t.double()
        y64, h64, c64 = run(mod64, cell, dbl(x), lengths, dbl(h0), dbl(c0), T, bf)

    # The float32 module must match the stored (float64-rounded) results.
    worst = 0.0
    for a, b in ((y32, y64), (h32, h64), (c32, c64)):
        if a is None:
            continue
        b32 = b.float().double()
        err = ((a.double() - b32).abs() / b32.abs().clamp(min=1.0)).max().item()
        worst = max(worst, err)
    if worst > 1e-5:
        sys.exit(f"{name}: float32 torch differs from float64 by {worst:g} (> 1e-5)")

    out = bytearray()
    out += MAGIC
    hdr = [VERSION, CELL_IDS[cell], I, H, P, L, int(bidir), T, N, int(bf),
           int(lengths is not None), int(has_h0)]
    out += struct.pack("<%di" % len(hdr), *hdr)
    if lengths is not None:
        out += struct.pack("<%di" % N, *lengths)
    out += f32(x).tobytes()
    if has_h0:
        out += f32(h0).tobytes()
        if cell == "lstm":
            out += f32(c0).tobytes()
    G = GATES[cell]
    sd = mod.state_dict()
    for l in range(L):
        K = I if l == 0 else D * S
        for d in range(D):
            sfx = f"l{l}" + ("_reverse" if d else "")
            parts = [("weight_ih_" + sfx, (G * H, K)), ("weight_hh_" + sfx, (G * H, S)),
                     ("bias_ih_" + sfx, (G * H,)), ("bias_hh_" + sfx, (G * H,))]
            if P:
                parts.append(("weight_hr_" + sfx, (P, H)))
            for key, shp in parts:
                t = sd[key]
                assert tuple(t.shape) == shp, (name, key, tuple(t.shape), shp)
                out += f32(t).tobytes()
    out += f32(y64).tobytes()
    out += f32(h64).tobytes()
    if cell == "lstm":
        out += f32(c64).tobytes()
    return name, bytes(out), worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--check", action="store_true",
                    help="compare with the files in --out instead of writing")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    names = []
    total = 0
    bad = 0
    for idx, case in enumerate(CASES):
        name, data, worst = build_case(idx, case)
        names.append(name)
        total += len(data)
        path = os.path.join(args.out, name + ".bin")
        if args.check:
            with open(path, "rb") as f:
                same = f.read() == data
            bad += not same
            print(f"{name:32s} {'same' if same else 'DIFFERS'}")
        else:
            with open(path, "wb") as f:
                f.write(data)
            print(f"{name:32s} {len(data):8d} bytes  f32-vs-f64 {worst:.2e}")
    index = "".join(n + "\n" for n in names)
    idx_path = os.path.join(args.out, "cases.txt")
    if args.check:
        with open(idx_path) as f:
            bad += f.read() != index
    else:
        with open(idx_path, "w") as f:
            f.write(index)
    print(f"{len(names)} cases, {total} bytes, torch {torch.__version__}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
