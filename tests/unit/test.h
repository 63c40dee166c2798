/* test.h - a tiny unit-test harness: TEST(name) registers a function,
 * CHECK(cond) records a failure with file:line, main prints TAP-style
 * "ok - name" / "not ok - name" and the counts. */
#ifndef VIGIL_TEST_H
#define VIGIL_TEST_H

#include <stdio.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

void test_register(const char *name, void (*fn)(void));
extern int test_failures;

#define TEST(name)                                                              \
	static void test_##name(void);                                          \
	__attribute__((constructor)) static void test_reg_##name(void)          \
	{                                                                       \
		test_register(#name, test_##name);                              \
	}                                                                       \
	static void test_##name(void)

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			test_failures++;                                        \
			fprintf(stdout, "#   %s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                               \
		}                                                               \
	} while (0)

#endif
