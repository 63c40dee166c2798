/* scan.h - layer-4 scan: configuration, the shared scan context, and the
 * engine interface. An engine (SYN, connect) is a struct of function
 * pointers; scan_run() drives whichever the configuration names. */
#ifndef VIGIL_SCAN_H
#define VIGIL_SCAN_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "probe/probe.h"
#include "scan/dedup.h"
#include "scan/output.h"
#include "scan/permute.h"
#include "scan/ports.h"
#include "scan/targets.h"

enum scan_mode { SCAN_MODE_AUTO = 0, SCAN_MODE_SYN, SCAN_MODE_CONNECT };

struct scan_config {
	struct rangeset targets;  /* after excludes */
	struct portset ports;
	uint64_t seed;
	uint32_t shard, nshards;
	enum scan_mode mode;
	const char *interface;
	uint32_t source_ip;       /* 0: detect */
	uint8_t router_mac[6];
	bool have_router_mac;
	double rate;              /* probes per second, 0 = unlimited */
	int retries;
	double cooldown;          /* seconds to wait for late replies */
	int concurrency;          /* connect mode */
	int timeout_ms;           /* connect mode, per attempt */
	const char *output_path;
	bool output_append;
	const char *resume_path;
	bool status;              /* force the status line when not a tty */
	uint64_t start_step;      /* resume position within the shard */
	/* layer 7: probe every open port (--probe, implied by --checks) */
	bool probe;
	struct probe_config probe_cfg;
	/* Every record also goes to the sink when set (the index), after the
	 * transform (enrichment). Both run on one thread at a time. */
	void (*transform)(void *arg, struct service_record *rec);
	void *transform_arg;
	int (*sink)(void *arg, struct service_record *rec, char *err, size_t errlen);
	void *sink_arg;
	int64_t store_scan_id;    /* saved in the resume file */
	/* the arguments that define this scan, saved in the resume file */
	char **saved_argv;
	int saved_argc;
};

struct scan_ctx;

struct scan_engine {
	const char *name;
	/* Acquire privileges-bound resources (raw sockets). Runs before the
	 * output is opened; returns 0 or -1 with a message in err. */
	int (*prepare)(struct scan_ctx *ctx, char *err, size_t errlen);
	/* Probe every target of the shard from ctx->feed; report open ports
	 * with scan_report(). Returns 0 or -1 with a message in err. */
	int (*run)(struct scan_ctx *ctx, char *err, size_t errlen);
	void (*cleanup)(struct scan_ctx *ctx);
};

/* Hands out targets in permutation order, with retries of the SYN engine
 * interleaved `lag` targets behind the first probe, statelessly. */
struct scan_feed {
	struct perm_iter main;
	struct perm_iter retry[8];
	uint64_t main_count, retry_count[8];
	int retries;
	uint64_t lag;
	bool main_done;
};

struct scan_ctx {
	struct scan_config *cfg;
	const struct scan_engine *engine;
	struct perm perm;
	struct scan_feed feed;
	struct output out;
	struct dedup dedup;
	void *engine_data;
	struct probe_engine *probe;   /* NULL: layer 4 only */
	/* counters, read by the status thread */
	_Atomic uint64_t sent, replies, found, position;
	char sink_error[512];     /* first error of the sink; stops the scan */
	double t_start, t_send_done;
	volatile sig_atomic_t *stop;   /* 1: finish gracefully, 2: abort */
};

/* Run a whole scan; returns the process exit code. */
int scan_run(struct scan_config *cfg);

/* Next target, or false when the shard (and its retries) are done.
 * *first is false for a retry. */
bool scan_feed_next(struct scan_ctx *ctx, uint32_t *ip, uint16_t *port, bool *first);
/* Record an open port (deduplicated). Thread-safe for one writer thread. */
void scan_report(struct scan_ctx *ctx, uint32_t ip, uint16_t port);
/* Layer-4 engines call this before sending more: it waits while layer 7
 * has a full backlog, so open ports are never dropped. */
void scan_backpressure(struct scan_ctx *ctx);
/* 0 normal, 1 graceful stop requested (SIGINT), 2 abort (second signal). */
int scan_stopping(const struct scan_ctx *ctx);

extern const struct scan_engine scan_engine_syn;
extern const struct scan_engine scan_engine_connect;

#endif
