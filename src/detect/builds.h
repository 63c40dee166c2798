/* builds.h - SharePoint build numbers and the ToolShell verdict table
 * (data/toolshell.tsv, compiled in). Pure functions: unit-tested directly. */
#ifndef VIGIL_BUILDS_H
#define VIGIL_BUILDS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/record.h"

/* A build as seen: full "16.0.10417.20037", or partial "16.0.0.10417"
 * (header / service.cnf form: major and build, revision unknown), or
 * major-only ("16.00.0.000" from _vti_inf.html: build = 0). */
struct sp_build {
	int major;
	long build;     /* third field of the full form; 0 if unknown */
	long rev;       /* fourth field; -1 if unknown (partial) */
};

/* Parse a full build "M.0.B.R" (full=true) or the partial header form
 * "M.0.0.B" (full=false). Returns 0 or -1. */
int builds_parse(const char *s, bool full, struct sp_build *out);
/* Format as the source showed it ("16.0.10417.20037" or "16.0.0.10417"). */
void builds_format(const struct sp_build *b, char *buf, size_t size);

struct builds_verdict {
	const char *verdict;   /* eol, vulnerable, july8-only, patched, patch-unknown */
	const char *edition;   /* 2010, 2013, 2016, 2019, se, or NULL */
	struct strlist vulns;  /* CVE ids that apply */
	char reason[256];      /* one line, goes into evidence */
};

/* Decide the ToolShell verdict for a build. Never guesses: a build that
 * cannot be placed on one side of a fix is patch-unknown with the reason.
 * Caller frees v->vulns. */
void builds_judge(const struct sp_build *b, struct builds_verdict *v);

#endif
