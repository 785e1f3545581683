/* Reference solution: n, then n integers; prints their sum. */
#include <stdio.h>

int main(void)
{
	int n, x, sum = 0;

	if (scanf("%d", &n) != 1) {
		fprintf(stderr, "error: expected a number\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (scanf("%d", &x) != 1) {
			fprintf(stderr, "error: expected a number\n");
			return 1;
		}
		sum += x;
	}
	printf("%d\n", sum);
	return 0;
}
