/*
 * Errors with context.  A function that can fail takes a `struct lv_err *`
 * and fills it with one human sentence ("open /x/y: No such file or
 * directory"); callers add nothing but may prefix with lv_err_wrap().
 */
#ifndef LV_UTIL_ERR_H
#define LV_UTIL_ERR_H

#include <stdarg.h>

struct lv_err {
	int  errnum;        /* errno of the root cause, 0 when not a system error */
	char msg[512];
};

/* Sets err->msg to the formatted text; always returns -1. */
int lv_err_set(struct lv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like lv_err_set, with ": strerror(errnum)" appended; returns -1. */
int lv_err_sys(struct lv_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with the formatted text and ": "; returns -1. */
int lv_err_wrap(struct lv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
