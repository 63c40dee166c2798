/* scan.c - drives a layer-4 scan: builds the permutation, hands targets to
 * the engine, deduplicates and writes results, shows the status line,
 * handles SIGINT/SIGTERM and the --resume checkpoint. */
#include "scan/scan.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/privs.h"
#include "lib/timeutil.h"
#include "scan/resume.h"

static volatile sig_atomic_t scan_stop_flag;

static void scan_on_signal(int sig)
{
	(void)sig;
	if (scan_stop_flag < 2)
		scan_stop_flag++;
}

int scan_stopping(const struct scan_ctx *ctx)
{
	return *ctx->stop;
}

bool scan_feed_next(struct scan_ctx *ctx, uint32_t *ip, uint16_t *port, bool *first)
{
	struct scan_feed *f = &ctx->feed;
	uint64_t idx;
	if (*ctx->stop >= 2)
		return false;
	if (!f->main_done && *ctx->stop)
		f->main_done = true;  /* graceful stop: no new targets, finish retries */
	/* Retries first, when they have fallen `lag` (r*lag) targets behind. */
	for (int r = 0; r < f->retries; r++) {
		uint64_t behind = (uint64_t)(r + 1) * f->lag;
		uint64_t limit = f->main_done ? f->main_count
			       : (f->main_count > behind ? f->main_count - behind : 0);
		if (f->retry_count[r] < limit && perm_next(&f->retry[r], &idx)) {
			f->retry_count[r]++;
			*first = false;
			goto found;
		}
	}
	if (!f->main_done) {
		if (perm_next(&f->main, &idx)) {
			f->main_count++;
			atomic_store(&ctx->position, f->main.done);
			*first = true;
			goto found;
		}
		f->main_done = true;
		atomic_store(&ctx->position, f->main.done);
		return scan_feed_next(ctx, ip, port, first);
	}
	return false;
found:;
	uint32_t nports = ctx->cfg->ports.n;
	*ip = rangeset_pick(&ctx->cfg->targets, idx / nports);
	*port = ctx->cfg->ports.ports[idx % nports];
	return true;
}

/* Enrich a finished record and write it to every destination. */
static void scan_deliver(struct scan_ctx *ctx, struct service_record *rec)
{
	struct scan_config *cfg = ctx->cfg;
	if (cfg->transform)
		cfg->transform(cfg->transform_arg, rec);
	if (ctx->out.mod)
		ctx->out.mod->write(&ctx->out, rec);
	char err[sizeof(ctx->sink_error)] = "";
	if (cfg->sink && !ctx->sink_error[0] && cfg->sink(cfg->sink_arg, rec, err, sizeof(err)) < 0) {
		/* the index cannot take more (disk full, server gone for good):
		 * stop the scan cleanly so the resume state stays true */
		snprintf(ctx->sink_error, sizeof(ctx->sink_error), "%s", err[0] ? err : "saving results failed");
		if (*ctx->stop < 1)
			*ctx->stop = 1;
	}
}

void scan_report(struct scan_ctx *ctx, uint32_t ip, uint16_t port)
{
	atomic_fetch_add(&ctx->replies, 1);
	if (!dedup_first(&ctx->dedup, ip, port))
		return;
	atomic_fetch_add(&ctx->found, 1);
	if (ctx->probe) {
		probe_engine_submit(ctx->probe, ip, port, time(NULL));
		return;
	}
	struct service_record rec;
	record_init(&rec, ip, port, time(NULL));
	scan_deliver(ctx, &rec);
	record_free(&rec);
}

void scan_backpressure(struct scan_ctx *ctx)
{
	if (!ctx->probe)
		return;
	size_t high = probe_engine_capacity(ctx->probe) / 2;
	while (probe_engine_backlog(ctx->probe) > high && scan_stopping(ctx) < 2)
		time_sleep(0.005);
}

/* Layer 7 finished a service: write its record (engine thread). */
static void scan_emit(void *arg, struct service_record *rec)
{
	scan_deliver(arg, rec);
}

static void scan_save_resume(struct scan_ctx *ctx, uint64_t position)
{
	struct scan_config *cfg = ctx->cfg;
	if (!cfg->resume_path)
		return;
	struct resume_state st = {
		.seed = cfg->seed, .position = position,
		.argv = cfg->saved_argv, .argc = cfg->saved_argc,
		.store_scan = cfg->store_scan_id,
	};
	char err[512];
	if (resume_write(cfg->resume_path, &st, err, sizeof(err)) < 0)
		log_warn("%s", err);
}

