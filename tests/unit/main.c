/* main.c - runs every registered unit test; prints "ok"/"not ok" per test
 * and "N passed, N failed" last. Exit 1 if any failed. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

static struct test_case tests[512];
static int ntests;
int test_failures;

void test_register(const char *name, void (*fn)(void))
{
	if (ntests < 512)
		tests[ntests++] = (struct test_case){name, fn};
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		int before = test_failures;
		tests[i].fn();
		if (test_failures == before) {
			printf("ok - unit: %s\n", tests[i].name);
			passed++;
		} else {
			printf("not ok - unit: %s\n", tests[i].name);
			failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
