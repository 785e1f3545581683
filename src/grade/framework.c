#include "framework.h"

#include <unistd.h>

#include "archive.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(struct fw_results *r, const char *name, size_t len, const char *short_name,
	       bool passed)
{
	struct fw_result *grown = realloc(r->r, (r->n + 1) * sizeof(*r->r));

	if (!grown)
		return -1;
	r->r = grown;
	r->r[r->n].name = strndup(name, len);
	r->r[r->n].short_name = short_name ? strdup(short_name) : NULL;
	r->r[r->n].passed = passed;
	r->n++;
	return 0;
}

int fw_parse_tap(const char *text, struct fw_results *out, struct lv_err *err)
{
	memset(out, 0, sizeof(*out));
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n'), *p = line;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		bool ok = strncmp(p, "ok", 2) == 0, not_ok = strncmp(p, "not ok", 6) == 0;

		if ((ok && (len == 2 || p[2] == ' ')) || (not_ok && (len == 6 || p[6] == ' '))) {
			p += ok ? 2 : 6;
			while (p < line + len && (isspace((unsigned char)*p) || isdigit((unsigned char)*p)))
				p++;
			if (p < line + len && *p == '-')
				p++;
			while (p < line + len && isspace((unsigned char)*p))
				p++;
			const char *hash = memchr(p, '#', (size_t)(line + len - p));
			size_t nlen = (size_t)((hash ? hash : line + len) - p);

			while (nlen && isspace((unsigned char)p[nlen - 1]))
				nlen--;
			if (add(out, p, nlen, NULL, ok) < 0)
				return lv_err_set(err, "out of memory reading TAP");
		}
		line += len + (end ? 1 : 0);
	}
	return 0;
}

struct junit_state {
	struct fw_results *out;
	int depth_in_case;      /* > 0 inside a <testcase> */
	bool failed;
	char *name, *classname;
	bool oom;
};

static const char *attr(const char **atts, const char *key)
{
	for (int i = 0; atts[i]; i += 2)
		if (strcmp(atts[i], key) == 0)
			return atts[i + 1];
	return NULL;
}

static void XMLCALL on_start(void *ud, const char *el, const char **atts)
{
	struct junit_state *s = ud;

	if (s->depth_in_case > 0) {
		s->depth_in_case++;
		if (!strcmp(el, "failure") || !strcmp(el, "error") || !strcmp(el, "skipped"))
			s->failed = true;
		return;
	}
	if (strcmp(el, "testcase") == 0) {
		const char *n = attr(atts, "name"), *c = attr(atts, "classname");

		s->depth_in_case = 1;
		s->failed = false;
		s->name = strdup(n ? n : "");
		s->classname = c ? strdup(c) : NULL;
	}
}

static void XMLCALL on_end(void *ud, const char *el)
{
	struct junit_state *s = ud;
	char full[1024];

	(void)el;
	if (s->depth_in_case == 0 || --s->depth_in_case > 0)
		return;
	snprintf(full, sizeof(full), "%s%s%s", s->classname ? s->classname : "",
		 s->classname ? "." : "", s->name);
	if (add(s->out, full, strlen(full), s->name, !s->failed) < 0)
		s->oom = true;
	free(s->name);
	free(s->classname);
	s->name = s->classname = NULL;
}

int fw_parse_junit(const char *dir, const char *rel, struct fw_results *out, struct lv_err *err)
{
	struct junit_state s = { .out = out };
	XML_Parser p;
	char buf[65536];
	const char *file = rel;
	size_t n, total = 0;
	int rc = 0, fd = open_in(dir, rel, err);
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;

	memset(out, 0, sizeof(*out));
	if (!f) {
		if (fd >= 0)
			close(fd);
		return fd < 0 ? lv_err_wrap(err, "JUnit results") : lv_err_sys(err, errno, "%s", rel);
	}
	p = XML_ParserCreate(NULL);
	XML_SetUserData(p, &s);
	XML_SetElementHandler(p, on_start, on_end);
	do {
		n = fread(buf, 1, sizeof(buf), f);
		total += n;
		if (total > (64u << 20))
			rc = lv_err_set(err, "JUnit results %s are larger than 64 MiB", file);
		else if (XML_Parse(p, buf, (int)n, n == 0) == XML_STATUS_ERROR)
			rc = lv_err_set(err, "JUnit results %s:%lu: %s", file,
					(unsigned long)XML_GetCurrentLineNumber(p),
					XML_ErrorString(XML_GetErrorCode(p)));
	} while (rc == 0 && n > 0);
	if (rc == 0 && s.oom)
		rc = lv_err_set(err, "out of memory reading %s", file);
	free(s.name);
	free(s.classname);
	fclose(f);
	XML_ParserFree(p);
	return rc;
}

void fw_results_free(struct fw_results *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->r[i].name);
		free(r->r[i].short_name);
	}
	free(r->r);
	memset(r, 0, sizeof(*r));
}
