/* engine_syn.c - the stateless SYN engine: probes go out as raw Ethernet
 * frames through a PACKET_MMAP TX ring (one send() flushes a whole batch),
 * replies come back through libpcap with a kernel BPF filter that passes
 * only SYN-ACKs to our address, and are validated by cookie. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "scan/netinfo.h"
#include "scan/packet.h"
#include "scan/scan.h"

#define SYN_FRAME_SIZE 128    /* tpacket2 header (32) + 58-byte frame, aligned */
#define SYN_BLOCK_SIZE 4096
#define SYN_BLOCK_NR 512      /* 16384 frames, 2 MiB ring */
#define SYN_BATCH 256

struct syn_engine {
	struct netinfo ni;
	struct packet_template tpl;
	int fd;
	uint8_t *ring;
	size_t ring_size;
	unsigned frame_nr, frame_idx, pending;
	pcap_t *pcap;
	pthread_t rx_thread;
	volatile bool rx_quit;
	_Atomic uint64_t closed;      /* validated RSTs: targets known closed */
	bool rx_started;
};

/* True if net.ipv4.conf.{all,lo}.NAME is set (the kernel ORs the two). */
static bool syn_sysctl_on(const char *name)
{
	static const char *const devs[] = {"all", "lo"};
	for (int i = 0; i < 2; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", devs[i], name);
		FILE *f = fopen(path, "r");
		int v = 0;
		if (f) {
			if (fscanf(f, "%d", &v) != 1)
				v = 0;
			fclose(f);
		}
		if (v)
			return true;
	}
	return false;
}

