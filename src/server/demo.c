/*
 * `labvisor serve --demo`: on an empty database, a demo course with the
 * example assignments (each folder of examples/ packed as .tar.gz with
 * libarchive) and one account per role.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accounts.h"
#include "demo.h"
#include "grade/spec.h"

const struct demo_account demo_accounts[] = {
	{ "instructor@demo.labvisor", "Ada Instructor", "instructor", "demo-instructor" },
	{ "ta@demo.labvisor", "Tom Assistant", "ta", "demo-ta" },
	{ "student@demo.labvisor", "Sam Student", "student", "demo-student" },
	{ "student2@demo.labvisor", "Kim Student", "student", "demo-student2" },
	{ NULL, NULL, NULL, NULL },
};

/* dir as a .tar.gz in memory (its files under the archive's top level). */
static int pack_folder(const char *dir, char **data, size_t *len, struct lv_err *err)
{
	struct archive *disk = archive_read_disk_new(), *out = archive_write_new();
	struct archive_entry *e;
	FILE *mem = open_memstream(data, len);
	int rc = 0;

	if (!disk || !out || !mem)
		return lv_err_set(err, "out of memory");
	archive_write_add_filter_gzip(out);
	archive_write_set_format_pax_restricted(out);
	archive_write_open_FILE(out, mem);
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_symlink_hybrid(disk);      /* follow dir itself if a link */
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK)
		rc = lv_err_set(err, "%s: %s", dir, archive_error_string(disk));
	while (rc == 0) {
		e = archive_entry_new();
		int r = archive_read_next_header2(disk, e);

		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r != ARCHIVE_OK) {
			rc = lv_err_set(err, "%s: %s", dir, archive_error_string(disk));
		} else {
			char path[4096];
			size_t skip = strlen(dir);

			snprintf(path, sizeof(path), "%s", archive_entry_pathname(e));
			archive_read_disk_descend(disk);
			archive_entry_set_pathname(e, path + skip + (path[skip] == '/'));
			if (*archive_entry_pathname(e) && archive_write_header(out, e) == ARCHIVE_OK &&
			    archive_entry_filetype(e) == AE_IFREG) {
				FILE *f = fopen(path, "rb");
				char buf[65536];
				size_t n;

				while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
					archive_write_data(out, buf, n);
				if (f)
					fclose(f);
			}
		}
		archive_entry_free(e);
	}
	archive_read_free(disk);
	archive_write_close(out);
	archive_write_free(out);
	fclose(mem);
	return rc;
}

static int add_example(struct db *db, int64_t course, int64_t instructor, const char *dir,
		       const char *name, struct lv_err *err)
{
	char path[4096], file[300];
	struct assignment a;
	struct new_assignment na;
	char *data = NULL;
	size_t len = 0;
	int64_t id;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (assignment_load(path, &a, err) < 0) {
		assignment_free(&a);
		return -1;
	}
	if (pack_folder(path, &data, &len, err) < 0) {
		assignment_free(&a);
		free(data);
		return -1;
	}
	snprintf(file, sizeof(file), "%s.tar.gz", name);
	na = (struct new_assignment){ .a = &a, .data = data, .len = len, .name = file,
				      .deadline_ms = store_now_ms() + 7LL * 24 * 3600 * 1000,
				      .late_penalty_pct = a.late_penalty_pct_per_day,
				      .late_cutoff_days = a.late_cutoff_days, .published = true };
	id = assignment_store(db, course, instructor, &na, err);
	assignment_free(&a);
	free(data);
	return id < 0 ? -1 : 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int demo_seed(struct db *db, const char *examples, struct lv_err *err)
{
	struct db_rows r;
	int64_t course, instructor = 0;
	char *names[64];
	size_t n = 0;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (db_query(db, "SELECT COUNT(*) FROM users", NULL, 0, &r, err) < 0)
		return -1;
	if (db_cell_int(&r, 0, 0) > 0) {
		db_rows_free(&r);
		return 0;                       /* seeded before (or a real database) */
	}
	db_rows_free(&r);
	for (const struct demo_account *acc = demo_accounts; acc->email; acc++) {
		int64_t id = user_ensure(db, acc->email, acc->name, acc->password,
					 strcmp(acc->role, "instructor") == 0, err);

		if (id <= 0)
			return -1;
		if (!instructor)
			instructor = id;
	}
	course = course_create(db, "CS-DEMO", "Operating Systems (demo)", instructor, err);
	if (course < 0)
		return -1;
	for (const struct demo_account *acc = demo_accounts + 1; acc->email; acc++) {
		struct member m = { .email = acc->email, .name = acc->name, .role = acc->role };

		if (enrol(db, course, &m, err) < 0)
			return -1;
	}
	if (!(d = opendir(examples)))
		return lv_err_sys(err, errno, "examples folder %s", examples);
	while ((e = readdir(d)) && n < sizeof(names) / sizeof(names[0])) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", examples, e->d_name);
		if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && add_example(db, course, instructor, examples, names[i], err) < 0)
			rc = -1;
		free(names[i]);
	}
	return rc;
}
