/* Subcommands of the labvisor binary; each parses its own options. */
#ifndef LV_CLI_H
#define LV_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses shared by all subcommands. */
#define LV_EXIT_USAGE 2         /* bad command line or unusable input */

int cmd_vm(int argc, char **argv);
int cmd_vm_ctl(int argc, char **argv);    /* vm list|stats|stop */
int cmd_vm_agent(int argc, char **argv);  /* vm exec|cp */
int cmd_isolate(int argc, char **argv);
int cmd_grade(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_serve(int argc, char **argv);           /* in labvisor-server */
int cmd_worker(int argc, char **argv);          /* in labvisor-server */
/* labvisor serve|worker: runs labvisor-server, installed beside labvisor. */
int cmd_platform(int argc, char **argv);

/* `name` in the running executable's folder (in buf); false when it is not there. */
bool cli_beside_self(const char *name, char *buf, size_t size);

/* Prints "labvisor CMD: MESSAGE" on stderr; returns -1 for `return cli_error(...)`. */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Index of `arg` in the NULL-terminated `words`, or -1. */
int cli_choice(const char *arg, const char *const words[]);

#endif