static int syn_prepare(struct scan_ctx *ctx, char *err, size_t errlen)
{
	struct scan_config *cfg = ctx->cfg;
	struct syn_engine *e = xcalloc(1, sizeof(*e));
	e->fd = -1;
	ctx->engine_data = e;

	e->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (e->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			snprintf(err, errlen, "SYN mode needs root or CAP_NET_RAW: run with sudo, or use --mode connect");
		else
			snprintf(err, errlen, "cannot open a packet socket: %s", strerror(errno));
		return -1;
	}
	uint32_t sample = rangeset_pick(&cfg->targets, 0);
	if (netinfo_resolve(&e->ni, cfg->interface, cfg->source_ip, cfg->have_router_mac ? cfg->router_mac : NULL,
			    sample, err, errlen) < 0)
		return -1;

	if (e->ni.loopback && !(syn_sysctl_on("accept_local") && syn_sysctl_on("route_localnet"))) {
		snprintf(err, errlen, "SYN mode on loopback needs 'sysctl -w net.ipv4.conf.lo.accept_local=1 "
			 "net.ipv4.conf.lo.route_localnet=1' (the kernel drops injected local-source frames otherwise), or use --mode connect");
		return -1;
	}
	memcpy(e->tpl.src_mac, e->ni.src_mac, 6);
	memcpy(e->tpl.dst_mac, e->ni.gw_mac, 6);
	e->tpl.src_ip = e->ni.src_ip;
	e->tpl.ttl = 64;
	if (getrandom(e->tpl.key, sizeof(e->tpl.key), 0) != sizeof(e->tpl.key)) {
		snprintf(err, errlen, "cannot read random bytes for probe cookies: %s", strerror(errno));
		return -1;
	}

	int v = TPACKET_V2;
	if (setsockopt(e->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0) {
		snprintf(err, errlen, "PACKET_VERSION: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(e->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	struct tpacket_req req = {
		.tp_block_size = SYN_BLOCK_SIZE,
		.tp_block_nr = SYN_BLOCK_NR,
		.tp_frame_size = SYN_FRAME_SIZE,
		.tp_frame_nr = SYN_BLOCK_NR * (SYN_BLOCK_SIZE / SYN_FRAME_SIZE),
	};
	if (setsockopt(e->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) != 0) {
		snprintf(err, errlen, "cannot set up the packet TX ring: %s", strerror(errno));
		return -1;
	}
	e->frame_nr = req.tp_frame_nr;
	e->ring_size = (size_t)req.tp_block_size * req.tp_block_nr;
	e->ring = mmap(NULL, e->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, 0);
	if (e->ring == MAP_FAILED) {
		e->ring = NULL;
		snprintf(err, errlen, "cannot map the packet TX ring: %s", strerror(errno));
		return -1;
	}
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = e->ni.ifindex};
	if (bind(e->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		snprintf(err, errlen, "cannot bind to interface %s: %s", e->ni.ifname, strerror(errno));
		return -1;
	}

	char perr[PCAP_ERRBUF_SIZE] = "";
	e->pcap = pcap_create(e->ni.ifname, perr);
	if (!e->pcap) {
		snprintf(err, errlen, "cannot capture on %s: %s", e->ni.ifname, perr);
		return -1;
	}
	pcap_set_snaplen(e->pcap, 128);
	pcap_set_promisc(e->pcap, 0);
	pcap_set_immediate_mode(e->pcap, 1);
	pcap_set_buffer_size(e->pcap, 8 << 20);  /* only SYN-ACKs pass the filter */
	pcap_set_timeout(e->pcap, 100);
	int prc = pcap_activate(e->pcap);
	if (prc < 0) {
		snprintf(err, errlen, "cannot capture on %s: %s", e->ni.ifname, pcap_geterr(e->pcap));
		return -1;
	}
	if (pcap_datalink(e->pcap) != DLT_EN10MB) {
		snprintf(err, errlen, "interface %s is not Ethernet-like (link type %d): not supported in SYN mode; use --mode connect",
			 e->ni.ifname, pcap_datalink(e->pcap));
		return -1;
	}
	char ipstr[16], filter[256];
	ipv4_format(e->ni.src_ip, ipstr);
	snprintf(filter, sizeof(filter),
		 "tcp and dst host %s and (tcp[13] & 0x16 == 0x12 or tcp[13] & 0x16 == 0x14) and tcp dst portrange %u-%u", ipstr,
		 PACKET_SPORT_BASE, PACKET_SPORT_BASE + PACKET_SPORT_COUNT - 1);
	struct bpf_program prog;
	if (pcap_compile(e->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(e->pcap, &prog) != 0) {
		snprintf(err, errlen, "cannot set the capture filter: %s", pcap_geterr(e->pcap));
		return -1;
	}
	pcap_freecode(&prog);
	pcap_setdirection(e->pcap, PCAP_D_IN);
	return 0;
}

struct syn_rx_arg {
	struct scan_ctx *ctx;
	struct syn_engine *e;
};

static void syn_on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct syn_rx_arg *a = (struct syn_rx_arg *)(void *)user;
	struct packet_tcp seg;
	if (packet_parse_tcp(bytes, h->caplen, &seg) < 0)
		return;
	if (packet_is_our_synack(&a->e->tpl, &seg))
		scan_report(a->ctx, seg.saddr, seg.sport);
	else if (packet_is_our_rst(&a->e->tpl, &seg))
		atomic_fetch_add(&a->e->closed, 1);
}

static void *syn_rx_main(void *arg)
{
	struct syn_rx_arg *a = arg;
	struct syn_engine *e = a->e;
	pcap_setnonblock(e->pcap, 1, NULL);
	int pfd = pcap_get_selectable_fd(e->pcap);
	while (!e->rx_quit) {
		int n = pcap_dispatch(e->pcap, 4096, syn_on_packet, (u_char *)a);
		if (n < 0)
			break;
		if (n == 0) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};
			poll(&p, 1, 20);
		}
	}
	/* drain what is already captured */
	while (pcap_dispatch(e->pcap, 4096, syn_on_packet, (u_char *)a) > 0)
		;
	return NULL;
}

static void syn_flush(struct syn_engine *e)
{
	if (!e->pending)
		return;
	while (send(e->fd, NULL, 0, 0) < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN))
		;
	e->pending = 0;
}

