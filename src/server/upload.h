#ifndef LV_SERVER_UPLOAD_H
#define LV_SERVER_UPLOAD_H

#include <jansson.h>

#include "server.h"

struct upload {
	char *data;
	size_t len;
	char name[256];         /* submission.tar, or the uploaded archive's name */
};

/* The form's 'files' parts as one stored archive (see upload.c). */
int upload_pack(const struct form_part *parts, size_t nparts, struct upload *out,
		struct lv_err *err);
/* [{name, size, content?}] of a stored archive; content for small text files. */
json_t *upload_list(const char *data, size_t len, bool with_content);

#endif
