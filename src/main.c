/* main.c - vigil's command line: parses arguments and wires the stages.
 * Only `scan` exists so far; later stages add subcommands here. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "detect/detect.h"
#include "scan/netinfo.h"
#include "store/commands.h"
#include "store/enrich.h"
#include "store/store.h"
#include "scan/resume.h"
#include "scan/scan.h"

#define VIGIL_VERSION "0.1.0"

static const char scan_usage[] =
	"usage: vigil scan TARGETS... -p PORTS [options]\n"
	"\n"
	"Find open TCP ports. TARGETS are IPv4 addresses, CIDRs (198.19.0.0/16),\n"
	"ranges (198.19.0.1-198.19.0.9 or 198.19.0.1-9), comma-separated or not.\n"
	"\n"
	"targets:\n"
	"  -p, --ports LIST        ports and ranges: 80,443,8000-8100 (required)\n"
	"  -iL, --input-list FILE  read targets from FILE ('#' comments)\n"
	"  --exclude LIST          never scan these (same syntax)\n"
	"  --exclude-file FILE     never scan the targets listed in FILE\n"
	"  --allow-reserved        lift the built-in list of reserved ranges\n"
	"                          (loopback, private, 198.18.0.0/15, multicast...)\n"
	"order:\n"
	"  --seed N                permutation seed (same seed, same order)\n"
	"  --shard I/N             scan slice I (0..N-1) of N disjoint slices\n"
	"mode:\n"
	"  --mode syn|connect      raw SYN packets (default as root) or connect()\n"
	"  --interface IF          SYN mode: interface (default: from the route)\n"
	"  --source-ip IP          SYN mode: source address (default: interface's)\n"
	"  --router-mac MAC        SYN mode: next-hop MAC (default: neighbour table)\n"
	"  --rate PPS              probes per second, 0 = as fast as possible\n"
	"                          (default 10000)\n"
	"  --retries N             extra probes per target (SYN: sent ~0.5 s later;\n"
	"                          connect: after a timeout) (default 0 SYN, 1 connect)\n"
	"  --cooldown SECONDS      SYN mode: wait for late replies (default 3)\n"
	"  --concurrency N         connections at once: connect mode and probes\n"
	"                          (default 1000)\n"
	"  --timeout MS            connect mode: per attempt (default 2000)\n"
	"layer 7 (what each open port is):\n"
	"  --probe                 talk to every open port: TLS handshake (leaf\n"
	"                          certificate), GET / and GET /favicon.ico over\n"
	"                          HTTP(S), or the greeting of servers that speak\n"
	"                          first; results stream in while layer 4 runs\n"
	"  --checks LIST           run checks (implies --probe). Available:\n"
	"                          toolshell: SharePoint build and ToolShell verdict\n"
	"                          (CVE-2025-49704/49706/53770/53771). Sends only\n"
	"                          GETs: /_vti_pvt/buildversion.cnf,\n"
	"                          /_vti_pvt/service.cnf, /_vti_inf.html and\n"
	"                          /_layouts/15/start.aspx; never an exploit, never\n"
	"                          a ToolPane POST\n"
	"  --assume-breach         toolshell: also GET one random path and the\n"
	"                          campaign's web-shell paths (spinstall0.aspx...)\n"
	"                          on SharePoint hosts; a shell's reply (the victim's\n"
	"                          machine keys) is judged in memory, never kept\n"
	"  --probe-timeout MS      idle read timeout per response (default 5000)\n"
	"  --max-body BYTES        body bytes kept per response (default 262144)\n"
	"  --no-favicon            do not fetch /favicon.ico\n"
	"index:\n"
	"  --db PATH|URI           also store every record (SQLite file or\n"
	"                          postgres://...), as it goes, in batches\n"
	"  --scan-name NAME        name of the stored scan\n"
	"  --geoip FILE            add country/ASN from a MaxMind-format database\n"
	"  --asn-tsv FILE          add ASN/country from an ip2asn TSV file\n"
	"output:\n"
	"  -o, --output FILE       JSON Lines, one object per open port; - = stdout\n"
	"                          (default stdout)\n"
	"  --resume FILE           on Ctrl-C/SIGTERM (and every 5 s) save the position\n"
	"                          to FILE; if FILE exists, continue that scan\n"
	"  --status                status line even when stderr is not a terminal\n";

static const char main_usage[] =
	"usage: vigil COMMAND [options]\n"
	"\n"
	"commands:\n"
	"  scan      find open ports, probe them, run checks (vigil scan --help)\n"
	"  search    QUERY: services matching a query, newest first\n"
	"  count     QUERY: how many services match\n"
	"  stats     QUERY --facets LIST: top values with counts\n"
	"  host      IP: every service of one address across scans\n"
	"  scans     list the stored scans\n"
	"  import    FILE: store results of vigil, masscan, ZMap, Nmap or Shodan\n"
	"  enrich    re-run ASN/country enrichment over stored scans\n"
	"  version   print the version\n"
	"\n"
	"index options (search, count, stats, host, scans, import, enrich):\n"
	"  --db PATH|URI     SQLite file (default $VIGIL_DB or vigil.db) or\n"
	"                    postgres://user@host/dbname for PostgreSQL\n"
	"  --json            JSON output (search: one record per line)\n"
	"  --limit N         search: at most N results (default 100)\n"
	"  --facets LIST     stats: e.g. country,port:10,verdict (name:N = top N)\n"
	"  --format F        import: auto, vigil, masscan-json, masscan-list,\n"
	"                    zmap-csv, nmap-xml, shodan (default auto)\n"
	"  --port N          import: port for formats without one (ZMap IP lists)\n"
	"  --scan-name NAME  import/scan: name of the stored scan\n"
	"  --scan ID         enrich: only this scan (default all)\n"
	"  --geoip FILE      MaxMind-format database (country and/or ASN); repeatable\n"
	"  --asn-tsv FILE    ip2asn TSV (start, end, AS, country, description)\n"
	"\n"
	"query language: words search banners, titles and headers; name:value\n"
	"filters (ip net port transport product version verdict vuln compromised\n"
	"title server http.status http.title http.favicon.hash ssl.cert.subject.cn\n"
	"ssl.cert.fingerprint country asn org scan before after has_tls); quotes\n"
	"for spaces; commas mean OR; a leading - negates; terms are ANDed. E.g.\n"
	"  vigil search 'product:sharepoint verdict:vulnerable country:DE -port:80'\n";

enum {
	OPT_INPUT_LIST = 1000, OPT_EXCLUDE, OPT_EXCLUDE_FILE, OPT_ALLOW_RESERVED, OPT_SEED, OPT_SHARD,
	OPT_MODE, OPT_INTERFACE, OPT_SOURCE_IP, OPT_ROUTER_MAC, OPT_RATE, OPT_RETRIES, OPT_COOLDOWN,
	OPT_CONCURRENCY, OPT_TIMEOUT, OPT_RESUME, OPT_STATUS, OPT_HELP, OPT_PROBE, OPT_CHECKS,
	OPT_ASSUME_BREACH, OPT_PROBE_TIMEOUT, OPT_MAX_BODY, OPT_NO_FAVICON, OPT_DB, OPT_SCAN_NAME, OPT_GEOIP,
	OPT_ASN_TSV, OPT_MAX
};

static const struct option scan_options[] = {
	{"ports", required_argument, NULL, 'p'},
	{"output", required_argument, NULL, 'o'},
	{"input-list", required_argument, NULL, OPT_INPUT_LIST},
	{"exclude", required_argument, NULL, OPT_EXCLUDE},
	{"exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE},
	{"allow-reserved", no_argument, NULL, OPT_ALLOW_RESERVED},
	{"seed", required_argument, NULL, OPT_SEED},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"mode", required_argument, NULL, OPT_MODE},
	{"interface", required_argument, NULL, OPT_INTERFACE},
	{"source-ip", required_argument, NULL, OPT_SOURCE_IP},
	{"router-mac", required_argument, NULL, OPT_ROUTER_MAC},
	{"rate", required_argument, NULL, OPT_RATE},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"cooldown", required_argument, NULL, OPT_COOLDOWN},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"status", no_argument, NULL, OPT_STATUS},
	{"help", no_argument, NULL, OPT_HELP},
	{"probe", no_argument, NULL, OPT_PROBE},
	{"checks", required_argument, NULL, OPT_CHECKS},
	{"assume-breach", no_argument, NULL, OPT_ASSUME_BREACH},
	{"probe-timeout", required_argument, NULL, OPT_PROBE_TIMEOUT},
	{"max-body", required_argument, NULL, OPT_MAX_BODY},
	{"no-favicon", no_argument, NULL, OPT_NO_FAVICON},
	{"db", required_argument, NULL, OPT_DB},
	{"scan-name", required_argument, NULL, OPT_SCAN_NAME},
	{"geoip", required_argument, NULL, OPT_GEOIP},
	{"asn-tsv", required_argument, NULL, OPT_ASN_TSV},
	{NULL, 0, NULL, 0},
};

/* What one command line says, before targets are combined. */
struct scan_args {
	const char *db, *scan_name;
	const char *geoip[8], *asn_tsv[8];
	int ngeoip, nasn_tsv;
	struct scan_config cfg;
	struct rangeset include, exclude;
	bool have_targets, have_ports, have_seed, allow_reserved;
	bool set[OPT_MAX];  /* options given explicitly */
	int retries_set;
};

