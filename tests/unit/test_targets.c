/* test_targets.c - target and port syntax, excludes, the reserved list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "scan/ports.h"
#include "scan/targets.h"
#include "test.h"

static int parse(const char *text, struct rangeset *rs)
{
	char err[TARGETS_ERR_LEN];
	rangeset_init(rs);
	int rc = targets_parse_text(text, NULL, rs, err, sizeof(err));
	rangeset_normalize(rs);
	return rc;
}

static uint32_t ip(const char *s)
{
	uint32_t v = 0;
	ipv4_parse(s, strlen(s), &v);
	return v;
}

TEST(targets_valid_forms)
{
	struct rangeset rs;
	CHECK(parse("198.51.100.7", &rs) == 0 && rs.total == 1);
	rangeset_free(&rs);
	CHECK(parse("198.51.100.0/24", &rs) == 0 && rs.total == 256);
	rangeset_free(&rs);
	CHECK(parse("198.51.100.77/24", &rs) == 0 && rs.total == 256 && rs.r[0].lo == ip("198.51.100.0"));
	rangeset_free(&rs);
	CHECK(parse("198.51.100.1-198.51.100.10", &rs) == 0 && rs.total == 10);
	rangeset_free(&rs);
	CHECK(parse("198.51.100.1-10", &rs) == 0 && rs.total == 10);
	rangeset_free(&rs);
	CHECK(parse("0.0.0.0/0", &rs) == 0 && rs.total == (1ULL << 32));
	rangeset_free(&rs);
	CHECK(parse("1.2.3.4/32, 1.2.3.5\n# comment 9.9.9.9\n1.2.3.6 # trailing\n", &rs) == 0 && rs.total == 3 && rs.n == 1);
	rangeset_free(&rs);
	CHECK(parse("255.255.255.255", &rs) == 0 && rs.total == 1);
	rangeset_free(&rs);
	/* overlapping inputs merge */
	CHECK(parse("10.0.0.0/24,10.0.0.128/25,10.0.1.0/24", &rs) == 0 && rs.total == 512 && rs.n == 1);
	rangeset_free(&rs);
}

TEST(targets_malformed_forms)
{
	static const char *const bad[] = {
		"1.2.3.4/33", "1.2.3.4/", "/24", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4",
		"1.2.3.4/024", "1..2.3", "a.b.c.d", "1.2.3.4-1.2.3.3", "1.2.3.4-", "-1.2.3.4", "1.2.3.4-256",
		"1.2.3.4/8/8", "1.2.3.4-5-6", "1.2.3.4/24-1.2.3.9", "example.com", "1.2.3.4 x", "::1",
		"1.2.3.4/-1", "1.2.3.4/3a", "99999999999.1.1.1", "1.2.3.4\x01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rangeset rs;
		int rc = parse(bad[i], &rs);
		if (rc == 0)
			printf("#   accepted bad target '%s'\n", bad[i]);
		CHECK(rc < 0);
		rangeset_free(&rs);
	}
}

TEST(targets_error_names_the_token)
{
	struct rangeset rs;
	char err[TARGETS_ERR_LEN];
	rangeset_init(&rs);
	CHECK(targets_parse_text("1.2.3.0/24,1.2.3.4/33", NULL, &rs, err, sizeof(err)) < 0);
	CHECK(strstr(err, "1.2.3.4/33") != NULL);
	rangeset_free(&rs);
}

