/* The RIP sample tables of `vm run --profile` (guest_profile.h). */
#include <errno.h>
#include <stdlib.h>

#include "guest_profile.h"

int guest_profile_init(struct guest_profile *p)
{
	p->rip = calloc(PROFILE_SLOTS, sizeof(*p->rip));
	p->count = calloc(PROFILE_SLOTS, sizeof(*p->count));
	p->samples = p->dropped = 0;
	if (p->rip && p->count)
		return 0;
	guest_profile_free(p);
	errno = ENOMEM;
	return -1;
}

void guest_profile_free(struct guest_profile *p)
{
	free(p->rip);
	free(p->count);
	p->rip = NULL;
	p->count = NULL;
}

static size_t slot_of(const struct guest_profile *p, uint64_t rip, int *found)
{
	size_t i = (size_t)((rip * 0x9e3779b97f4a7c15ull) >> 48) & (PROFILE_SLOTS - 1);

	for (size_t probe = 0; probe < PROFILE_SLOTS; probe++, i = (i + 1) & (PROFILE_SLOTS - 1)) {
		if (p->rip[i] == rip || p->rip[i] == 0) {
			*found = p->rip[i] == rip;
			return i;
		}
	}
	*found = -1;
	return 0;
}

void guest_profile_add(struct guest_profile *p, uint64_t rip)
{
	int found;
	size_t i;

	p->samples++;
	rip |= rip == 0;        /* 0 marks an empty slot; RIP 0 is counted as 1 */
	i = slot_of(p, rip, &found);
	if (found < 0) {
		p->dropped++;
		return;
	}
	p->rip[i] = rip;
	p->count[i]++;
}

struct sample { uint64_t rip; uint64_t count; };

static int by_count(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->rip < y->rip ? -1 : x->rip > y->rip;
}

int guest_profile_write(FILE *f, const struct guest_profile *const *tables, unsigned n,
			double wall_sec)
{
	struct guest_profile all;
	struct sample *s;
	size_t used = 0;
	uint64_t dropped = 0;

	if (guest_profile_init(&all) < 0)
		return -1;
	for (unsigned t = 0; t < n; t++) {
		for (size_t i = 0; i < PROFILE_SLOTS; i++) {
			int found;
			size_t j;

			if (!tables[t]->rip || !tables[t]->rip[i])
				continue;
			j = slot_of(&all, tables[t]->rip[i], &found);
			if (found < 0) {
				dropped += tables[t]->count[i];
				continue;
			}
			all.rip[j] = tables[t]->rip[i];
			all.count[j] += tables[t]->count[i];
		}
		all.samples += tables[t]->samples;
		dropped += tables[t]->dropped;
	}
	s = calloc(PROFILE_SLOTS, sizeof(*s));
	if (!s) {
		guest_profile_free(&all);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < PROFILE_SLOTS; i++)
		if (all.rip[i])
			s[used++] = (struct sample){ all.rip[i], all.count[i] };
	qsort(s, used, sizeof(*s), by_count);
	fprintf(f, "# labvisor guest profile: %llu samples of RIP every %d ms over %.1f s, "
		"%u vCPU(s)%s\n# count rip\n", (unsigned long long)all.samples, PROFILE_TICK_MS,
		wall_sec, n, dropped ? " (some RIPs dropped: table full)" : "");
	for (size_t i = 0; i < used; i++)
		fprintf(f, "%llu 0x%llx\n", (unsigned long long)s[i].count,
			(unsigned long long)s[i].rip);
	free(s);
	guest_profile_free(&all);
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
