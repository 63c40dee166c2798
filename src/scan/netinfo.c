/* netinfo.c - interface, source IP and router MAC discovery (Linux):
 * route lookup through a connected UDP socket (sends nothing), addresses
 * from getifaddrs, gateway from /proc/net/route, MAC from /proc/net/arp. */
#include "scan/netinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "scan/targets.h"

int netinfo_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char extra;
	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3 + 2] != ':' && i < 5)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* First IPv4 address of ifname (host order), or 0. */
static uint32_t iface_ipv4(const char *ifname)
{
	struct ifaddrs *ifa, *p;
	uint32_t ip = 0;
	if (getifaddrs(&ifa) != 0)
		return 0;
	for (p = ifa; p; p = p->ifa_next)
		if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET && strcmp(p->ifa_name, ifname) == 0) {
			ip = ntohl(((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr.s_addr);
			break;
		}
	freeifaddrs(ifa);
	return ip;
}

/* Interface holding ip, into name. Returns 0 or -1. */
static int iface_of_ip(uint32_t ip, char *name)
{
	struct ifaddrs *ifa, *p;
	int rc = -1;
	if (getifaddrs(&ifa) != 0)
		return -1;
	for (p = ifa; p; p = p->ifa_next)
		if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET &&
		    ntohl(((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr.s_addr) == ip) {
			snprintf(name, IF_NAMESIZE, "%s", p->ifa_name);
			rc = 0;
			break;
		}
	freeifaddrs(ifa);
	return rc;
}

/* Gateway (host order) for dst via ifname from /proc/net/route; 0 when the
 * destination is on-link; -1 when there is no route. */
static int route_gateway(const char *ifname, uint32_t dst, uint32_t *gw)
{
	FILE *f = fopen("/proc/net/route", "r");
	if (!f)
		return -1;
	char line[512];
	int best_len = -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char ifn[64];
		unsigned d, g, flags, mask;
		if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", ifn, &d, &g, &flags, &mask) != 5)
			continue;
		if (strcmp(ifn, ifname) != 0 || !(flags & 1))  /* RTF_UP */
			continue;
		uint32_t dn = ntohl(d), mn = ntohl(mask);
		if ((dst & mn) != dn)
			continue;
		int len = __builtin_popcount(mn);
		if (len > best_len) {
			best_len = len;
			*gw = (flags & 2) ? ntohl(g) : 0;  /* RTF_GATEWAY */
		}
	}
	fclose(f);
	return best_len < 0 ? -1 : 0;
}

static int arp_lookup(const char *ifname, uint32_t ip, uint8_t mac[6])
{
	FILE *f = fopen("/proc/net/arp", "r");
	if (!f)
		return -1;
	char line[512], want[16];
	ipv4_format(ip, want);
	int rc = -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char ipstr[64], macstr[64], dev[64];
		unsigned flags;
		if (sscanf(line, "%63s %*s %x %63s %*s %63s", ipstr, &flags, macstr, dev) != 4)
			continue;
		if (strcmp(ipstr, want) == 0 && strcmp(dev, ifname) == 0 && (flags & 2) &&
		    netinfo_parse_mac(macstr, mac) == 0) {
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Make the kernel resolve ip's MAC by sending it one UDP datagram (discard
 * port). It goes only to the next hop that the scan itself will use. */
static void arp_provoke(uint32_t ip)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
	sin.sin_addr.s_addr = htonl(ip);
	(void)!sendto(fd, "", 0, 0, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
}

int netinfo_resolve(struct netinfo *ni, const char *ifname, uint32_t src_ip, const uint8_t *gw_mac,
		    uint32_t sample_target, char *err, size_t errlen)
{
	memset(ni, 0, sizeof(*ni));
	char tgt[16];
	ipv4_format(sample_target, tgt);
	if (ifname) {
		if (strlen(ifname) >= IF_NAMESIZE || !(ni->ifindex = (int)if_nametoindex(ifname))) {
			snprintf(err, errlen, "unknown interface '%s': list interfaces with 'ip link' and pass one to --interface", ifname);
			return -1;
		}
		snprintf(ni->ifname, sizeof(ni->ifname), "%s", ifname);
	}
	if (src_ip) {
		ni->src_ip = src_ip;
	} else if (ifname) {
		ni->src_ip = iface_ipv4(ifname);
		if (!ni->src_ip) {
			snprintf(err, errlen, "interface %s has no IPv4 address: pass --source-ip", ifname);
			return -1;
		}
	} else {
		/* route lookup without sending: connect a UDP socket */
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
		sin.sin_addr.s_addr = htonl(sample_target);
		socklen_t sl = sizeof(sin);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
		    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
			snprintf(err, errlen, "no route to %s: %s (add a route, or pass --interface and --source-ip)", tgt, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		ni->src_ip = ntohl(sin.sin_addr.s_addr);
	}
	if (!ifname) {
		if (iface_of_ip(ni->src_ip, ni->ifname) < 0) {
			char s[16];
			ipv4_format(ni->src_ip, s);
			snprintf(err, errlen, "no interface has source address %s: pass --interface", s);
			return -1;
		}
		ni->ifindex = (int)if_nametoindex(ni->ifname);
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ni->ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		snprintf(err, errlen, "cannot read flags of interface %s: %s", ni->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ni->loopback = (ifr.ifr_flags & IFF_LOOPBACK) != 0;
	if (!(ifr.ifr_flags & IFF_UP)) {
		close(fd);
		snprintf(err, errlen, "interface %s is down: bring it up with 'ip link set %s up'", ni->ifname, ni->ifname);
		return -1;
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(ni->src_mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	if (ni->loopback)
		return 0;  /* frames on lo carry zero MACs */
	if (gw_mac) {
		memcpy(ni->gw_mac, gw_mac, 6);
		return 0;
	}
	uint32_t gw;
	if (route_gateway(ni->ifname, sample_target, &gw) < 0) {
		snprintf(err, errlen, "no route to %s via %s: add one, or pass --router-mac", tgt, ni->ifname);
		return -1;
	}
	uint32_t hop = gw ? gw : sample_target;
	if (!gw) {
		snprintf(err, errlen, "targets are on-link on %s (no gateway): pass --router-mac with the MAC to send to", ni->ifname);
		return -1;
	}
	for (int i = 0; i < 30; i++) {
		if (arp_lookup(ni->ifname, hop, ni->gw_mac) == 0)
			return 0;
		if (i == 0)
			arp_provoke(hop);
		time_sleep(0.1);
	}
	char h[16];
	ipv4_format(hop, h);
	snprintf(err, errlen, "cannot find the MAC address of gateway %s on %s: pass --router-mac", h, ni->ifname);
	return -1;
}
