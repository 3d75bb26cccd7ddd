/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sealnet stack control: configure, start, run the poll loop, stop.
 *
 * One stack per process, driven from one thread pinned to one lcore. Every
 * sn_* call must be made from that thread. Errors: -1 and errno.
 */
#ifndef SEALNET_STACK_H
#define SEALNET_STACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SN_MAX_ADDRS 4      /* IPv4 plus IPv6 addresses given with --addr */
#define SN_DEV_MAX   256    /* longest --dev value */
#define SN_MAX_PEER_NAMES 8 /* --peer-name options */

/* One interface address with its prefix length. */
struct sn_ifaddr {
	int family;                 /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint8_t prefix;             /* 0-32 or 0-128 */
};

/* What a program gives the stack: the common options of every program. */
struct sn_config {
	char dev[SN_DEV_MAX];       /* --dev: tap:IF, memif:PATH[,server|client],
	                             * vhost:PATH, virtio:PATH, pci:BDF, null */
	struct sn_ifaddr addrs[SN_MAX_ADDRS]; /* --addr, repeatable */
	int naddrs;
	struct sn_ifaddr gw4;       /* --gw (IPv4), family 0 when unset */
	struct sn_ifaddr gw6;       /* --gw (IPv6), family 0 when unset */
	uint16_t mtu;               /* --mtu, 576..9000 (IPv6: >= 1280), default 1500 */
	int lcore;                  /* --lcore, default 0 */
	bool stats;                 /* --stats: print counters at exit */
	char ipsec_conf[256];       /* --ipsec-conf: SAs and policies, ip xfrm grammar */
	/* --secure[=encrypt|insecure-ok]: IPsec on the program's sockets
	 * (sn_secure_socket, sealnet/security.h). */
	bool secure;
	uint32_t secure_flags;      /* SN_SETTINGS_* */
	struct sn_peer_name_opt {   /* --peer-name ADDR=ID, repeatable */
		char addr[48];
		char id[256];
	} peer_names[SN_MAX_PEER_NAMES];
	int npeer_names;
	char principals[256];       /* --principals FILE: identity -> user map */
	char pcap[256];             /* --pcap FILE: pcapng capture, "" = none */
	uint32_t pcap_max_mb;       /* --pcap-max MB: its size limit, 0 = none */
	const char *prog;           /* program name for messages */
	/* --ike-conf FILE: IKEv2 (swanctl.conf syntax), "" = no IKE: SAs
	 * only from --ipsec-conf and the xfrm calls. */
	char ike_conf[256];
	char keylog[256];           /* --keylog DIR: IKE and ESP keys for Wireshark */
};

/* Fill *cfg with defaults: no device, no address, MTU 1500, the first
 * lcore (CPU) the process may run on. */
void sn_config_init(struct sn_config *cfg, const char *prog);

/*
 * Command-line parsing shared by every program. Each program lists its own
 * options; the common ones (--dev, --addr, --gw, --mtu, --lcore, --stats,
 * --help) are handled here. Options take "--name value" or "--name=value".
 */
enum sn_opt_arg { SN_OPT_NONE, SN_OPT_REQUIRED, SN_OPT_OPTIONAL };

struct sn_opt {
	const char *name;           /* without the leading "--" */
	enum sn_opt_arg arg;
	int id;                     /* passed to the handler */
	const char *help;           /* one line for --help */
};

/*
 * Called for each program option (name without "--", value or NULL) and for
 * each positional argument (opt == NULL). Return 0, or -1 after writing a
 * reason (without the option's name) into err.
 */
typedef int (*sn_opt_handler)(void *ctx, const struct sn_opt *opt,
			      const char *value, char *err, size_t errlen);

/*
 * Parse argv. Returns 0 on success, 1 when --help, -h or --version was
 * printed (the program should exit 0), or -1 with one line in err naming the option and the
 * problem (the program prints it and exits 2). The common checks: --dev
 * given and well formed, at least one --addr, addresses and prefixes
 * valid, --mtu in range, --lcore a CPU the process may run on.
 */
int sn_parse_args(struct sn_config *cfg, int argc, char **argv,
		  const struct sn_opt *opts, sn_opt_handler handler, void *ctx,
		  const char *usage, char *err, size_t errlen);

/* Parse a single common option; exposed for tests and for snctl.
 * Returns 1 if name is a common option and was applied, 0 if it is not a
 * common option, -1 with err on a bad value. */
int sn_parse_common(struct sn_config *cfg, const char *name, const char *value,
		    char *err, size_t errlen);

/* Check a --dev value without starting anything: 0, or -1 with err. */
int sn_dev_check(const char *dev, char *err, size_t errlen);

/*
 * Start the stack: EAL (own file prefix, huge pages reserved when running as
 * root, else --no-huge), the port, lwIP, the interface and its addresses.
 * Returns 0, or -1 with errno and a message on stderr.
 */
int sn_start(const struct sn_config *cfg);

/* The configuration the running stack was started with (NULL before). */
const struct sn_config *sn_config_current(void);

/* One iteration of the poll loop: flush TX, RX burst through the stack,
 * timers, flush TX. Returns the number of frames received. */
int sn_poll(void);

/* Run sn_poll() and then cb(arg) until sn_stop() is called or cb returns
 * non-zero. Returns 0, or cb's non-zero value. */
int sn_run(int (*cb)(void *arg), void *arg);

/* Ask the loop (and any blocking call) to return; async-signal-safe. */
void sn_stop(void);

/* True once sn_stop() was called. */
bool sn_stopping(void);

/* Make SIGINT and SIGTERM call sn_stop(). */
void sn_handle_signals(void);

/*
 * Close every socket, stop the port, release the EAL (memif sockets, TAP
 * devices, huge page files). Prints the counters first when cfg.stats was
 * set. Safe to call when sn_start() failed half way.
 */
void sn_cleanup(void);

/* Microseconds on the TSC clock since the stack started. */
uint64_t sn_now_us(void);

/* Print port, stack and drop counters (the --stats output). */
void sn_stats_print(FILE *out);

/* Look up one counter by its name as --stats prints it (for tests).
 * Returns 0 and stores the value, or -1 with ENOENT. */
int sn_stats_get(const char *name, uint64_t *value);

#ifdef __cplusplus
}
#endif

#endif
