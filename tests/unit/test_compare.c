/* Output comparison modes, the diff, and the TAP / JUnit readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "grade/compare.h"
#include "grade/framework.h"

static void modes(void **state)
{
	(void)state;
	assert_int_equal(output_matches("7\n", "7\n", CMP_EXACT, 0), 1);
	assert_int_equal(output_matches("7\n", "7", CMP_EXACT, 0), 0);
	assert_int_equal(output_matches("7\n", "7  \r\n\n\n", CMP_TRAILING_WS, 0), 1);
	assert_int_equal(output_matches("a b\n", "a  b\n", CMP_TRAILING_WS, 0), 0);
	assert_int_equal(output_matches("", "\n\n", CMP_TRAILING_WS, 0), 1);
	assert_int_equal(output_matches("Hello\n", "hELLO", CMP_IGNORE_CASE, 0), 1);
	assert_int_equal(output_matches("^[0-9]+\n$", "42\n", CMP_REGEX, 0), 1);
	assert_int_equal(output_matches("[0-9]+", "x42", CMP_REGEX, 0), 0);   /* whole output */
	assert_int_equal(output_matches("(", "x", CMP_REGEX, 0), -1);
	assert_int_equal(output_matches("pi 3.14159", "pi   3.1416\n", CMP_NUMBERS, 1e-4), 1);
	assert_int_equal(output_matches("pi 3.14159", "pi 3.2", CMP_NUMBERS, 1e-4), 0);
	assert_int_equal(output_matches("pi 3", "PI 3", CMP_NUMBERS, 1e-4), 0);
	assert_int_equal(output_matches("1 2", "1 2 3", CMP_NUMBERS, 1e-4), 0);
	assert_int_equal(output_matches("1e9", "1000000001", CMP_NUMBERS, 1e-6), 1);  /* relative */
}

static void diff(void **state)
{
	char *d = output_diff("a\nb\nc\n", "a\nx\nc\n", 40);

	(void)state;
	assert_string_equal(d, " a\n-b\n+x\n c\n");
	free(d);
	d = output_diff("1\n2\n3\n4\n5\n", "", 2);
	assert_non_null(strstr(d, "-1\n-2\n"));
	assert_non_null(strstr(d, "(3 more lines)"));
	free(d);
}

static void tap(void **state)
{
	struct fw_results r;
	struct lv_err err;

	(void)state;
	assert_int_equal(fw_parse_tap("1..3\nok 1 - first one\nnot ok 2 second # because\n"
				      "# a comment\nok 3\nokay 4 - not a case\n", &r, &err), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.r[0].name, "first one");
	assert_true(r.r[0].passed);
	assert_string_equal(r.r[1].name, "second");
	assert_false(r.r[1].passed);
	assert_string_equal(r.r[2].name, "");
	fw_results_free(&r);
}

static void junit(void **state)
{
	char path[] = "/tmp/lv-junit-XXXXXX";
	int fd = mkstemp(path);
	const char *xml =
		"<?xml version=\"1.0\"?><testsuites><testsuite name=\"s\">"
		"<testcase classname=\"T\" name=\"a\"/>"
		"<testcase classname=\"T\" name=\"b\"><failure message=\"no\">x</failure></testcase>"
		"<testcase name=\"c\"><skipped/></testcase>"
		"</testsuite></testsuites>";
	struct fw_results r;
	struct lv_err err;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml, strlen(xml)), (int)strlen(xml));
	close(fd);
	assert_int_equal(fw_parse_junit("/tmp", path + 5, &r, &err), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.r[0].name, "T.a");
	assert_string_equal(r.r[0].short_name, "a");
	assert_true(r.r[0].passed);
	assert_false(r.r[1].passed);
	assert_false(r.r[2].passed);
	fw_results_free(&r);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "<a><b></a>", 10), 10);
	close(fd);
	assert_int_equal(fw_parse_junit("/tmp", path + 5, &r, &err), -1);
	assert_non_null(strstr(err.msg, "mismatched tag"));
	/* A results file the submission replaced by a link is not followed. */
	char link[64];
	snprintf(link, sizeof(link), "%s.lnk", path);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(fw_parse_junit("/tmp", link + 5, &r, &err), -1);
	unlink(link);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(modes),
		cmocka_unit_test(diff),
		cmocka_unit_test(tap),
		cmocka_unit_test(junit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
