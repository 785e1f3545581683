#ifndef LV_SERVER_DEMO_H
#define LV_SERVER_DEMO_H

#include "store/store.h"

struct demo_account {
	const char *email, *name, *role, *password;
};

extern const struct demo_account demo_accounts[];       /* ends with a NULL email */

/* Seeds an empty database with the demo course (0 also when not empty). */
int demo_seed(struct db *db, const char *examples_dir, struct lv_err *err);

#endif
