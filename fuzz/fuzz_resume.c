/* fuzz_resume.c - libFuzzer target for the --resume state-file reader
 * (a file a user may hand-edit or a crash may truncate). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "scan/resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/vigil-fuzz-resume-%d", (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	struct resume_state st;
	char err[256];
	if (resume_read(path, &st, err, sizeof(err)) == 1)
		resume_free(&st);
	unlink(path);
	return 0;
}