struct scan_monitor {
	struct scan_ctx *ctx;
	bool show;
	bool tty;
	volatile bool quit;
	pthread_t thread;
};

static void format_duration(char *buf, size_t size, double s)
{
	if (s < 0 || s > 1e7)
		snprintf(buf, size, "--:--");
	else if (s >= 3600)
		snprintf(buf, size, "%d:%02d:%02d", (int)s / 3600, ((int)s / 60) % 60, (int)s % 60);
	else
		snprintf(buf, size, "%d:%02d", (int)s / 60, (int)s % 60);
}

static void scan_print_status(struct scan_monitor *m, double *last_t, uint64_t *last_sent)
{
	struct scan_ctx *ctx = m->ctx;
	double now = time_mono();
	uint64_t sent = atomic_load(&ctx->sent);
	double dt = now - *last_t;
	double pps = dt > 0 ? (double)(sent - *last_sent) / dt : 0;
	*last_t = now;
	*last_sent = sent;
	double elapsed = now - ctx->t_start;
	double frac = ctx->perm.steps ? (double)atomic_load(&ctx->position) / (double)ctx->perm.steps : 1;
	double eta = frac > 0 ? elapsed / frac - elapsed : -1;
	char el[32], et[32];
	format_duration(el, sizeof(el), elapsed);
	format_duration(et, sizeof(et), eta);
	char l7[64] = "";
	struct probe_engine *pe = ctx->probe;
	if (pe)
		snprintf(l7, sizeof(l7), ", %" PRIu64 " probed", atomic_load(&probe_engine_stats(pe)->done));
	fprintf(stderr, "%s%s elapsed, %.0f pps sent, %" PRIu64 " replies, %" PRIu64 " found%s, %.1f%% done, ETA %s%s",
		m->tty ? "\r\033[K" : "", el, pps, atomic_load(&ctx->replies), atomic_load(&ctx->found), l7,
		frac * 100, et, m->tty ? "" : "\n");
	fflush(stderr);
}

static void *scan_monitor_main(void *arg)
{
	struct scan_monitor *m = arg;
	struct scan_ctx *ctx = m->ctx;
	double last_t = time_mono(), last_checkpoint = last_t;
	uint64_t last_sent = 0;
	while (!m->quit) {
		for (int i = 0; i < 10 && !m->quit; i++)
			time_sleep(0.1);
		if (m->quit)
			break;
		if (m->show)
			scan_print_status(m, &last_t, &last_sent);
		if (time_mono() - last_checkpoint >= 5) {
			/* A checkpoint: a crash now re-probes at most the last few
			 * seconds of targets, never skips one. */
			last_checkpoint = time_mono();
			scan_save_resume(ctx, atomic_load(&ctx->position));
		}
	}
	return NULL;
}

