/* output.h - output modules: where results go. Each module is a struct of
 * function pointers looked up by name, like ZMap's output modules. */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lib/record.h"

struct output;

struct output_module {
	const char *name;
	/* Open the destination ("-" is stdout). append: keep what is there.
	 * Returns 0, or -1 with a message in err. */
	int (*open)(struct output *out, const char *path, bool append, char *err, size_t errlen);
	void (*write)(struct output *out, const struct service_record *rec);
	void (*flush)(struct output *out);
	/* Flush and close; returns 0 or -1 with a message (e.g. disk full). */
	int (*close)(struct output *out, char *err, size_t errlen);
};

struct output {
	const struct output_module *mod;
	FILE *fp;
	bool is_stdout;
	int write_error;  /* errno of the first failed write, 0 if none */
	struct strbuf line;
};

const struct output_module *output_find(const char *name);
/* Open a file for writing without following a symlink at path, mode 0644. */
FILE *output_open_file(const char *path, bool append, char *err, size_t errlen);

#endif
