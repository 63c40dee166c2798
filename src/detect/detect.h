/* detect.h - check modules: product fingerprints and verdicts that run on
 * top of the HTTP probe. A module is a struct of function pointers; the
 * HTTP probe asks it for the (GET-only) requests it needs, hands it every
 * response, and lets it write its conclusions into the service record. */
#ifndef VIGIL_DETECT_H
#define VIGIL_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/record.h"
#include "probe/http.h"

struct detect_options {
	bool assume_breach;  /* allowed to request web-shell paths */
};

struct detect_request {
	char path[256];
	/* The response may carry a compromised host's secrets: the probe
	 * keeps nothing of it (no body, no hash) and wipes its buffers. */
	bool sensitive;
};

struct detect_module {
	const char *name;
	size_t state_size;
	void (*init)(void *state, const struct detect_options *opt);
	/* The response to GET / (NULL if there was none). */
	void (*on_root)(void *state, const struct http_response *resp);
	/* The next request to send; false when the module is done. */
	bool (*next)(void *state, struct detect_request *req);
	/* The response to a request from next(); NULL if it failed. */
	void (*on_response)(void *state, const struct detect_request *req, const struct http_response *resp);
	/* Write product, version, verdict and evidence into rec. */
	void (*finish)(void *state, struct service_record *rec);
	void (*cleanup)(void *state);
};

extern const struct detect_module detect_toolshell;

/* Look a check module up by name ("toolshell"); NULL if unknown. */
const struct detect_module *detect_find(const char *name);

#endif
