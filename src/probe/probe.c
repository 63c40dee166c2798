/* probe.c - the layer-7 engine: a bounded queue fed by layer 4, one epoll
 * loop in its own thread, non-blocking TCP and OpenSSL TLS, per-session
 * connect/read/total deadlines, and the hand-off of bytes to probe modules.
 * Each (ip, port) becomes exactly one emitted record, whatever happens. */
#include "probe/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"

#define PROBE_MAX_CONNECTS 12

enum { CONN_CONNECTING, CONN_TLS, CONN_ACTIVE, CONN_CLOSED };

struct probe_item {
	uint32_t ip;
	uint16_t port;
	time_t ts;
};

struct probe_engine {
	struct probe_config cfg;
	probe_emit_fn *emit;
	void *emit_arg;
	SSL_CTX *ssl_ctx;
	int epfd, evfd;
	struct probe_session *sessions;
	int *free_slots;
	int nfree;
	/* queue from layer 4 */
	pthread_mutex_t mu;
	pthread_cond_t not_full;
	struct probe_item *q;
	size_t q_cap, q_head, q_len;
	bool closing, aborting;
	pthread_t thread;
	struct probe_stats stats;
};

static const uint16_t tls_first_ports[] = {443, 465, 636, 853, 993, 995, 4443, 5986, 8443, 9443, 10443};
static const uint16_t http_first_ports[] = {80, 81, 591, 3000, 5000, 5985, 7001, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9200};

static bool port_in(uint16_t port, const uint16_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == port)
			return true;
	return false;
}

void probe_config_defaults(struct probe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->concurrency = 1000;
	cfg->connect_timeout_ms = 3000;
	cfg->read_timeout_ms = 5000;
	cfg->total_timeout_ms = 30000;
	cfg->banner_wait_ms = 2000;
	cfg->max_body = 256 * 1024;
	cfg->max_header_bytes = 64 * 1024;
	cfg->max_headers = 100;
	cfg->favicon = true;
	cfg->queue_capacity = 65536;
}

const struct probe_config *probe_session_config(const struct probe_session *s)
{
	return &s->eng->cfg;
}

void probe_send(struct probe_session *s, const void *data, size_t len)
{
	strbuf_add(&s->out, data, len);
}

void probe_wait(struct probe_session *s, double seconds)
{
	s->deadline = time_mono() + seconds;
}

enum probe_action probe_switch(struct probe_session *s, const struct probe_module *m)
{
	s->mod = m;
	s->deadline = time_mono() + s->eng->cfg.read_timeout_ms / 1000.0;
	return m->start(s);
}

/* Events carry slot and connection generation, so an event for a closed
 * connection is never delivered to the slot's next one. */
static uint64_t session_key(const struct probe_session *s)
{
	return ((uint64_t)s->gen << 32) | (uint32_t)s->slot;
}

static void session_set_events(struct probe_session *s, uint32_t events)
{
	if (events == s->events)
		return;  /* a system call saved per readable event */
	s->events = events;
	struct epoll_event ev = {.events = events, .data.u64 = session_key(s)};
	epoll_ctl(s->eng->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void session_close_conn(struct probe_session *s)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(s->fd);  /* also removes it from epoll */
		s->fd = -1;
	}
	strbuf_reset(&s->out);
	s->out_off = 0;
	s->state = CONN_CLOSED;
}

static void session_finish(struct probe_session *s)
{
	struct probe_engine *e = s->eng;
	session_close_conn(s);
	s->rec.probed = true;
	if (probe_module_http.finish)
		probe_module_http.finish(s);
	if (s->banner_len && !s->rec.banner) {
		s->rec.banner = xmalloc(s->banner_len);
		memcpy(s->rec.banner, s->banner, s->banner_len);
		s->rec.banner_len = s->banner_len;
	}
	e->emit(e->emit_arg, &s->rec);
	probe_module_http.cleanup(s);
	record_free(&s->rec);
	strbuf_free(&s->out);
	s->used = false;
	e->free_slots[e->nfree++] = s->slot;
	atomic_fetch_sub(&e->stats.active, 1);
	atomic_fetch_add(&e->stats.done, 1);
}

static void session_fail(struct probe_session *s, const char *why)
{
	if (!s->rec.error)
		record_set(&s->rec.error, why);
	session_finish(s);
}

/* Open a connection for the session; on immediate failure, ask the module. */
static void session_connect(struct probe_session *s);

