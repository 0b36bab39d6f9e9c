/* rnnk info: version, CPU and ISA choice, topology, tune cache. */
#include <stdio.h>

#include "rnnk.h"
#include "tools/commands.h"

int rnnk_cmd_info(int argc, char **argv) {
  (void)argc, (void)argv;
  static char buf[16384];
  printf("rnnk %s\n\n", rnnk_version());
  if (rnnk_isa_report(buf, sizeof buf) == RNNK_OK) printf("== CPU and ISA\n%s\n", buf);
  if (rnnk_topology_report(buf, sizeof buf) == RNNK_OK) printf("== Topology (hwloc)\n%s\n", buf);
  if (rnnk_tune_report(buf, sizeof buf) == RNNK_OK) printf("== Tune cache\n%s\n", buf);
  return 0;
}
