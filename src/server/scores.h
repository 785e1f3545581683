/* A submission's score: the engine's result with the staff's overrides on top. */
#ifndef LV_SERVER_SCORES_H
#define LV_SERVER_SCORES_H

#include <jansson.h>

#include "store/store.h"

/* [{test, points, comment}] of a submission. */
json_t *overrides_json(struct db *db, int64_t submission_id);
/* Stores the score that the result and the overrides give. */
int scores_refresh(struct db *db, int64_t submission_id, struct lv_err *err);
/* Regraded results (pending) replace the current ones: all of an assignment's
 * (submission_id 0) or one; returns how many. */
int scores_apply_pending(struct db *db, int64_t assignment_id, int64_t submission_id,
			 struct lv_err *err);

#endif
