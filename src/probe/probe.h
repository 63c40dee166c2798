/* probe.h - the layer-7 probe engine: one epoll loop in its own thread
 * drives thousands of connections to the open ports layer 4 found, through
 * probe modules (banner, HTTP) over plain TCP or TLS, with hard timeouts and
 * size caps, and emits one service record per (ip, port). */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "detect/detect.h"
#include "lib/record.h"

struct probe_config {
	int concurrency;          /* connections at once (default 1000) */
	int connect_timeout_ms;   /* default 3000 */
	int read_timeout_ms;      /* idle time allowed per read (default 5000) */
	int total_timeout_ms;     /* whole service budget (default 30000) */
	int banner_wait_ms;       /* how long to wait for a server greeting */
	size_t max_body;          /* bytes kept per response (default 256 KiB) */
	size_t max_header_bytes;  /* default 64 KiB */
	size_t max_headers;       /* default 100 */
	bool favicon;             /* fetch /favicon.ico (default on) */
	const struct detect_module *checks[4];
	int nchecks;
	struct detect_options detect;
	size_t queue_capacity;    /* open ports waiting (default 65536) */
	/* when *abort_flag >= 2 (a second Ctrl-C), stop at once */
	volatile const int *abort_flag;
};

/* Called on the engine thread with each finished record; the callee must
 * not keep rec (it is freed after the call). */
typedef void probe_emit_fn(void *arg, struct service_record *rec);

struct probe_engine;

struct probe_stats {
	_Atomic uint64_t queued, done, active;
};

void probe_config_defaults(struct probe_config *cfg);
struct probe_engine *probe_engine_start(const struct probe_config *cfg, probe_emit_fn *emit, void *arg,
					char *err, size_t errlen);
/* Queue an open port for probing. Blocks while the queue is full. */
void probe_engine_submit(struct probe_engine *e, uint32_t ip, uint16_t port, time_t ts);
/* Ports queued but not yet finished (for layer-4 backpressure). */
size_t probe_engine_backlog(struct probe_engine *e);
size_t probe_engine_capacity(struct probe_engine *e);
const struct probe_stats *probe_engine_stats(struct probe_engine *e);
/* No more ports will come: finish everything queued (abort: stop now,
 * emitting what is known) and join the thread. */
void probe_engine_drain(struct probe_engine *e, bool abort);
void probe_engine_free(struct probe_engine *e);

#endif
