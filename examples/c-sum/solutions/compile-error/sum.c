/* Reference solution: n, then n integers; prints their sum. */
#include <stdio.h>

int main(void)
{
	long long n, x, sum = 0;

	if (scanf("%lld", &n) != 1) {
		fprintf(stderr, "error: expected a number\n");
		return 1;
	}
	for (long long i = 0; i < n; i++) {
		if (scanf("%lld", &x) != 1) {
			fprintf(stderr, "error: expected a number\n");
			return 1;
		}
		sum += x;
	}
	printf("%lld\n", sum);
	return 0
}
