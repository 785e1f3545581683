#include "compare.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Lines without trailing blanks, and without trailing empty lines. */
static char *normalise(const char *s)
{
	size_t n = strlen(s), o = 0, line_start = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '\n' || c == '\0') {
			while (o > line_start && (out[o - 1] == ' ' || out[o - 1] == '\t' ||
						  out[o - 1] == '\r'))
				o--;
			if (c == '\n')
				out[o++] = '\n';
			line_start = o;
		} else {
			out[o++] = c;
		}
	}
	while (o > 0 && out[o - 1] == '\n')
		o--;
	out[o] = '\0';
	return out;
}

static int match_normalised(const char *e, const char *a, bool ignore_case)
{
	char *x = normalise(e), *y = normalise(a);
	int r = x && y && (ignore_case ? strcasecmp(x, y) : strcmp(x, y)) == 0;

	free(x);
	free(y);
	return r;
}

static int match_regex(const char *e, const char *a)
{
	regex_t re;
	regmatch_t m;
	int r;

	if (regcomp(&re, e, REG_EXTENDED) != 0)
		return -1;
	r = regexec(&re, a, 1, &m, 0) == 0 && m.rm_so == 0 && (size_t)m.rm_eo == strlen(a);
	regfree(&re);
	return r;
}

static const char *next_token(const char *p, size_t *len)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	*len = 0;
	while (p[*len] && !isspace((unsigned char)p[*len]))
		(*len)++;
	return p;
}

static bool number(const char *t, size_t len, double *v)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, t, len);
	buf[len] = '\0';
	*v = strtod(buf, &end);
	return *end == '\0' && isfinite(*v);
}

static int match_numbers(const char *e, const char *a, double tol)
{
	for (;;) {
		size_t le, la;
		double x, y;

		e = next_token(e, &le);
		a = next_token(a, &la);
		if (le == 0 || la == 0)
			return le == la;
		if (number(e, le, &x) && number(a, la, &y)) {
			if (fabs(x - y) > tol && fabs(x - y) > tol * fabs(x))
				return 0;
		} else if (le != la || memcmp(e, a, le) != 0) {
			return 0;
		}
		e += le;
		a += la;
	}
}

int output_matches(const char *expected, const char *actual, enum cmp_mode mode, double tolerance)
{
	switch (mode) {
	case CMP_EXACT:       return strcmp(expected, actual) == 0;
	case CMP_IGNORE_CASE: return match_normalised(expected, actual, true);
	case CMP_REGEX:       return match_regex(expected, actual);
	case CMP_NUMBERS:     return match_numbers(expected, actual, tolerance);
	default:              return match_normalised(expected, actual, false);
	}
}

/* ---- diff: longest common subsequence of lines, for outputs of modest size ---- */

struct lines {
	const char **at;
	size_t *len;
	size_t n;
};

static struct lines split(const char *s)
{
	struct lines l = { 0 };
	size_t cap = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (l.n == cap) {
			cap = cap ? cap * 2 : 64;
			l.at = realloc(l.at, cap * sizeof(*l.at));
			l.len = realloc(l.len, cap * sizeof(*l.len));
		}
		l.at[l.n] = s;
		l.len[l.n++] = len;
		s += len + (nl ? 1 : 0);
	}
	return l;
}

static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

struct out {
	char *buf;
	size_t len, cap, lines, max_lines;
};

static void emit(struct out *o, char tag, const char *s, size_t n)
{
	if (o->lines++ >= o->max_lines)
		return;
	if (o->len + n + 4 > o->cap) {
		o->cap = (o->len + n + 4) * 2;
		o->buf = realloc(o->buf, o->cap);
	}
	o->buf[o->len++] = tag;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len++] = '\n';
	o->buf[o->len] = '\0';
}

#define DIFF_MAX_CELLS (4u << 20)

char *output_diff(const char *expected, const char *actual, size_t max_lines)
{
	struct lines a = split(expected), b = split(actual);
	struct out o = { .buf = calloc(1, 64), .cap = 64, .max_lines = max_lines };
	unsigned *lcs = NULL;
	size_t i = 0, j = 0, w = b.n + 1;

	if ((a.n + 1) * w <= DIFF_MAX_CELLS)
		lcs = calloc((a.n + 1) * w, sizeof(*lcs));
	if (lcs) {
		for (size_t x = a.n; x-- > 0;)
			for (size_t y = b.n; y-- > 0;)
				lcs[x * w + y] = same(&a, x, &b, y) ? lcs[(x + 1) * w + y + 1] + 1
					: (lcs[(x + 1) * w + y] > lcs[x * w + y + 1] ? lcs[(x + 1) * w + y]
										   : lcs[x * w + y + 1]);
		while (i < a.n || j < b.n) {
			if (i < a.n && j < b.n && same(&a, i, &b, j)) {
				emit(&o, ' ', a.at[i], a.len[i]);
				i++, j++;
			} else if (i < a.n && (j == b.n || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
				emit(&o, '-', a.at[i], a.len[i]);
				i++;
			} else {
				emit(&o, '+', b.at[j], b.len[j]);
				j++;
			}
		}
	} else {        /* too large for a full diff: the first difference */
		while (i < a.n && i < b.n && same(&a, i, &b, i))
			i++;
		if (i < a.n)
			emit(&o, '-', a.at[i], a.len[i]);
		if (i < b.n)
			emit(&o, '+', b.at[i], b.len[i]);
	}
	if (o.lines > max_lines) {
		char more[64];

		snprintf(more, sizeof(more), "... (%zu more lines)", o.lines - max_lines);
		o.max_lines = o.lines + 1;
		emit(&o, ' ', more, strlen(more));
	}
	free(lcs);
	free(a.at);
	free(a.len);
	free(b.at);
	free(b.len);
	return o.buf;
}