static double parse_number(const char *opt, const char *s, double min, double max)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v != v || v < min || v > max)
		log_die("bad value '%s' for --%s: expected a number from %g to %g", s, opt, min, max);
	return v;
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		log_die("bad value '%s' for --%s: expected a non-negative integer", s, opt);
	uint64_t v = strtoull(s, &end, 10);
	if (errno || *end)
		log_die("bad value '%s' for --%s: expected a non-negative integer", s, opt);
	return v;
}

/* Parse one scan command line into a. argv[0] is "scan". */
static void scan_parse_args(int argc, char **argv, struct scan_args *a)
{
	char err[TARGETS_ERR_LEN];
	struct scan_config *cfg = &a->cfg;
	memset(a, 0, sizeof(*a));
	rangeset_init(&a->include);
	rangeset_init(&a->exclude);
	rangeset_init(&cfg->targets);
	cfg->nshards = 1;
	cfg->rate = 10000;
	cfg->cooldown = 3;
	cfg->concurrency = 1000;
	cfg->timeout_ms = 2000;
	cfg->retries = -1;
	probe_config_defaults(&cfg->probe_cfg);

	/* nmap's single-dash -iL is not getopt syntax: rewrite it */
	static char input_list_opt[] = "--input-list";
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-iL") == 0)
			argv[i] = input_list_opt;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":p:o:h", scan_options, NULL)) != -1) {
		if (c > 0 && c < OPT_MAX)
			a->set[c] = true;
		switch (c) {
		case 'p':
			if (ports_parse(optarg, &cfg->ports, err, sizeof(err)) < 0)
				log_die("%s", err);
			a->have_ports = true;
			break;
		case 'o':
			cfg->output_path = optarg;
			break;
		case OPT_INPUT_LIST:
			if (targets_parse_file(optarg, &a->include, err, sizeof(err)) < 0)
				log_die("%s", err);
			a->have_targets = true;
			break;
		case OPT_EXCLUDE:
			if (targets_parse_text(optarg, NULL, &a->exclude, err, sizeof(err)) < 0)
				log_die("bad --exclude: %s", err);
			break;
		case OPT_EXCLUDE_FILE:
			if (targets_parse_file(optarg, &a->exclude, err, sizeof(err)) < 0)
				log_die("%s", err);
			break;
		case OPT_ALLOW_RESERVED:
			a->allow_reserved = true;
			break;
		case OPT_SEED:
			cfg->seed = parse_u64("seed", optarg);
			a->have_seed = true;
			break;
		case OPT_SHARD: {
			unsigned i, n;
			char extra;
			if (sscanf(optarg, "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || n > 65535 || i >= n ||
			    strspn(optarg, "0123456789/") != strlen(optarg))
				log_die("bad --shard '%s': expected I/N with 0 <= I < N <= 65535, e.g. --shard 0/3", optarg);
			cfg->shard = i;
			cfg->nshards = n;
			break;
		}
		case OPT_MODE:
			if (strcmp(optarg, "syn") == 0)
				cfg->mode = SCAN_MODE_SYN;
			else if (strcmp(optarg, "connect") == 0)
				cfg->mode = SCAN_MODE_CONNECT;
			else
				log_die("bad --mode '%s': expected syn or connect", optarg);
			break;
		case OPT_INTERFACE:
			cfg->interface = optarg;
			break;
		case OPT_SOURCE_IP:
			if (ipv4_parse(optarg, strlen(optarg), &cfg->source_ip) < 0 || cfg->source_ip == 0)
				log_die("bad --source-ip '%s': expected an IPv4 address", optarg);
			break;
		case OPT_ROUTER_MAC:
			if (netinfo_parse_mac(optarg, cfg->router_mac) < 0)
				log_die("bad --router-mac '%s': expected aa:bb:cc:dd:ee:ff", optarg);
			cfg->have_router_mac = true;
			break;
		case OPT_RATE:
			cfg->rate = parse_number("rate", optarg, 0, 1e9);
			break;
		case OPT_RETRIES:
			cfg->retries = (int)parse_number("retries", optarg, 0, 8);
			if (cfg->retries != atof(optarg))
				log_die("bad value '%s' for --retries: expected an integer from 0 to 8", optarg);
			break;
		case OPT_COOLDOWN:
			cfg->cooldown = parse_number("cooldown", optarg, 0, 3600);
			break;
		case OPT_CONCURRENCY:
			cfg->concurrency = (int)parse_number("concurrency", optarg, 1, 1000000);
			break;
		case OPT_TIMEOUT:
			cfg->timeout_ms = (int)parse_number("timeout", optarg, 1, 3600000);
			break;
		case OPT_RESUME:
			cfg->resume_path = optarg;
			break;
		case OPT_STATUS:
			cfg->status = true;
			break;
		case OPT_PROBE:
			cfg->probe = true;
			break;
		case OPT_CHECKS: {
			char list[256];
			snprintf(list, sizeof(list), "%s", optarg);
			char *save = NULL;
			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				const struct detect_module *m = detect_find(t);
				if (!m)
					log_die("unknown check '%s': available checks: toolshell", t);
				bool dup = false;
				for (int i = 0; i < cfg->probe_cfg.nchecks; i++)
					dup |= cfg->probe_cfg.checks[i] == m;
				if (!dup && cfg->probe_cfg.nchecks < 4)
					cfg->probe_cfg.checks[cfg->probe_cfg.nchecks++] = m;
			}
			cfg->probe = true;
			break;
		}
		case OPT_ASSUME_BREACH:
			cfg->probe_cfg.detect.assume_breach = true;
			break;
		case OPT_PROBE_TIMEOUT:
			cfg->probe_cfg.read_timeout_ms = (int)parse_number("probe-timeout", optarg, 1, 600000);
			break;
		case OPT_MAX_BODY:
			cfg->probe_cfg.max_body = (size_t)parse_number("max-body", optarg, 0, 64 << 20);
			break;
		case OPT_NO_FAVICON:
			cfg->probe_cfg.favicon = false;
			break;
		case OPT_DB:
			a->db = optarg;
			break;
		case OPT_SCAN_NAME:
			a->scan_name = optarg;
			break;
		case OPT_GEOIP:
			if (a->ngeoip == 8)
				log_die("at most 8 --geoip files");
			a->geoip[a->ngeoip++] = optarg;
			break;
		case OPT_ASN_TSV:
			if (a->nasn_tsv == 8)
				log_die("at most 8 --asn-tsv files");
			a->asn_tsv[a->nasn_tsv++] = optarg;
			break;
		case 'h':
		case OPT_HELP:
			fputs(scan_usage, stdout);
			exit(0);
		case ':':
			log_die("option %s needs a value (see vigil scan --help)", argv[optind - 1]);
		default:
			log_die("unknown option '%s' (see vigil scan --help)", argv[optind - 1]);
		}
	}
	/* getopt moved the positional targets to the end */
	for (; optind < argc; optind++) {
		if (targets_parse_text(argv[optind], NULL, &a->include, err, sizeof(err)) < 0)
			log_die("%s", err);
		a->have_targets = true;
	}
}