int scan_run(struct scan_config *cfg)
{
	static struct scan_ctx ctx_storage;
	struct scan_ctx *ctx = &ctx_storage;
	char err[512];
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->stop = &scan_stop_flag;

	enum scan_mode mode = cfg->mode;
	if (mode == SCAN_MODE_AUTO)
		mode = geteuid() == 0 ? SCAN_MODE_SYN : SCAN_MODE_CONNECT;
	ctx->engine = mode == SCAN_MODE_SYN ? &scan_engine_syn : &scan_engine_connect;

	uint64_t n = cfg->targets.total * cfg->ports.n;
	perm_init(&ctx->perm, n, cfg->seed, cfg->shard, cfg->nshards);
	if (cfg->start_step >= ctx->perm.steps && cfg->start_step > 0)
		log_die("this scan is already complete (resume position is at the end); remove %s to scan again",
			cfg->resume_path ? cfg->resume_path : "the resume file");
	perm_iter_at(&ctx->feed.main, &ctx->perm, cfg->start_step);
	ctx->feed.retries = mode == SCAN_MODE_SYN ? cfg->retries : 0;
	if (ctx->feed.retries > 8)
		ctx->feed.retries = 8;
	for (int r = 0; r < ctx->feed.retries; r++)
		perm_iter_at(&ctx->feed.retry[r], &ctx->perm, cfg->start_step);
	/* Retries follow about half a second behind (at least 1000 targets). */
	double lag = cfg->rate > 0 ? cfg->rate / 2 : 100000;
	ctx->feed.lag = lag < 1000 ? 1000 : (uint64_t)lag;
	atomic_store(&ctx->position, cfg->start_step);

	if (ctx->engine->prepare(ctx, err, sizeof(err)) < 0)
		log_die("%s", err);

	if (cfg->output_path || !cfg->sink) {
		ctx->out.mod = output_find("jsonl");
		if (ctx->out.mod->open(&ctx->out, cfg->output_path ? cfg->output_path : "-",
				       cfg->output_append, err, sizeof(err)) < 0) {
			ctx->engine->cleanup(ctx);
			log_die("%s", err);
		}
	}
	dedup_init(&ctx->dedup);
	if (cfg->probe) {
		cfg->probe_cfg.abort_flag = (volatile const int *)&scan_stop_flag;
		ctx->probe = probe_engine_start(&cfg->probe_cfg, scan_emit, ctx, err, sizeof(err));
		if (!ctx->probe)
			log_die("%s", err);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = scan_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Everything privileged is open (raw sockets, capture, output, index):
	 * from here on vigil parses remote bytes holding no capability. */
	if (privs_drop_all(err, sizeof(err)) < 0)
		log_die("%s", err);

	struct scan_monitor mon = {.ctx = ctx};
	mon.tty = isatty(STDERR_FILENO);
	mon.show = mon.tty || cfg->status;
	ctx->t_start = time_mono();
	bool have_monitor = pthread_create(&mon.thread, NULL, scan_monitor_main, &mon) == 0;

	int rc = ctx->engine->run(ctx, err, sizeof(err));
	if (ctx->probe)  /* layer 4 is done: let layer 7 finish what is queued */
		probe_engine_drain(ctx->probe, scan_stop_flag >= 2);

	mon.quit = true;
	if (have_monitor)
		pthread_join(mon.thread, NULL);
	if (ctx->probe) {
		probe_engine_free(ctx->probe);
		ctx->probe = NULL;
	}
	double elapsed = time_mono() - ctx->t_start;
	double send_time = (ctx->t_send_done > 0 ? ctx->t_send_done : time_mono()) - ctx->t_start;
	if (mon.show) {
		if (mon.tty)
			fprintf(stderr, "\r\033[K");
		fprintf(stderr, "vigil: %s scan: %" PRIu64 " probes sent in %.2f s (%.0f pps), %" PRIu64
			" replies, %" PRIu64 " open, %.2f s total\n",
			ctx->engine->name, atomic_load(&ctx->sent), send_time,
			send_time > 0 ? (double)atomic_load(&ctx->sent) / send_time : 0,
			atomic_load(&ctx->replies), atomic_load(&ctx->found), elapsed);
	}
	ctx->engine->cleanup(ctx);
	char cerr[512] = "";
	int out_rc = ctx->out.mod ? ctx->out.mod->close(&ctx->out, cerr, sizeof(cerr)) : 0;
	dedup_free(&ctx->dedup);

	uint64_t pos = atomic_load(&ctx->position);
	bool interrupted = scan_stop_flag > 0;
	if (rc < 0) {
		scan_save_resume(ctx, pos);
		log_info("%s", err);
		return 1;
	}
	if (out_rc < 0) {
		scan_save_resume(ctx, pos);
		log_info("%s", cerr);
		return 1;
	}
	if (ctx->sink_error[0]) {
		scan_save_resume(ctx, pos);
		log_info("%s%s", ctx->sink_error,
			 cfg->resume_path ? "; fix it and continue with --resume" : "; results stored so far are kept");
		return 1;
	}
	if (interrupted) {
		if (cfg->resume_path) {
			scan_save_resume(ctx, pos);
			log_info("interrupted; state saved to %s: continue with 'vigil scan --resume %s'",
				 cfg->resume_path, cfg->resume_path);
		} else {
			log_info("interrupted; use --resume FILE to be able to continue a scan");
		}
		return 130;
	}
	if (cfg->resume_path)
		unlink(cfg->resume_path);
	return 0;
}
