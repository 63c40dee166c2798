/* output.c - the JSON Lines output module and the output registry. */
#include "scan/output.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "lib/timeutil.h"
#include "scan/targets.h"

FILE *output_open_file(const char *path, bool append, char *err, size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
	int fd = open(path, flags, 0644);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(err, errlen, "refusing to write %s: it is a symbolic link", path);
		else
			snprintf(err, errlen, "cannot write %s: %s (check the directory exists and is writable)", path, strerror(errno));
		return NULL;
	}
	FILE *fp = fdopen(fd, append ? "a" : "w");
	if (!fp) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(fd);
	}
	return fp;
}

static int jsonl_open(struct output *out, const char *path, bool append, char *err, size_t errlen)
{
	out->write_error = 0;
	strbuf_init(&out->line);
	if (strcmp(path, "-") == 0) {
		out->fp = stdout;
		out->is_stdout = true;
		return 0;
	}
	out->is_stdout = false;
	out->fp = output_open_file(path, append, err, errlen);
	return out->fp ? 0 : -1;
}

static void jsonl_write(struct output *out, const struct service_record *rec)
{
	strbuf_reset(&out->line);
	record_to_json(rec, &out->line);
	if (fwrite(out->line.data, 1, out->line.len, out->fp) != out->line.len && !out->write_error)
		out->write_error = errno ? errno : EIO;
}

static void jsonl_flush(struct output *out)
{
	if (fflush(out->fp) != 0 && !out->write_error)
		out->write_error = errno ? errno : EIO;
}

static int jsonl_close(struct output *out, char *err, size_t errlen)
{
	jsonl_flush(out);
	if (!out->is_stdout && fclose(out->fp) != 0 && !out->write_error)
		out->write_error = errno ? errno : EIO;
	out->fp = NULL;
	strbuf_free(&out->line);
	if (out->write_error) {
		snprintf(err, errlen, "writing results failed: %s", strerror(out->write_error));
		return -1;
	}
	return 0;
}

static const struct output_module output_jsonl = {
	.name = "jsonl",
	.open = jsonl_open,
	.write = jsonl_write,
	.flush = jsonl_flush,
	.close = jsonl_close,
};

static const struct output_module *const output_modules[] = {
	&output_jsonl,
};

const struct output_module *output_find(const char *name)
{
	for (size_t i = 0; i < sizeof(output_modules) / sizeof(output_modules[0]); i++)
		if (strcmp(output_modules[i]->name, name) == 0)
			return output_modules[i];
	return NULL;
}