/* Targets minus excludes minus (unless allowed) the reserved list. */
static void scan_build_targets(struct scan_args *a)
{
	struct scan_config *cfg = &a->cfg;
	if (!a->have_targets)
		log_die("no targets: name addresses, CIDRs or ranges (e.g. vigil scan 198.51.100.0/24 -p 80), or -iL FILE");
	if (!a->have_ports)
		log_die("no ports: add -p with a port list, e.g. -p 80,443");
	rangeset_normalize(&a->include);
	uint64_t given = a->include.total;
	if (given == 0)
		log_die("no targets: the target list is empty");
	rangeset_subtract(&a->include, &a->exclude);
	uint64_t after_user = a->include.total;
	if (!a->allow_reserved) {
		struct rangeset reserved;
		rangeset_init(&reserved);
		targets_add_reserved(&reserved);
		rangeset_subtract(&a->include, &reserved);
		rangeset_free(&reserved);
	}
	if (a->include.total == 0) {
		if (after_user == 0)
			log_die("all %" PRIu64 " targets are excluded by --exclude: nothing to scan", given);
		log_die("all %" PRIu64 " targets are in reserved ranges (private, loopback, benchmark, multicast...): "
			"nothing to scan; --allow-reserved lifts that list", given);
	}
	rangeset_free(&cfg->targets);
	cfg->targets = a->include;
	rangeset_init(&a->include);
	rangeset_free(&a->exclude);
}

