/* Parsing of command-line values shared by every subcommand. */
#ifndef LV_UTIL_PARSE_H
#define LV_UTIL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * "64M", "1G", "4096", "512k": a byte count with an optional binary
 * suffix (K, M, G; case-insensitive; an optional trailing "iB" or "B").
 * Returns false on anything else, on zero and on overflow.
 */
bool lv_parse_size(const char *s, uint64_t *out);

/* A whole number in [min, max], decimal only. */
bool lv_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

/* A positive number of seconds, fractions allowed ("2", "0.5"). */
bool lv_parse_seconds(const char *s, double *out);

#endif