static void session_apply(struct probe_session *s, enum probe_action a)
{
	switch (a) {
	case PROBE_CONTINUE:
		if (s->state == CONN_ACTIVE)
			session_set_events(s, EPOLLIN | (s->out.len > s->out_off ? EPOLLOUT : 0));
		return;
	case PROBE_DONE:
		session_finish(s);
		return;
	case PROBE_RECONNECT_TLS:
		s->use_tls = true;
		s->tried_tls = true;
		break;
	case PROBE_RECONNECT_PLAIN:
		s->use_tls = false;
		s->tried_plain = true;
		break;
	case PROBE_RECONNECT:
		break;
	}
	session_close_conn(s);
	if (s->connects >= PROBE_MAX_CONNECTS) {
		session_fail(s, "too many connections for one service");
		return;
	}
	session_connect(s);
}

static void session_connect(struct probe_session *s)
{
	struct probe_engine *e = s->eng;
	s->connects++;
	s->gen++;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		session_fail(s, "out of sockets");
		return;
	}
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(s->rec.port)};
	sin.sin_addr.s_addr = htonl(s->rec.ip);
	int rc = connect(s->fd, (struct sockaddr *)&sin, sizeof(sin));
	if (rc != 0 && errno != EINPROGRESS) {
		char why[96];
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		close(s->fd);
		s->fd = -1;
		s->state = CONN_CLOSED;
		session_apply(s, s->mod->on_connect_error(s, why));
		return;
	}
	s->state = CONN_CONNECTING;
	s->deadline = time_mono() + e->cfg.connect_timeout_ms / 1000.0;
	s->events = EPOLLOUT;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = session_key(s)};
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, s->fd, &ev);
}

static void session_start(struct probe_engine *e, const struct probe_item *it)
{
	int slot = e->free_slots[--e->nfree];
	struct probe_session *s = &e->sessions[slot];
	uint32_t gen = s->gen;
	memset(s, 0, sizeof(*s));
	s->gen = gen;
	s->eng = e;
	s->slot = slot;
	s->used = true;
	s->fd = -1;
	strbuf_init(&s->out);
	record_init(&s->rec, it->ip, it->port, it->ts);
	s->total_deadline = time_mono() + e->cfg.total_timeout_ms / 1000.0;
	atomic_fetch_add(&e->stats.active, 1);
	if (port_in(it->port, tls_first_ports, sizeof(tls_first_ports) / sizeof(tls_first_ports[0]))) {
		s->use_tls = s->tried_tls = true;
		s->mod = &probe_module_http;
	} else if (port_in(it->port, http_first_ports, sizeof(http_first_ports) / sizeof(http_first_ports[0]))) {
		s->tried_plain = true;
		s->mod = &probe_module_http;
	} else {
		s->tried_plain = true;
		s->mod = &probe_module_banner;
	}
	session_connect(s);
}

static void session_ready(struct probe_session *s)
{
	s->state = CONN_ACTIVE;
	s->deadline = time_mono() + s->eng->cfg.read_timeout_ms / 1000.0;
	session_apply(s, s->mod->start(s));
}

static void session_tls_step(struct probe_session *s)
{
	ERR_clear_error();
	int rc = SSL_connect(s->ssl);
	if (rc == 1) {
		if (!s->rec.has_tls) {
			probe_tls_describe(s->ssl, &s->rec.tls);
			s->rec.has_tls = true;
		}
		session_ready(s);
		return;
	}
	int err = SSL_get_error(s->ssl, rc);
	if (err == SSL_ERROR_WANT_READ) {
		session_set_events(s, EPOLLIN);
		return;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		session_set_events(s, EPOLLOUT);
		return;
	}
	char why[160];
	unsigned long e = ERR_peek_error();
	snprintf(why, sizeof(why), "tls handshake failed%s%s", e ? ": " : "", e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error" : "");
	session_apply(s, s->mod->on_connect_error(s, why));
}

static void session_connected(struct probe_session *s)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr != 0) {
		char why[96];
		snprintf(why, sizeof(why), "connect: %s", strerror(soerr));
		session_close_conn(s);
		session_apply(s, s->mod->on_connect_error(s, why));
		return;
	}
	if (s->use_tls) {
		s->ssl = SSL_new(s->eng->ssl_ctx);
		if (!s->ssl) {
			session_fail(s, "tls: out of memory");
			return;
		}
		SSL_set_fd(s->ssl, s->fd);
		SSL_set_connect_state(s->ssl);
		s->state = CONN_TLS;
		s->deadline = time_mono() + s->eng->cfg.connect_timeout_ms / 1000.0;
		session_tls_step(s);
		return;
	}
	session_ready(s);
}

