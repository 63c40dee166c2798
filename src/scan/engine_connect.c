/* engine_connect.c - the unprivileged engine: non-blocking connect() to each
 * target, up to --concurrency at once, driven by epoll. Attempts expire in
 * start order, so the timeout list is a FIFO (O(1) per operation). A target
 * that times out is retried up to --retries times; a refusal is final.
 * Connections that succeed are closed with an RST (SO_LINGER 0) so no
 * TIME_WAIT state piles up on either side. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "scan/scan.h"

struct conn_slot {
	int fd;          /* -1 when free */
	uint32_t ip;
	uint16_t port;
	uint8_t tries;
	double deadline;
	int prev, next;  /* FIFO of active slots, oldest first */
};

struct conn_engine {
	int epfd;
	struct conn_slot *slots;
	int nslots;
	int *free_list;
	int nfree;
	int head, tail;  /* active FIFO */
	int active;
	/* targets that timed out and wait for another try */
	struct conn_slot *retry_q;
	size_t retry_n, retry_cap;
};

static int conn_prepare(struct scan_ctx *ctx, char *err, size_t errlen)
{
	struct conn_engine *e = xcalloc(1, sizeof(*e));
	ctx->engine_data = e;
	e->epfd = -1;
	e->nslots = ctx->cfg->concurrency > 0 ? ctx->cfg->concurrency : 1000;
	/* one descriptor per connection: raise the soft limit to the hard one */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)e->nslots + 64 > rl.rlim_cur) {
			if (rl.rlim_cur <= 128) {
				snprintf(err, errlen, "the open-file limit (%lu) is too low for connect mode: raise it with ulimit -n",
					 (unsigned long)rl.rlim_cur);
				return -1;
			}
			fprintf(stderr, "vigil: warning: --concurrency lowered to %lu by the open-file limit (ulimit -n)\n",
				(unsigned long)(rl.rlim_cur - 64));
			e->nslots = (int)(rl.rlim_cur - 64);
		}
	}
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	e->slots = xcalloc((size_t)e->nslots, sizeof(*e->slots));
	e->free_list = xmalloc((size_t)e->nslots * sizeof(int));
	for (int i = 0; i < e->nslots; i++) {
		e->slots[i].fd = -1;
		e->free_list[e->nfree++] = e->nslots - 1 - i;
	}
	e->head = e->tail = -1;
	return 0;
}

static void fifo_unlink(struct conn_engine *e, int i)
{
	struct conn_slot *s = &e->slots[i];
	if (s->prev >= 0)
		e->slots[s->prev].next = s->next;
	else
		e->head = s->next;
	if (s->next >= 0)
		e->slots[s->next].prev = s->prev;
	else
		e->tail = s->prev;
}

static void conn_release(struct conn_engine *e, int i, bool rst)
{
	struct conn_slot *s = &e->slots[i];
	if (rst) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(s->fd);
	s->fd = -1;
	fifo_unlink(e, i);
	e->free_list[e->nfree++] = i;
	e->active--;
}

static void conn_queue_retry(struct conn_engine *e, const struct conn_slot *s)
{
	if (e->retry_n == e->retry_cap) {
		e->retry_cap = e->retry_cap ? e->retry_cap * 2 : 256;
		e->retry_q = xrealloc(e->retry_q, e->retry_cap * sizeof(*e->retry_q));
	}
	e->retry_q[e->retry_n++] = *s;
}

/* Start a connection attempt; returns 0, or -1 if out of local resources
 * (the caller retries later). Immediate results are handled here. */
