/* Command-line values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/parse.h"

static void sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(lv_parse_size("4096", &v));   assert_int_equal(v, 4096);
	assert_true(lv_parse_size("512K", &v));   assert_int_equal(v, 512u << 10);
	assert_true(lv_parse_size("16m", &v));    assert_int_equal(v, 16u << 20);
	assert_true(lv_parse_size("2GiB", &v));   assert_int_equal(v, 2ull << 30);
	assert_true(lv_parse_size("1MB", &v));    assert_int_equal(v, 1u << 20);
	assert_false(lv_parse_size("", &v));
	assert_false(lv_parse_size("0", &v));
	assert_false(lv_parse_size("-1M", &v));
	assert_false(lv_parse_size("12Q", &v));
	assert_false(lv_parse_size("1M extra", &v));
	assert_false(lv_parse_size("99999999999999999999", &v));
	assert_false(lv_parse_size("17179869184G", &v));   /* 2^34 GiB overflows */
}

static void numbers(void **state)
{
	unsigned long n;
	double d;

	(void)state;
	assert_true(lv_parse_uint("8", 1, 64, &n)); assert_int_equal(n, 8);
	assert_false(lv_parse_uint("0", 1, 64, &n));
	assert_false(lv_parse_uint("65", 1, 64, &n));
	assert_false(lv_parse_uint("3x", 1, 64, &n));
	assert_true(lv_parse_seconds("0.5", &d));
	assert_true(d > 0.49 && d < 0.51);
	assert_false(lv_parse_seconds("0", &d));
	assert_false(lv_parse_seconds("nan", &d));
	assert_false(lv_parse_seconds("-1", &d));
	assert_false(lv_parse_seconds("1e999", &d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
