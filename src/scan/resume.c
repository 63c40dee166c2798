/* resume.c - reads and writes the --resume state file (a small text format:
 * "vigil-resume 1", then "seed N", "position N" and one "arg X" per argument,
 * with bytes outside printable ASCII and '%' written as %XX). */
#include "scan/resume.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/strbuf.h"

int resume_write(const char *path, const struct resume_state *st, char *err, size_t errlen)
{
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_printf(&sb, "vigil-resume 1\nseed %" PRIu64 "\nposition %" PRIu64 "\n", st->seed, st->position);
	if (st->store_scan > 0)
		strbuf_printf(&sb, "store_scan %" PRId64 "\n", st->store_scan);
	for (int i = 0; i < st->argc; i++) {
		strbuf_adds(&sb, "arg ");
		for (const unsigned char *p = (const unsigned char *)st->argv[i]; *p; p++) {
			if (*p <= ' ' || *p >= 0x7f || *p == '%')
				strbuf_printf(&sb, "%%%02X", *p);
			else
				strbuf_add(&sb, p, 1);
		}
		strbuf_adds(&sb, "\n");
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write resume file %s: %s", tmp, strerror(errno));
		strbuf_free(&sb);
		return -1;
	}
	size_t want = sb.len;
	ssize_t w = write(fd, sb.data, want);
	int saved = errno;
	strbuf_free(&sb);
	if (w < 0 || (size_t)w != want || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write resume file %s: %s", tmp, strerror(w < 0 ? saved : ENOSPC));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write resume file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int resume_read(const char *path, struct resume_state *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read resume file %s: %s", path, strerror(errno));
		return -1;
	}
	char line[8192];
	int lineno = 0, have_seed = 0, have_pos = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "vigil-resume 1") != 0)
				goto bad;
			continue;
		}
		char *end;
		if (strncmp(line, "seed ", 5) == 0) {
			errno = 0;
			st->seed = strtoull(line + 5, &end, 10);
			if (errno || *end || end == line + 5)
				goto bad;
			have_seed = 1;
		} else if (strncmp(line, "position ", 9) == 0) {
			errno = 0;
			st->position = strtoull(line + 9, &end, 10);
			if (errno || *end || end == line + 9)
				goto bad;
			have_pos = 1;
		} else if (strncmp(line, "store_scan ", 11) == 0) {
			errno = 0;
			st->store_scan = strtoll(line + 11, &end, 10);
			if (errno || *end || end == line + 11 || st->store_scan < 0)
				goto bad;
		} else if (strncmp(line, "arg ", 4) == 0) {
			char *arg = xmalloc(len);
			size_t o = 0;
			for (size_t i = 4; i < len; i++) {
				if (line[i] == '%') {
					int hi = i + 2 < len ? hexval(line[i + 1]) : -1;
					int lo = i + 2 < len ? hexval(line[i + 2]) : -1;
					if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
						free(arg);
						goto bad;
					}
					arg[o++] = (char)(hi * 16 + lo);
					i += 2;
				} else {
					arg[o++] = line[i];
				}
			}
			arg[o] = '\0';
			st->argv = xrealloc(st->argv, (size_t)(st->argc + 1) * sizeof(char *));
			st->argv[st->argc++] = arg;
		} else {
			goto bad;
		}
	}
	fclose(f);
	if (lineno == 0 || !have_seed || !have_pos)
		goto bad_closed;
	return 1;
bad:
	fclose(f);
bad_closed:
	resume_free(st);
	snprintf(err, errlen, "resume file %s is damaged or not a vigil resume file (line %d); remove it to start afresh", path, lineno);
	return -1;
}

void resume_free(struct resume_state *st)
{
	for (int i = 0; i < st->argc; i++)
		free(st->argv[i]);
	free(st->argv);
	st->argv = NULL;
	st->argc = 0;
}