static int conn_start(struct scan_ctx *ctx, struct conn_engine *e, uint32_t ip, uint16_t port, uint8_t tries)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	sin.sin_addr.s_addr = htonl(ip);
	atomic_fetch_add(&ctx->sent, 1);
	int rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (rc == 0) {
		scan_report(ctx, ip, port);
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		return 0;
	}
	if (errno != EINPROGRESS) {
		int saved = errno;
		close(fd);
		if (saved == EADDRNOTAVAIL || saved == ENOBUFS || saved == EAGAIN || saved == EMFILE || saved == ENFILE)
			return -1;
		return 0;  /* refused / unreachable: closed */
	}
	int i = e->free_list[--e->nfree];
	struct conn_slot *s = &e->slots[i];
	s->fd = fd;
	s->ip = ip;
	s->port = port;
	s->tries = tries;
	s->deadline = time_mono() + ctx->cfg->timeout_ms / 1000.0;
	s->next = -1;
	s->prev = e->tail;
	if (e->tail >= 0)
		e->slots[e->tail].next = i;
	else
		e->head = i;
	e->tail = i;
	e->active++;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static void conn_expire(struct scan_ctx *ctx, struct conn_engine *e, double now)
{
	while (e->head >= 0 && e->slots[e->head].deadline <= now) {
		int i = e->head;
		struct conn_slot s = e->slots[i];
		conn_release(e, i, false);
		if (s.tries < ctx->cfg->retries && scan_stopping(ctx) < 2) {
			s.tries++;
			conn_queue_retry(e, &s);
		}
	}
}

static void conn_poll(struct scan_ctx *ctx, struct conn_engine *e, int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(e->epfd, evs, 512, timeout_ms);
	for (int k = 0; k < n; k++) {
		int i = (int)evs[k].data.u32;
		struct conn_slot *s = &e->slots[i];
		if (s->fd < 0)
			continue;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr == 0) {
			scan_report(ctx, s->ip, s->port);
			conn_release(e, i, true);
		} else {
			conn_release(e, i, false);
		}
	}
	conn_expire(ctx, e, time_mono());
}

static int conn_run(struct scan_ctx *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct conn_engine *e = ctx->engine_data;
	double rate = ctx->cfg->rate;
	double t0 = time_mono();
	uint64_t started = 0;
	bool feed_done = false;
	struct conn_slot pending = {.fd = -1};
	bool have_pending = false;

	while (scan_stopping(ctx) < 2) {
		/* fill free slots: retries first, then new targets */
		scan_backpressure(ctx);
		while (e->nfree > 0) {
			if (rate > 0 && time_mono() < t0 + (double)started / rate)
				break;
			uint32_t ip;
			uint16_t port;
			uint8_t tries = 0;
			if (have_pending) {
				ip = pending.ip;
				port = pending.port;
				tries = pending.tries;
			} else if (e->retry_n > 0) {
				struct conn_slot *r = &e->retry_q[--e->retry_n];
				ip = r->ip;
				port = r->port;
				tries = r->tries;
			} else if (!feed_done) {
				bool first;
				if (!scan_feed_next(ctx, &ip, &port, &first)) {
					feed_done = true;
					break;
				}
			} else {
				break;
			}
			if (conn_start(ctx, e, ip, port, tries) < 0) {
				/* out of ports or descriptors: wait for some to free up */
				pending.ip = ip;
				pending.port = port;
				pending.tries = tries;
				have_pending = true;
				break;
			}
			have_pending = false;
			started++;
		}
		if (feed_done && !have_pending && e->retry_n == 0 && e->active == 0)
			break;
		if (scan_stopping(ctx) == 1 && !feed_done) {
			/* graceful stop: the feed returns no more; finish in-flight */
			bool first;
			uint32_t ip;
			uint16_t port;
			if (!scan_feed_next(ctx, &ip, &port, &first))
				feed_done = true;
		}
		int wait_ms = 10;
		if (e->active == 0 && rate > 0) {
			double due = t0 + (double)started / rate - time_mono();
			wait_ms = due > 0 ? (int)(due * 1000) + 1 : 0;
			if (wait_ms > 10)
				wait_ms = 10;
		}
		conn_poll(ctx, e, e->active > 0 || have_pending ? wait_ms : 0);
	}
	ctx->t_send_done = time_mono();
	return 0;
}

static void conn_cleanup(struct scan_ctx *ctx)
{
	struct conn_engine *e = ctx->engine_data;
	if (!e)
		return;
	for (int i = 0; i < e->nslots; i++)
		if (e->slots[i].fd >= 0)
			close(e->slots[i].fd);
	if (e->epfd >= 0)
		close(e->epfd);
	free(e->slots);
	free(e->free_list);
	free(e->retry_q);
	free(e);
	ctx->engine_data = NULL;
}

const struct scan_engine scan_engine_connect = {
	.name = "connect",
	.prepare = conn_prepare,
	.run = conn_run,
	.cleanup = conn_cleanup,
};
