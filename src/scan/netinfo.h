/* netinfo.h - finds the interface, source address and next-hop MAC for SYN
 * mode from the kernel's routing and neighbour tables when not given. */
#ifndef VIGIL_NETINFO_H
#define VIGIL_NETINFO_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netinfo {
	char ifname[IF_NAMESIZE];
	int ifindex;
	bool loopback;
	uint32_t src_ip;      /* host order */
	uint8_t src_mac[6];
	uint8_t gw_mac[6];
};

/* Fill ni. ifname, src_ip (0 = detect) and gw_mac (NULL = detect) are the
 * user's choices; sample_target is one target address (host order) used
 * for the route lookup. Returns 0, or -1 with a one-line reason in err. */
int netinfo_resolve(struct netinfo *ni, const char *ifname, uint32_t src_ip, const uint8_t *gw_mac,
		    uint32_t sample_target, char *err, size_t errlen);
/* Parse "aa:bb:cc:dd:ee:ff". Returns 0 or -1. */
int netinfo_parse_mac(const char *s, uint8_t mac[6]);

#endif
