/* resume.h - the --resume state file: the arguments that define a scan, its
 * seed, and how far through its shard it got. Written atomically (temp file
 * + rename) on SIGINT/SIGTERM and every few seconds as a checkpoint. */
#ifndef VIGIL_RESUME_H
#define VIGIL_RESUME_H

#include <stddef.h>
#include <stdint.h>

struct resume_state {
	uint64_t seed;
	uint64_t position;
	int64_t store_scan;  /* the index's scan id to continue, 0 if none */
	char **argv;  /* the scan's own arguments (without --resume) */
	int argc;
};

/* Returns 0, or -1 with a message in err. */
int resume_write(const char *path, const struct resume_state *st, char *err, size_t errlen);
/* Returns 1 if loaded, 0 if the file does not exist, -1 on a bad file. */
int resume_read(const char *path, struct resume_state *st, char *err, size_t errlen);
void resume_free(struct resume_state *st);

#endif