static bool same_targets(const struct scan_config *x, const struct scan_config *y)
{
	if (x->targets.n != y->targets.n || x->ports.n != y->ports.n || x->shard != y->shard || x->nshards != y->nshards)
		return false;
	return memcmp(x->targets.r, y->targets.r, x->targets.n * sizeof(*x->targets.r)) == 0 &&
	       memcmp(x->ports.ports, y->ports.ports, x->ports.n * sizeof(uint16_t)) == 0;
}

/* Load the enrichment sources; NULL when none are given. */
static struct enrich *open_enrich(const char *const *geoip, int ngeoip, const char *const *asn, int nasn)
{
	if (ngeoip == 0 && nasn == 0)
		return NULL;
	struct enrich *e = enrich_new();
	char err[ENRICH_ERR_LEN];
	for (int i = 0; i < ngeoip; i++)
		if (enrich_add_mmdb(e, geoip[i], err, sizeof(err)) < 0)
			log_die("%s", err);
	for (int i = 0; i < nasn; i++)
		if (enrich_add_ip2asn(e, asn[i], err, sizeof(err)) < 0)
			log_die("%s", err);
	char warn[3][ENRICH_WARN_LEN];
	size_t nw = enrich_warnings(e, warn, 3);
	for (size_t i = 0; i < nw; i++)
		log_warn("%s", warn[i]);
	return e;
}