TEST(targets_subtract_and_pick)
{
	struct rangeset rs, ex;
	parse("198.51.100.0/24", &rs);
	parse("198.51.100.0/26,198.51.100.128-198.51.100.130,198.51.100.255", &ex);
	rangeset_subtract(&rs, &ex);
	CHECK(rs.total == 256 - 64 - 3 - 1);
	CHECK(!rangeset_contains(&rs, ip("198.51.100.0")));
	CHECK(rangeset_contains(&rs, ip("198.51.100.64")));
	CHECK(!rangeset_contains(&rs, ip("198.51.100.129")));
	CHECK(rangeset_contains(&rs, ip("198.51.100.131")));
	CHECK(!rangeset_contains(&rs, ip("198.51.100.255")));
	/* pick walks the set in order */
	int ok = 1;
	uint32_t prev = 0;
	for (uint64_t i = 0; i < rs.total; i++) {
		uint32_t a = rangeset_pick(&rs, i);
		if (!rangeset_contains(&rs, a) || (i > 0 && a <= prev))
			ok = 0;
		prev = a;
	}
	CHECK(ok);
	rangeset_free(&rs);
	rangeset_free(&ex);
}

TEST(targets_reserved_list)
{
	struct rangeset rs, res;
	parse("0.0.0.0/0", &rs);
	rangeset_init(&res);
	targets_add_reserved(&res);
	rangeset_subtract(&rs, &res);
	static const char *const reserved[] = {
		"0.1.2.3", "10.1.2.3", "100.64.0.1", "127.0.0.1", "169.254.1.1", "172.16.0.1", "172.31.255.255",
		"192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.1",
		"203.0.113.1", "224.0.0.1", "239.255.255.255", "240.0.0.1", "255.255.255.255",
	};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		CHECK(!rangeset_contains(&rs, ip(reserved[i])));
	CHECK(rangeset_contains(&rs, ip("8.8.8.8")));
	CHECK(rangeset_contains(&rs, ip("172.32.0.1")));
	CHECK(rangeset_contains(&rs, ip("198.20.0.1")));
	rangeset_free(&rs);
	rangeset_free(&res);
}

TEST(targets_file)
{
	char path[] = "/tmp/vigil-test-targets-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "# lab targets\n198.19.0.0/30\n198.19.1.1 # one\n\n198.19.2.1-198.19.2.2\n";
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct rangeset rs;
	char err[TARGETS_ERR_LEN];
	rangeset_init(&rs);
	CHECK(targets_parse_file(path, &rs, err, sizeof(err)) == 0);
	rangeset_normalize(&rs);
	CHECK(rs.total == 7);
	rangeset_free(&rs);
	/* an error names file and line */
	fd = open(path, O_WRONLY | O_TRUNC);
	const char *bad = "198.19.0.0/30\n\n198.19.0.0/99\n";
	CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
	close(fd);
	rangeset_init(&rs);
	CHECK(targets_parse_file(path, &rs, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":3:") != NULL);
	rangeset_free(&rs);
	unlink(path);
	rangeset_init(&rs);
	CHECK(targets_parse_file("/nonexistent/targets", &rs, err, sizeof(err)) < 0);
	rangeset_free(&rs);
}

TEST(ports_valid)
{
	struct portset ps = {0};
	char err[256];
	CHECK(ports_parse("80", &ps, err, sizeof(err)) == 0 && ps.n == 1 && ps.ports[0] == 80);
	CHECK(ports_parse("443,80,8000-8002,80", &ps, err, sizeof(err)) == 0 && ps.n == 5);
	CHECK(ps.ports[0] == 80 && ps.ports[1] == 443 && ps.ports[4] == 8002);
	ports_free(&ps);
	CHECK(ports_parse("1-65535", &ps, err, sizeof(err)) == 0 && ps.n == 65535);
	ports_free(&ps);
	CHECK(ports_parse("65535", &ps, err, sizeof(err)) == 0 && ps.n == 1);
	ports_free(&ps);
}

TEST(ports_malformed)
{
	static const char *const bad[] = {
		"", "0", "65536", "70000", "80-", "-80", "80-70", "a", "80,", ",80", "80,,443", "1-65536",
		"0-10", "80 443", "+80", "8o", "999999", "80-90-100", "0x50",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct portset ps = {0};
		char err[256];
		int rc = ports_parse(bad[i], &ps, err, sizeof(err));
		if (rc == 0)
			printf("#   accepted bad port list '%s'\n", bad[i]);
		CHECK(rc < 0);
		ports_free(&ps);
	}
}
