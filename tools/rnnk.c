/* rnnk: the command line. Uses the public API only (plus the bench and tune
 * front ends). */
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: rnnk <command> [options]\n"
          "  info                      CPU features, chosen ISA, hwloc topology, tune cache state\n"
          "  examples                  run the lecture's example networks and print their outputs\n"
          "  tune [--shapes LIST] [--time-limit S] [-o FILE] [--quick]\n"
          "                            autotune this host and write the tune cache\n"
          "  bench [--quick] [--json FILE] [--svg FILE] [--isa LIST] [--filter S]\n"
          "                            benchmark table (ms, GFLOP/s, GB/s, %% of roofline)\n"

          "  help                      this text\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "info")) return rnnk_cmd_info(argc - 1, argv + 1);
  if (!strcmp(cmd, "examples")) return rnnk_cmd_examples(argc - 1, argv + 1);
  if (!strcmp(cmd, "tune")) return rnnk_cmd_tune(argc - 1, argv + 1);
  if (!strcmp(cmd, "bench")) return rnnk_cmd_bench(argc - 1, argv + 1);
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "rnnk: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}