static void enrich_transform(void *arg, struct service_record *rec)
{
	enrich_record(arg, rec, false);
}

struct db_sink {
	struct store *store;
	int64_t scan_id;
};

static int db_sink_write(void *arg, struct service_record *rec, char *err, size_t errlen)
{
	struct db_sink *d = arg;
	return d->store->be->add(d->store, d->scan_id, rec, err, errlen);
}

/* Join a target list for the scans table. */
static char *join_args(char **argv, int argc)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (int i = 0; i < argc; i++) {
		if (i)
			strbuf_adds(&sb, " ");
		strbuf_adds(&sb, argv[i]);
	}
	return sb.data ? sb.data : xstrdup("");
}

static const char *default_db(void)
{
	const char *env = getenv("VIGIL_DB");
	return env && *env ? env : "vigil.db";
}

static int cmd_scan(int argc, char **argv)
{
	struct scan_args cur;
	scan_parse_args(argc, argv, &cur);

	/* The arguments that define the scan, kept for the resume file. */
	char **saved = xcalloc((size_t)argc + 1, sizeof(char *));
	int nsaved = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--resume") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--resume=", 9) == 0)
			continue;
		saved[nsaved++] = argv[i];
	}

	struct resume_state rs = {0};
	int have_resume = 0;
	char err[512];
	if (cur.cfg.resume_path) {
		have_resume = resume_read(cur.cfg.resume_path, &rs, err, sizeof(err));
		if (have_resume < 0)
			log_die("%s", err);
	}
	struct scan_args *use = &cur;
	static struct scan_args old;
	if (have_resume) {
		/* Continue the saved scan; this command line may only change how
		 * it runs (output, rate, status...), not what it scans. */
		scan_parse_args(rs.argc, rs.argv, &old);
		scan_build_targets(&old);
		if (cur.have_targets || cur.have_ports) {
			scan_build_targets(&cur);
			if (!same_targets(&cur.cfg, &old.cfg))
				log_die("%s is the state of a different scan (other targets, ports or shard): "
					"remove it or use another --resume file", cur.cfg.resume_path);
		}
		if (cur.have_seed && cur.cfg.seed != rs.seed)
			log_die("--seed differs from the seed saved in %s", cur.cfg.resume_path);
		struct scan_config *o = &old.cfg, *c = &cur.cfg;
		if (cur.set['o'])
			o->output_path = c->output_path;
		if (cur.set[OPT_MODE])
			o->mode = c->mode;
		if (cur.set[OPT_INTERFACE])
			o->interface = c->interface;
		if (cur.set[OPT_SOURCE_IP])
			o->source_ip = c->source_ip;
		if (cur.set[OPT_ROUTER_MAC]) {
			memcpy(o->router_mac, c->router_mac, 6);
			o->have_router_mac = true;
		}
		if (cur.set[OPT_RATE])
			o->rate = c->rate;
		if (cur.set[OPT_RETRIES])
			o->retries = c->retries;
		if (cur.set[OPT_COOLDOWN])
			o->cooldown = c->cooldown;
		if (cur.set[OPT_CONCURRENCY])
			o->concurrency = c->concurrency;
		if (cur.set[OPT_TIMEOUT])
			o->timeout_ms = c->timeout_ms;
		if (cur.set[OPT_STATUS])
			o->status = true;
		if (cur.set[OPT_CONCURRENCY])
			o->probe_cfg.concurrency = c->probe_cfg.concurrency;
		o->resume_path = c->resume_path;
		o->seed = rs.seed;
		o->start_step = rs.position;
		o->output_append = true;
		/* keep saving the original definition */
		free(saved);
		saved = rs.argv;
		nsaved = rs.argc;
		use = &old;
	} else {
		scan_build_targets(&cur);
		if (!cur.have_seed) {
			if (cur.cfg.nshards > 1)
				log_die("--shard needs --seed so every shard uses the same order");
			if (getrandom(&cur.cfg.seed, sizeof(cur.cfg.seed), 0) != sizeof(cur.cfg.seed))
				cur.cfg.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		}
	}
	struct scan_config *cfg = &use->cfg;
	if (cfg->probe_cfg.detect.assume_breach && cfg->probe_cfg.nchecks == 0)
		log_die("--assume-breach needs a check that looks for compromise: add --checks toolshell");
	cfg->probe_cfg.concurrency = cfg->concurrency;
	if (cfg->probe_cfg.detect.assume_breach) {
		/* a web shell's reply holds the victim's keys: no core dumps */
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	if (cfg->retries < 0)
		cfg->retries = (cfg->mode == SCAN_MODE_CONNECT || (cfg->mode == SCAN_MODE_AUTO && geteuid() != 0)) ? 1 : 0;
	cfg->saved_argv = saved;
	cfg->saved_argc = nsaved;

	const char *db = cur.db ? cur.db : use->db;
	const char *scan_name = cur.scan_name ? cur.scan_name : use->scan_name;
	struct enrich *en = cur.ngeoip || cur.nasn_tsv
		? open_enrich(cur.geoip, cur.ngeoip, cur.asn_tsv, cur.nasn_tsv)
		: open_enrich(use->geoip, use->ngeoip, use->asn_tsv, use->nasn_tsv);
	if (en) {
		cfg->transform = enrich_transform;
		cfg->transform_arg = en;
	}
	struct db_sink sink = {0};
	if (db) {
		char serr[STORE_ERR_LEN];
		sink.store = store_open(db, serr, sizeof(serr));
		if (!sink.store)
			log_die("%s", serr);
		if (have_resume && rs.store_scan > 0) {
			sink.scan_id = rs.store_scan;  /* continue the same stored scan */
		} else {
			char *targets = join_args(saved, nsaved);
			struct store_scan_info info = {.name = scan_name, .targets = targets, .source = "scan"};
			int brc = sink.store->be->scan_begin(sink.store, &info, &sink.scan_id, serr, sizeof(serr));
			free(targets);
			if (brc < 0)
				log_die("%s", serr);
		}
		cfg->sink = db_sink_write;
		cfg->sink_arg = &sink;
		cfg->store_scan_id = sink.scan_id;
	}
	int rc = scan_run(cfg);
	if (sink.store) {
		char serr[STORE_ERR_LEN];
		if (sink.store->be->scan_end(sink.store, sink.scan_id, rc == 0, serr, sizeof(serr)) < 0) {
			log_info("%s", serr);
			rc = 1;
		}
		store_close(sink.store);
	}
	if (en)
		enrich_free(en);
	rangeset_free(&cfg->targets);
	ports_free(&cfg->ports);
	if (have_resume) {
		resume_free(&rs);
		rangeset_free(&cur.cfg.targets);
		ports_free(&cur.cfg.ports);
	} else {
		free(saved);
	}
	rangeset_free(&cur.include);
	rangeset_free(&cur.exclude);
	return rc;
}