/* Flush pending output. Returns 0, or -1 if the connection broke. */
static int session_flush(struct probe_session *s)
{
	while (s->out_off < s->out.len) {
		size_t n = s->out.len - s->out_off;
		if (s->ssl) {
			ERR_clear_error();
			int w = SSL_write(s->ssl, s->out.data + s->out_off, (int)n);
			if (w <= 0) {
				int err = SSL_get_error(s->ssl, w);
				if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
					return 0;
				return -1;
			}
			s->out_off += (size_t)w;
		} else {
			ssize_t w = send(s->fd, s->out.data + s->out_off, n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				return -1;
			}
			s->out_off += (size_t)w;
		}
	}
	strbuf_reset(&s->out);
	s->out_off = 0;
	return 0;
}

static void session_readable(struct probe_session *s)
{
	uint8_t buf[16384];
	for (int rounds = 0; rounds < 64 && s->used && s->state == CONN_ACTIVE; rounds++) {
		ssize_t n;
		if (s->ssl) {
			ERR_clear_error();
			int r = SSL_read(s->ssl, buf, sizeof(buf));
			if (r <= 0) {
				int err = SSL_get_error(s->ssl, r);
				if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
					break;
				n = 0;  /* close_notify, reset or protocol error: end of stream */
			} else {
				n = r;
			}
		} else {
			n = recv(s->fd, buf, sizeof(buf), 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0)
				n = 0;
		}
		if (n == 0) {
			session_apply(s, s->mod->on_eof(s));
			explicit_bzero(buf, sizeof(buf));
			return;
		}
		s->deadline = time_mono() + s->eng->cfg.read_timeout_ms / 1000.0;
		enum probe_action a = s->mod->on_data(s, buf, (size_t)n);
		if (a != PROBE_CONTINUE) {
			explicit_bzero(buf, sizeof(buf));
			session_apply(s, a);
			return;
		}
	}
	/* the buffer may have held a sensitive response: never leave it */
	explicit_bzero(buf, sizeof(buf));
	if (s->used && s->state == CONN_ACTIVE)
		session_apply(s, PROBE_CONTINUE);
}

static void session_event(struct probe_session *s, uint32_t events)
{
	switch (s->state) {
	case CONN_CONNECTING:
		session_connected(s);
		return;
	case CONN_TLS:
		session_tls_step(s);
		return;
	case CONN_ACTIVE:
		if ((events & EPOLLOUT) && session_flush(s) < 0) {
			session_apply(s, s->mod->on_eof(s));
			return;
		}
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			session_readable(s);
		else
			session_apply(s, PROBE_CONTINUE);
		return;
	default:
		return;
	}
}

static void engine_check_timeouts(struct probe_engine *e, double now)
{
	for (int i = 0; i < e->cfg.concurrency; i++) {
		struct probe_session *s = &e->sessions[i];
		if (!s->used)
			continue;
		if (now >= s->total_deadline) {
			session_fail(s, "timeout: service budget exhausted");
			continue;
		}
		if (now < s->deadline)
			continue;
		if (s->state == CONN_CONNECTING || s->state == CONN_TLS) {
			session_close_conn(s);
			session_apply(s, s->mod->on_connect_error(s, s->state == CONN_TLS ? "tls handshake timeout" : "connect timeout"));
		} else if (s->state == CONN_ACTIVE) {
			s->deadline = now + e->cfg.read_timeout_ms / 1000.0;
			session_apply(s, s->mod->on_timeout(s));
		}
	}
}

static bool engine_pop(struct probe_engine *e, struct probe_item *it)
{
	bool got = false;
	pthread_mutex_lock(&e->mu);
	if (e->q_len > 0) {
		*it = e->q[e->q_head];
		e->q_head = (e->q_head + 1) % e->q_cap;
		e->q_len--;
		got = true;
		pthread_cond_signal(&e->not_full);
	}
	pthread_mutex_unlock(&e->mu);
	return got;
}

