/*
 * Box ids and what a run leaves to clean up.  A run holds an flock on
 * <state dir>/<id>.lock for its whole life (the kernel drops it when the
 * keeper dies, even by SIGKILL), and writes <id>.state with what must be
 * undone — the work directory whose ownership it changed — until it has
 * undone it.  State dir: /run/labvisor/sandbox as root, else
 * $XDG_RUNTIME_DIR/labvisor/sandbox or /tmp/labvisor-<uid>/sandbox.
 */
#ifndef LV_SANDBOX_BOXLOCK_H
#define LV_SANDBOX_BOXLOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/err.h"

struct box {
	int id;
	int lock_fd;
};

/* Locks box `want` (or the first free one when want < 0). */
int box_acquire(int want, struct box *b, struct lv_err *err);
void box_release(struct box *b);

/* True when no live run holds box id (it is then locked into *b). */
bool box_try(int id, struct box *b);

/* Records / forgets a work directory handed to the box uid. */
int box_state_save(const struct box *b, const char *dir, uid_t uid, gid_t gid,
		   struct lv_err *err);
void box_state_clear(const struct box *b);

/* Undoes what a dead run of this (locked) box left in its state file. */
int box_state_recover(const struct box *b, struct lv_err *err);

/*
 * Gives the files below dir (not following links, not crossing mounts) to
 * uid:gid: all of them when only_from is (uid_t)-1, else only those owned by
 * only_from.  Giving a work directory back uses only_from = the box uid, so
 * a hard link the program made to a file it does not own (possible where
 * fs.protected_hardlinks is 0) is never given to anyone.
 */
#define CHOWN_ALL ((uid_t)-1)
int chown_tree(const char *dir, uid_t only_from, uid_t uid, gid_t gid, struct lv_err *err);

#endif