enum { IX_DB = 2000, IX_JSON, IX_LIMIT, IX_FACETS, IX_FORMAT, IX_PORT, IX_SCAN_NAME, IX_SCAN, IX_GEOIP, IX_ASN_TSV };

static const struct option index_options[] = {
	{"db", required_argument, NULL, IX_DB},
	{"json", no_argument, NULL, IX_JSON},
	{"limit", required_argument, NULL, IX_LIMIT},
	{"facets", required_argument, NULL, IX_FACETS},
	{"format", required_argument, NULL, IX_FORMAT},
	{"port", required_argument, NULL, IX_PORT},
	{"scan-name", required_argument, NULL, IX_SCAN_NAME},
	{"scan", required_argument, NULL, IX_SCAN},
	{"geoip", required_argument, NULL, IX_GEOIP},
	{"asn-tsv", required_argument, NULL, IX_ASN_TSV},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* search, count, stats, host, scans, import, enrich. */
static int cmd_index(const char *verb, int argc, char **argv)
{
	struct store_cli o = {.limit = 100};
	const char *db = default_db(), *format = NULL, *scan_name = NULL;
	const char *geoip[8], *asn[8];
	int ngeoip = 0, nasn = 0;
	uint16_t port = 0;
	int64_t scan_id = 0;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", index_options, NULL)) != -1) {
		switch (c) {
		case IX_DB: db = optarg; break;
		case IX_JSON: o.json = true; break;
		case IX_LIMIT: o.limit = (int64_t)parse_number("limit", optarg, 1, 1e9); break;
		case IX_FACETS: o.facets = optarg; break;
		case IX_FORMAT: format = optarg; break;
		case IX_PORT: port = (uint16_t)parse_number("port", optarg, 1, 65535); break;
		case IX_SCAN_NAME: scan_name = optarg; break;
		case IX_SCAN: scan_id = (int64_t)parse_number("scan", optarg, 1, 1e15); break;
		case IX_GEOIP:
			if (ngeoip == 8)
				log_die("at most 8 --geoip files");
			geoip[ngeoip++] = optarg;
			break;
		case IX_ASN_TSV:
			if (nasn == 8)
				log_die("at most 8 --asn-tsv files");
			asn[nasn++] = optarg;
			break;
		case 'h': fputs(main_usage, stdout); return 0;
		case ':': log_die("option %s needs a value (see vigil help)", argv[optind - 1]);
		default: log_die("unknown option '%s' for vigil %s (see vigil help)", argv[optind - 1], verb);
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	bool needs_arg = strcmp(verb, "search") == 0 || strcmp(verb, "host") == 0 || strcmp(verb, "import") == 0;
	bool takes_arg = needs_arg || strcmp(verb, "count") == 0 || strcmp(verb, "stats") == 0;
	if (needs_arg && npos < 1)
		log_die("vigil %s needs %s", verb, strcmp(verb, "host") == 0 ? "an IP address" :
			strcmp(verb, "import") == 0 ? "a file to import" : "a query (quote it: vigil search 'port:443 country:DE')");
	if (!takes_arg && npos > 0)
		log_die("vigil %s takes no arguments (got '%s')", verb, pos[0]);
	if (npos > 1 && strcmp(verb, "import") != 0)
		log_die("vigil %s takes one argument: quote the query as one argument, e.g. 'port:443 country:DE'", verb);
	if (strcmp(verb, "import") != 0 && strcmp(verb, "enrich") != 0 && access(db, F_OK) != 0 &&
	    strstr(db, "://") == NULL && strstr(db, "dbname=") == NULL)
		log_die("no database %s: create one with vigil scan --db %s or vigil import FILE --db %s", db, db, db);
	char err[STORE_ERR_LEN];
	struct store *s = store_open(db, err, sizeof(err));
	if (!s)
		log_die("%s", err);
	const char *query = npos > 0 ? pos[0] : "";
	int rc = 0;
	if (strcmp(verb, "search") == 0)
		rc = store_cli_search(s, query, &o);
	else if (strcmp(verb, "count") == 0)
		rc = store_cli_count(s, query, &o);
	else if (strcmp(verb, "stats") == 0)
		rc = store_cli_stats(s, query, &o);
	else if (strcmp(verb, "host") == 0)
		rc = store_cli_host(s, query, &o);
	else if (strcmp(verb, "scans") == 0)
		rc = store_cli_scans(s, &o);
	else if (strcmp(verb, "import") == 0) {
		struct enrich *en = open_enrich(geoip, ngeoip, asn, nasn);
		for (int i = 0; i < npos && rc == 0; i++)
			rc = store_cli_import(s, pos[i], format, port, scan_name, en);
		if (en)
			enrich_free(en);
	} else if (strcmp(verb, "enrich") == 0) {
		struct enrich *en = open_enrich(geoip, ngeoip, asn, nasn);
		if (!en)
			log_die("vigil enrich needs --geoip FILE or --asn-tsv FILE");
		rc = store_cli_enrich(s, scan_id, en);
		enrich_free(en);
	}
	store_close(s);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(main_usage, stderr);
		return LOG_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	static const char *const index_verbs[] = {"search", "count", "stats", "host", "scans", "import", "enrich"};
	for (size_t i = 0; i < sizeof(index_verbs) / sizeof(index_verbs[0]); i++)
		if (strcmp(cmd, index_verbs[i]) == 0)
			return cmd_index(cmd, argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("vigil %s\n", VIGIL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(main_usage, stdout);
		return 0;
	}
	log_die("unknown command '%s': try 'vigil help'", cmd);
}