/* Next free frame of the TX ring, flushing and waiting while it is busy. */
static struct tpacket2_hdr *syn_frame(struct syn_engine *e)
{
	struct tpacket2_hdr *hdr = (struct tpacket2_hdr *)(void *)(e->ring + (size_t)e->frame_idx * SYN_FRAME_SIZE);
	for (;;) {
		uint32_t st = __atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE);
		if (st == TP_STATUS_AVAILABLE || st == TP_STATUS_WRONG_FORMAT)
			return hdr;
		syn_flush(e);
		struct pollfd p = {.fd = e->fd, .events = POLLOUT};
		poll(&p, 1, 1);
	}
}

static int syn_run(struct scan_ctx *ctx, char *err, size_t errlen)
{
	struct syn_engine *e = ctx->engine_data;
	struct syn_rx_arg rxa = {.ctx = ctx, .e = e};
	if (pthread_create(&e->rx_thread, NULL, syn_rx_main, &rxa) != 0) {
		snprintf(err, errlen, "cannot start the receive thread");
		return -1;
	}
	e->rx_started = true;

	double rate = ctx->cfg->rate;
	double t0 = time_mono();
	uint64_t sent = 0;
	uint32_t ip;
	uint16_t port;
	bool first;
	while (scan_feed_next(ctx, &ip, &port, &first)) {
		if ((sent & 255) == 0 && ctx->probe) {
			syn_flush(e);
			scan_backpressure(ctx);
		}
		if (rate > 0 && (sent & 15) == 0) {
			double due = t0 + (double)sent / rate;
			double now = time_mono();
			if (now < due) {
				syn_flush(e);
				while ((now = time_mono()) < due && scan_stopping(ctx) < 2)
					if (due - now > 0.0005)
						time_sleep(due - now - 0.0002);
			}
		}
		struct tpacket2_hdr *hdr = syn_frame(e);
		uint8_t *data = (uint8_t *)hdr + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
		packet_make_syn(data, &e->tpl, ip, port);
		hdr->tp_len = PACKET_SYN_LEN;
		__atomic_store_n(&hdr->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		e->frame_idx = (e->frame_idx + 1) % e->frame_nr;
		sent++;
		if (++e->pending >= SYN_BATCH || (rate > 0 && rate < 100000))
			syn_flush(e);
		if ((sent & 255) == 0)
			atomic_store(&ctx->sent, sent);
	}
	syn_flush(e);
	atomic_store(&ctx->sent, sent);
	ctx->t_send_done = time_mono();

	/* cooldown: keep receiving late replies. With one probe per target,
	 * once every target has answered (open or closed) there is nothing
	 * left to wait for: the cooldown ends early. */
	double until = time_mono() + ctx->cfg->cooldown;
	uint64_t probed = ctx->feed.main_count;
	while (time_mono() < until && scan_stopping(ctx) < 2) {
		if (ctx->cfg->retries == 0 && atomic_load(&ctx->found) + atomic_load(&e->closed) >= probed)
			break;
		time_sleep(0.02);
	}
	e->rx_quit = true;
	pthread_join(e->rx_thread, NULL);
	e->rx_started = false;
	struct pcap_stat ps;
	if (pcap_stats(e->pcap, &ps) == 0 && ps.ps_drop > 0)
		fprintf(stderr, "vigil: warning: %u replies dropped by the capture buffer: lower --rate\n", ps.ps_drop);
	return 0;
}

static void syn_cleanup(struct scan_ctx *ctx)
{
	struct syn_engine *e = ctx->engine_data;
	if (!e)
		return;
	if (e->rx_started) {
		e->rx_quit = true;
		pthread_join(e->rx_thread, NULL);
	}
	if (e->pcap)
		pcap_close(e->pcap);
	if (e->ring)
		munmap(e->ring, e->ring_size);
	if (e->fd >= 0)
		close(e->fd);
	free(e);
	ctx->engine_data = NULL;
}

const struct scan_engine scan_engine_syn = {
	.name = "syn",
	.prepare = syn_prepare,
	.run = syn_run,
	.cleanup = syn_cleanup,
};
