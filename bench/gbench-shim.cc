// gbench-shim.cc - C API over Google Benchmark 1.7.1 (see gbench.h).
//
// Bench-only, one file, C++17. Every extern "C" entry point catches all
// exceptions: none crosses into C. Benchmark bodies are C functions and
// cannot throw.
//
// Results reach C through collect_reporter: it wraps the display reporter
// Google Benchmark would have made itself (so --benchmark_format and
// --benchmark_color keep working), forwards to it unless quiet, and hands
// every run and aggregate to the C callback. --benchmark_out is handled by
// Google Benchmark as usual (it creates the file reporter).

#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct rnnk_bench_state {
  benchmark::State *s;
  int nargs;
};

namespace {

benchmark::internal::Benchmark *last_bench = nullptr;
rnnk_bench_result_fn result_cb = nullptr;
void *result_user = nullptr;
bool quiet_output = false;

void complain(const char *where, const char *what) {
  std::fprintf(stderr, "rnnk gbench shim: %s: %s\n", where, what);
}

// Runs f, turning any exception into a message on stderr and `fail`.
template <typename F, typename R>
R guarded(const char *where, R fail, F &&f) {
  try {
    return f();
  } catch (const std::exception &e) {
    complain(where, e.what());
  } catch (...) {
    complain(where, "unknown exception");
  }
  return fail;
}

template <typename F>
void guarded_void(const char *where, F &&f) {
  guarded(where, 0, [&] {
    f();
    return 0;
  });
}

benchmark::TimeUnit to_gb_unit(rnnk_bench_unit u) {
  switch (u) {
    case RNNK_BENCH_US: return benchmark::kMicrosecond;
    case RNNK_BENCH_MS: return benchmark::kMillisecond;
    case RNNK_BENCH_S: return benchmark::kSecond;
    default: return benchmark::kNanosecond;
  }
}

benchmark::Counter::Flags to_gb_flags(int flags) {
  int f = benchmark::Counter::kDefaults;
  if (flags & RNNK_BENCH_RATE) f |= benchmark::Counter::kIsRate;
  if (flags & RNNK_BENCH_AVG_ITERS) f |= benchmark::Counter::kAvgIterations;
  return static_cast<benchmark::Counter::Flags>(f);
}

// Overwrites (or adds) a context key; AddCustomContext alone refuses duplicates.
void set_context(const std::string &key, const std::string &value, bool overwrite) {
  auto *&ctx = benchmark::internal::GetGlobalContext();
  if (ctx == nullptr) {
    benchmark::AddCustomContext(key, value);
    return;
  }
  auto it = ctx->find(key);
  if (it == ctx->end())
    ctx->emplace(key, value);
  else if (overwrite)
    it->second = value;
}

std::string read_first_line(const char *path) {
  std::ifstream f(path);
  std::string line;
  if (f && std::getline(f, line)) return line;
  return "";
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (f && std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto pos = line.find(':');
      if (pos != std::string::npos) {
        auto v = line.substr(pos + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
  }
  return "unknown";
}

std::string turbo_state() {
  std::string v = read_first_line("/sys/devices/system/cpu/intel_pstate/no_turbo");
  if (!v.empty()) return v == "0" ? "on" : "off";
  v = read_first_line("/sys/devices/system/cpu/cpufreq/boost");
  if (!v.empty()) return v == "1" ? "on" : "off";
  return "unknown";
}

// Facts STYLE.md wants with every table; only added when absent (the user's
// rnnk_bench_add_context or --benchmark_context wins).
void add_auto_context() {
  set_context("cpu_model", cpu_model(), false);
  std::string gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  set_context("governor", gov.empty() ? "unknown" : gov, false);
  set_context("turbo", turbo_state(), false);
#ifdef __VERSION__
  set_context("shim_compiler", __VERSION__, false);
#endif
}

class collect_reporter : public benchmark::BenchmarkReporter {
 public:
  explicit collect_reporter(benchmark::BenchmarkReporter *inner) : inner_(inner) {}

  bool ReportContext(const Context &context) override {
    if (quiet_output || !inner_) return true;
    return inner_->ReportContext(context);
  }

  void ReportRuns(const std::vector<Run> &runs) override {
    if (!quiet_output && inner_) inner_->ReportRuns(runs);
    if (!result_cb) return;
    guarded_void("result callback", [&] {
      for (const Run &run : runs) deliver(run);
    });
  }

  void Finalize() override {
    if (!quiet_output && inner_) inner_->Finalize();
  }

 private:
  static void deliver(const Run &run) {
    std::string name = run.benchmark_name();
    std::string run_name = run.run_name.str();
    std::vector<const char *> cnames;
    std::vector<double> cvalues;
    for (const auto &kv : run.counters) {
      cnames.push_back(kv.first.c_str());
      cvalues.push_back(kv.second.value);
    }
    rnnk_bench_result r{};
    r.name = name.c_str();
    r.run_name = run_name.c_str();
    r.aggregate = run.run_type == Run::RT_Aggregate ? run.aggregate_name.c_str() : "";
    r.label = run.report_label.c_str();
    r.error = run.error_occurred ? run.error_message.c_str() : nullptr;
    r.iterations = static_cast<long long>(run.iterations);
    r.repetition_index = run.run_type == Run::RT_Aggregate ? -1 : static_cast<int>(run.repetition_index);
    r.repetitions = static_cast<int>(run.repetitions);
    r.threads = static_cast<int>(run.threads);
    if (run.run_type == Run::RT_Aggregate && run.aggregate_unit == benchmark::kPercentage) {
      // As the JSON reporter does: the accumulated "time" is the ratio itself.
      r.is_ratio = true;
      r.real_ns = run.real_accumulated_time;
      r.cpu_ns = run.cpu_accumulated_time;
    } else {
      double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
      r.real_ns = run.GetAdjustedRealTime() * to_ns;
      r.cpu_ns = run.GetAdjustedCPUTime() * to_ns;
    }
    r.ncounters = static_cast<int>(cnames.size());
    r.counter_names = cnames.data();
    r.counter_values = cvalues.data();
    result_cb(&r, result_user);
  }

  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
};

}  // namespace

extern "C" {

void rnnk_bench_register(const char *name, rnnk_bench_fn fn, void *user, const long *args,
                         int nargs) {
  guarded_void("rnnk_bench_register", [&] {
    if (!name || !fn || nargs < 0 || (nargs > 0 && !args)) {
      complain("rnnk_bench_register", "bad argument; benchmark not registered");
      last_bench = nullptr;
      return;
    }
    auto *b = benchmark::RegisterBenchmark(name, [fn, user, nargs](benchmark::State &s) {
      rnnk_bench_state st{&s, nargs};
      fn(&st, user);
    });
    if (nargs > 0) b->Args(std::vector<int64_t>(args, args + nargs));
    last_bench = b;
  });
}

// Each option applies to the benchmark registered last; without one it is a no-op.
#define RNNK_LAST(where, ...)                \
  guarded_void(where, [&] {                  \
    if (last_bench) last_bench->__VA_ARGS__; \
  })

void rnnk_bench_last_unit(rnnk_bench_unit unit) {
  RNNK_LAST("rnnk_bench_last_unit", Unit(to_gb_unit(unit)));
}

void rnnk_bench_last_unit_ms(void) { rnnk_bench_last_unit(RNNK_BENCH_MS); }

void rnnk_bench_last_iterations(long n) {
  if (n > 0) RNNK_LAST("rnnk_bench_last_iterations", Iterations(n));
}

void rnnk_bench_last_min_time(double seconds) {
  if (seconds > 0) RNNK_LAST("rnnk_bench_last_min_time", MinTime(seconds));
}

void rnnk_bench_last_repetitions(int n) {
  if (n > 0) RNNK_LAST("rnnk_bench_last_repetitions", Repetitions(n));
}

void rnnk_bench_last_real_time(void) { RNNK_LAST("rnnk_bench_last_real_time", UseRealTime()); }

void rnnk_bench_last_arg_names(const char *const *names, int n) {
  if (!names || n <= 0) return;
  guarded_void("rnnk_bench_last_arg_names", [&] {
    std::vector<std::string> v;
    for (int i = 0; i < n; i++) v.emplace_back(names[i] ? names[i] : "");
    if (last_bench) last_bench->ArgNames(v);
  });
}

#undef RNNK_LAST

void rnnk_bench_add_context(const char *key, const char *value) {
  if (!key || !value) return;
  guarded_void("rnnk_bench_add_context", [&] { set_context(key, value, true); });
}

bool rnnk_bench_keep_running(rnnk_bench_state *st) { return st->s->KeepRunning(); }

long rnnk_bench_arg(rnnk_bench_state *st, int i) {
  if (i < 0 || i >= st->nargs) return 0;
  return static_cast<long>(st->s->range(static_cast<size_t>(i)));
}

long rnnk_bench_iterations(rnnk_bench_state *st) { return static_cast<long>(st->s->iterations()); }

void rnnk_bench_pause(rnnk_bench_state *st) { st->s->PauseTiming(); }

void rnnk_bench_resume(rnnk_bench_state *st) { st->s->ResumeTiming(); }

void rnnk_bench_counter(rnnk_bench_state *st, const char *name, double value, int flags) {
  if (!name) return;
  guarded_void("rnnk_bench_counter",
               [&] { st->s->counters[name] = benchmark::Counter(value, to_gb_flags(flags)); });
}

void rnnk_bench_set_items(rnnk_bench_state *st, long items) {
  guarded_void("rnnk_bench_set_items", [&] { st->s->SetItemsProcessed(items); });
}

void rnnk_bench_set_bytes(rnnk_bench_state *st, long bytes) {
  guarded_void("rnnk_bench_set_bytes", [&] { st->s->SetBytesProcessed(bytes); });
}

void rnnk_bench_skip(rnnk_bench_state *st, const char *msg) {
  guarded_void("rnnk_bench_skip", [&] { st->s->SkipWithError(msg ? msg : "skipped"); });
}

void rnnk_bench_set_label(rnnk_bench_state *st, const char *label) {
  guarded_void("rnnk_bench_set_label", [&] { st->s->SetLabel(label ? label : ""); });
}

void rnnk_bench_set_result_callback(rnnk_bench_result_fn cb, void *user) {
  result_cb = cb;
  result_user = user;
}

void rnnk_bench_quiet(bool quiet) { quiet_output = quiet; }

int rnnk_bench_main(int *argc, char **argv) {
  return guarded("rnnk_bench_main", 2, [&] {
    benchmark::Initialize(argc, argv);
    if (benchmark::ReportUnrecognizedArguments(*argc, argv)) return 1;
    add_auto_context();
    collect_reporter reporter(benchmark::CreateDefaultDisplayReporter());
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
  });
}

}  // extern "C"
