/* Subcommands of the labvisor binary; each parses its own options. */
#ifndef LV_CLI_H
#define LV_CLI_H

/* Exit statuses shared by all subcommands. */
#define LV_EXIT_USAGE 2         /* bad command line or unusable input */

int cmd_vm(int argc, char **argv);

#endif
