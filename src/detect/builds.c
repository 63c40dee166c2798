/* builds.c - reads the ToolShell version table (data/toolshell.tsv) and
 * compares builds against it. */
#include "detect/builds.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char data_toolshell[];

#define BUILDS_MAX_LINES 16
#define BUILDS_MAX_FIXES 32

struct builds_line {
	char name[16];
	int major;
	long lo, hi;
	bool eol;
};

struct builds_fix {
	char line[16];
	char name[16];
	struct sp_build build;
	char cves[128];
};

static struct builds_line lines[BUILDS_MAX_LINES];
static struct builds_fix fixes[BUILDS_MAX_FIXES];
static int nlines, nfixes;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

int builds_parse(const char *s, bool full, struct sp_build *out)
{
	long f[4];
	int n = 0;
	const char *p = s;
	for (; n < 4; n++) {
		char *end;
		if (*p < '0' || *p > '9')
			return -1;
		f[n] = strtol(p, &end, 10);
		if (end - p > 6)
			return -1;
		p = end;
		if (n < 3) {
			if (*p != '.')
				return -1;
			p++;
		}
	}
	if (*p != '\0' || f[0] < 1 || f[0] > 99)
		return -1;
	out->major = (int)f[0];
	if (full) {
		out->build = f[2];
		out->rev = f[3];
	} else {
		/* "16.0.0.10417": the build is in the last field */
		out->build = f[3];
		out->rev = -1;
	}
	return 0;
}

void builds_format(const struct sp_build *b, char *buf, size_t size)
{
	if (b->rev >= 0)
		snprintf(buf, size, "%d.0.%ld.%ld", b->major, b->build, b->rev);
	else
		snprintf(buf, size, "%d.0.0.%ld", b->major, b->build);
}

static void builds_load(void)
{
	const char *p = data_toolshell;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char row[512];
		if (len < sizeof(row) && len > 0 && p[0] != '#') {
			memcpy(row, p, len);
			row[len] = '\0';
			char *f[6] = {0};
			int nf = 0;
			for (char *tok = strtok(row, "\t"); tok && nf < 6; tok = strtok(NULL, "\t"))
				f[nf++] = tok;
			if (nf == 6 && strcmp(f[0], "line") == 0 && nlines < BUILDS_MAX_LINES) {
				struct builds_line *l = &lines[nlines++];
				snprintf(l->name, sizeof(l->name), "%s", f[1]);
				l->major = atoi(f[2]);
				l->lo = atol(f[3]);
				l->hi = atol(f[4]);
				l->eol = strcmp(f[5], "eol") == 0;
			} else if (nf == 5 && strcmp(f[0], "fix") == 0 && nfixes < BUILDS_MAX_FIXES) {
				struct builds_fix *x = &fixes[nfixes];
				snprintf(x->line, sizeof(x->line), "%s", f[1]);
				snprintf(x->name, sizeof(x->name), "%s", f[2]);
				snprintf(x->cves, sizeof(x->cves), "%s", f[4]);
				if (builds_parse(f[3], true, &x->build) == 0)
					nfixes++;
			}
		}
		p += len + (eol ? 1 : 0);
	}
}

static const struct builds_line *find_line(const struct sp_build *b)
{
	for (int i = 0; i < nlines; i++) {
		const struct builds_line *l = &lines[i];
		if (l->major != b->major)
			continue;
		if (l->eol || (b->build >= l->lo && b->build <= l->hi))
			return l;
	}
	return NULL;
}

static const struct builds_fix *find_fix(const char *line, const char *name)
{
	for (int i = 0; i < nfixes; i++)
		if (strcmp(fixes[i].line, line) == 0 && strcmp(fixes[i].name, name) == 0)
			return &fixes[i];
	return NULL;
}

static void add_cves(struct strlist *l, const char *csv)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", csv);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		strlist_add(l, t);
}

/* -1 below the fix, 1 at or above it, 0 cannot tell (partial build). */
static int compare_to_fix(const struct sp_build *b, const struct sp_build *fix)
{
	if (b->build != fix->build)
		return b->build < fix->build ? -1 : 1;
	if (b->rev < 0)
		return 0;
	return b->rev < fix->rev ? -1 : 1;
}

void builds_judge(const struct sp_build *b, struct builds_verdict *v)
{
	pthread_once(&table_once, builds_load);
	memset(v, 0, sizeof(*v));
	char seen[32];
	builds_format(b, seen, sizeof(seen));
	const struct builds_line *line = find_line(b);
	if (line && line->eol) {
		v->verdict = "eol";
		v->edition = line->name;
		snprintf(v->reason, sizeof(v->reason), "SharePoint %s (%s) is end of life: no fix exists; disconnect or upgrade",
			 line->name, seen);
		return;
	}
	if (b->build == 0) {
		v->verdict = "patch-unknown";
		snprintf(v->reason, sizeof(v->reason), "only the major version (%d) is visible: the build cannot be placed", b->major);
		return;
	}
	if (!line) {
		v->verdict = "patch-unknown";
		snprintf(v->reason, sizeof(v->reason), "build %s is in no known SharePoint product line", seen);
		return;
	}
	v->edition = line->name;
	const struct builds_fix *j8 = find_fix(line->name, "july8"), *j21 = find_fix(line->name, "july21");
	if (!j8 || !j21) {
		v->verdict = "patch-unknown";
		snprintf(v->reason, sizeof(v->reason), "no fix data for SharePoint %s", line->name);
		return;
	}
	char f8[32], f21[32];
	builds_format(&j8->build, f8, sizeof(f8));
	builds_format(&j21->build, f21, sizeof(f21));
	int c21 = compare_to_fix(b, &j21->build);
	int c8 = compare_to_fix(b, &j8->build);
	if (c21 > 0) {
		v->verdict = "patched";
		snprintf(v->reason, sizeof(v->reason), "SharePoint %s build %s >= %s (July 2025 emergency fix)", line->name, seen, f21);
	} else if (c21 < 0 && c8 > 0) {
		v->verdict = "july8-only";
		add_cves(&v->vulns, j21->cves);
		snprintf(v->reason, sizeof(v->reason), "SharePoint %s build %s has the July 8 fix (%s) but not the July 20-22 fix (%s)",
			 line->name, seen, f8, f21);
	} else if (c8 < 0) {
		v->verdict = "vulnerable";
		add_cves(&v->vulns, j8->cves);
		add_cves(&v->vulns, j21->cves);
		snprintf(v->reason, sizeof(v->reason), "SharePoint %s build %s is below the July 8 fix (%s)", line->name, seen, f8);
	} else {
		v->verdict = "patch-unknown";
		snprintf(v->reason, sizeof(v->reason),
			 "SharePoint %s build %s is ambiguous: the revision is needed to compare with %s and %s",
			 line->name, seen, f8, f21);
	}
}
