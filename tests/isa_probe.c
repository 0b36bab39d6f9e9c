/* Helper for test_dispatch: RNNK_ISA is read once per process, so the cap
 * is tested by running this program with the variable set.
 *   isa_probe          prints rnnk_isa_name(rnnk_active_isa())
 *   isa_probe report   prints rnnk_isa_report()
 * Plain C (no Criterion), so it also runs under qemu-aarch64. */
#include <stdio.h>
#include <string.h>

#include "rnnk.h"

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) {
    char buf[4096];
    if (rnnk_isa_report(buf, sizeof buf) != RNNK_OK) return 1;
    fputs(buf, stdout);
    return 0;
  }
  printf("%s\n", rnnk_isa_name(rnnk_active_isa()));
  return 0;
}