static void *engine_main(void *arg)
{
	struct probe_engine *e = arg;
	struct epoll_event evs[256];
	double last_timeout_check = time_mono();
	for (;;) {
		struct probe_item it;
		while (e->nfree > 0 && !e->aborting && engine_pop(e, &it))
			session_start(e, &it);
		pthread_mutex_lock(&e->mu);
		if (e->cfg.abort_flag && *e->cfg.abort_flag >= 2) {
			e->aborting = true;
			pthread_cond_broadcast(&e->not_full);
		}
		bool closing = e->closing, aborting = e->aborting, empty = e->q_len == 0;
		pthread_mutex_unlock(&e->mu);
		if (aborting) {
			for (int i = 0; i < e->cfg.concurrency; i++)
				if (e->sessions[i].used)
					session_fail(&e->sessions[i], "interrupted");
			while (engine_pop(e, &it)) {
				struct service_record rec;
				record_init(&rec, it.ip, it.port, it.ts);
				record_set(&rec.error, "interrupted before probing");
				e->emit(e->emit_arg, &rec);
				record_free(&rec);
			}
			break;
		}
		if (closing && empty && e->nfree == e->cfg.concurrency)
			break;
		int n = epoll_wait(e->epfd, evs, 256, 50);
		for (int k = 0; k < n; k++) {
			if (evs[k].data.u64 == UINT64_MAX) {
				uint64_t v;
				(void)!read(e->evfd, &v, sizeof(v));
				continue;
			}
			uint32_t slot = (uint32_t)evs[k].data.u64;
			if (slot >= (uint32_t)e->cfg.concurrency)
				continue;
			struct probe_session *s = &e->sessions[slot];
			if (s->used && s->fd >= 0 && session_key(s) == evs[k].data.u64)
				session_event(s, evs[k].events);
		}
		double now = time_mono();
		if (now - last_timeout_check >= 0.05) {
			last_timeout_check = now;
			engine_check_timeouts(e, now);
		}
	}
	return NULL;
}

struct probe_engine *probe_engine_start(const struct probe_config *cfg, probe_emit_fn *emit, void *arg,
					char *err, size_t errlen)
{
	struct probe_engine *e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	if (e->cfg.concurrency < 1)
		e->cfg.concurrency = 1;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)e->cfg.concurrency + 128 > rl.rlim_cur)
			e->cfg.concurrency = rl.rlim_cur > 256 ? (int)(rl.rlim_cur - 128) : 64;
	}
	e->emit = emit;
	e->emit_arg = arg;
	e->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!e->ssl_ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		free(e);
		return NULL;
	}
	/* a scanner must talk to old servers too: no verification, legacy ok */
	SSL_CTX_set_verify(e->ssl_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(e->ssl_ctx, 0);
	SSL_CTX_set_min_proto_version(e->ssl_ctx, 0);
	SSL_CTX_set_options(e->ssl_ctx, SSL_OP_LEGACY_SERVER_CONNECT | SSL_OP_IGNORE_UNEXPECTED_EOF);
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->evfd, &ev);
	e->sessions = xcalloc((size_t)e->cfg.concurrency, sizeof(*e->sessions));
	e->free_slots = xmalloc((size_t)e->cfg.concurrency * sizeof(int));
	for (int i = 0; i < e->cfg.concurrency; i++)
		e->free_slots[e->nfree++] = e->cfg.concurrency - 1 - i;
	e->q_cap = cfg->queue_capacity ? cfg->queue_capacity : 65536;
	e->q = xmalloc(e->q_cap * sizeof(*e->q));
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->not_full, NULL);
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
		snprintf(err, errlen, "cannot start the probe thread");
		return NULL;
	}
	return e;
}

void probe_engine_submit(struct probe_engine *e, uint32_t ip, uint16_t port, time_t ts)
{
	pthread_mutex_lock(&e->mu);
	while (e->q_len == e->q_cap && !e->aborting)
		pthread_cond_wait(&e->not_full, &e->mu);
	if (!e->aborting) {
		e->q[(e->q_head + e->q_len) % e->q_cap] = (struct probe_item){ip, port, ts};
		e->q_len++;
	}
	pthread_mutex_unlock(&e->mu);
	atomic_fetch_add(&e->stats.queued, 1);
	uint64_t one = 1;
	(void)!write(e->evfd, &one, sizeof(one));
}

size_t probe_engine_backlog(struct probe_engine *e)
{
	pthread_mutex_lock(&e->mu);
	size_t n = e->q_len;
	pthread_mutex_unlock(&e->mu);
	return n + (size_t)atomic_load(&e->stats.active);
}

size_t probe_engine_capacity(struct probe_engine *e)
{
	return e->q_cap;
}

const struct probe_stats *probe_engine_stats(struct probe_engine *e)
{
	return &e->stats;
}

void probe_engine_drain(struct probe_engine *e, bool abort)
{
	pthread_mutex_lock(&e->mu);
	e->closing = true;
	if (abort)
		e->aborting = true;
	pthread_cond_broadcast(&e->not_full);
	pthread_mutex_unlock(&e->mu);
	uint64_t one = 1;
	(void)!write(e->evfd, &one, sizeof(one));
	pthread_join(e->thread, NULL);
}

void probe_engine_free(struct probe_engine *e)
{
	close(e->epfd);
	close(e->evfd);
	SSL_CTX_free(e->ssl_ctx);
	free(e->sessions);
	free(e->free_slots);
	free(e->q);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->not_full);
	free(e);
}
