/* The RIP sample tables of `vm run --profile`: counting, merging, sorting, a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/guest_profile.h"

/* The written profile as text (the caller frees it). */
static char *write_all(const struct guest_profile *const *t, unsigned n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(guest_profile_write(f, t, n, 1.5), 0);
	fclose(f);
	return text;
}

static void merged_and_sorted(void **state)
{
	struct guest_profile a, b;
	const struct guest_profile *t[] = { &a, &b };
	char *text;

	(void)state;
	assert_int_equal(guest_profile_init(&a), 0);
	assert_int_equal(guest_profile_init(&b), 0);
	for (int i = 0; i < 3; i++)
		guest_profile_add(&a, 0xffffffff81000010ull);
	guest_profile_add(&a, 0x401000);
	for (int i = 0; i < 4; i++)
		guest_profile_add(&b, 0x401000);
	guest_profile_add(&b, 0);                       /* counted, as RIP 1 */
	text = write_all(t, 2);
	assert_string_equal(text,
		"# labvisor guest profile: 9 samples of RIP every 10 ms over 1.5 s, 2 vCPU(s)\n"
		"# count rip\n"
		"5 0x401000\n"
		"3 0xffffffff81000010\n"
		"1 0x1\n");
	free(text);
	guest_profile_free(&a);
	guest_profile_free(&b);
}

static void a_full_table_drops_and_says_so(void **state)
{
	struct guest_profile p;
	const struct guest_profile *t[] = { &p };
	char *text;

	(void)state;
	assert_int_equal(guest_profile_init(&p), 0);
	for (uint64_t i = 0; i < PROFILE_SLOTS + 10; i++)
		guest_profile_add(&p, 0x1000 + i * 16);
	assert_int_equal(p.samples, PROFILE_SLOTS + 10);
	assert_int_equal(p.dropped, 10);
	text = write_all(t, 1);
	assert_non_null(strstr(text, "(some RIPs dropped: table full)"));
	free(text);
	guest_profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merged_and_sorted),
		cmocka_unit_test(a_full_table_drops_and_says_so),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
