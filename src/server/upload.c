/*
 * Submissions as stored: one uploaded archive as it came, or the uploaded
 * files packed into a tar (libarchive, in memory).  The grading engine
 * unpacks either with its own checks; here a name must be a plain file
 * name.  Listing reads the stored archive back for the submission's page.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "grade/archive.h"
#include "upload.h"

#define MAX_SHOWN_FILE (256u << 10)

static bool plain_name(const char *name)
{
	return name && *name && !strchr(name, '/') && !strchr(name, '\\') &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strlen(name) < 256;
}

static int pack_tar(const struct form_part *const *files, size_t n, struct upload *out,
		    struct lv_err *err)
{
	struct archive *a = archive_write_new();
	size_t cap = 4096 + 1024 * n, used = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		cap += files[i]->len + 1024;
	out->data = malloc(cap);
	if (!a || !out->data) {
		archive_write_free(a);
		return lv_err_set(err, "out of memory");
	}
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_memory(a, out->data, cap, &used) != ARCHIVE_OK)
		rc = lv_err_set(err, "tar: %s", archive_error_string(a));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, files[i]->filename);
		archive_entry_set_size(e, (la_int64_t)files[i]->len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    archive_write_data(a, files[i]->data, files[i]->len) < 0)
			rc = lv_err_set(err, "tar: %s", archive_error_string(a));
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
		rc = lv_err_set(err, "tar: %s", archive_error_string(a));
	archive_write_free(a);
	out->len = used;
	snprintf(out->name, sizeof(out->name), "submission.tar");
	return rc;
}

int upload_pack(const struct form_part *parts, size_t nparts, struct upload *out,
		struct lv_err *err)
{
	const struct form_part *files[256];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nparts; i++) {
		if (strcmp(parts[i].name, "files") != 0 || !parts[i].filename)
			continue;
		if (!plain_name(parts[i].filename))
			return lv_err_set(err, "'%s' is not a plain file name", parts[i].filename);
		if (n == sizeof(files) / sizeof(files[0]))
			return lv_err_set(err, "more than %zu files: upload an archive instead", n);
		for (size_t k = 0; k < n; k++)
			if (strcmp(files[k]->filename, parts[i].filename) == 0)
				return lv_err_set(err, "'%s' is there twice", parts[i].filename);
		files[n++] = &parts[i];
	}
	if (n == 0)
		return lv_err_set(err, "no files: send them as form fields named 'files'");
	if (n == 1 && is_archive_name(files[0]->filename)) {
		out->data = malloc(files[0]->len ? files[0]->len : 1);
		if (!out->data)
			return lv_err_set(err, "out of memory");
		memcpy(out->data, files[0]->data, files[0]->len);
		out->len = files[0]->len;
		snprintf(out->name, sizeof(out->name), "%s", files[0]->filename);
		return 0;
	}
	return pack_tar(files, n, out, err);
}

static bool looks_text(const char *p, size_t n)
{
	return memchr(p, '\0', n) == NULL;
}

json_t *upload_list(const char *data, size_t len, bool with_content)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	json_t *files = json_array();

	archive_read_support_filter_all(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return files;
	}
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		la_int64_t size = archive_entry_size(e);
		json_t *f = json_pack("{s:s, s:I}", "name", archive_entry_pathname(e) ?
				      archive_entry_pathname(e) : "?", "size", (json_int_t)size);

		if (with_content && archive_entry_filetype(e) == AE_IFREG && size >= 0 &&
		    size <= MAX_SHOWN_FILE) {
			char *buf = malloc((size_t)size + 1);
			la_ssize_t got = buf ? archive_read_data(a, buf, (size_t)size) : -1;

			if (got == size && looks_text(buf, (size_t)size)) {
				buf[size] = '\0';
				json_object_set_new(f, "content", json_string(buf));
			}
			free(buf);
		}
		json_array_append_new(files, f);
	}
	archive_read_free(a);
	return files;
}
