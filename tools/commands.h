/* Subcommands of the rnnk CLI. Each returns the process exit status. */
#ifndef RNNK_TOOLS_COMMANDS_H
#define RNNK_TOOLS_COMMANDS_H
int rnnk_cmd_info(int argc, char **argv);
int rnnk_cmd_examples(int argc, char **argv);
int rnnk_cmd_tune(int argc, char **argv);
int rnnk_cmd_bench(int argc, char **argv);
#endif
