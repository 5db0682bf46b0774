/*
 * guard - the per-address budget of authentication failures, against token
 * guessing.
 *
 * Each client address may fail authentication `burst` times in a row; after
 * that it earns one more failure every `interval_s` seconds (a leaky bucket:
 * GCRA).  A failure past the budget is answered 429 with Retry-After instead
 * of 401.  IPv6 clients are counted by /64 (one host usually owns a whole
 * /64), IPv4-mapped IPv6 addresses as IPv4.
 *
 * Only failures are charged and the app checks the token before the budget:
 * a request with a valid token is never refused, so an attacker sharing an
 * address (NAT, a proxy) cannot lock a legitimate client out.  That this
 * gives no guessing advantage rests on the token's 256-bit secret; see
 * README "Guessing".
 *
 * Memory is a fixed table of `slots` entries (8-way set-associative, a
 * seeded hash): an attack from many addresses evicts the entries closest to
 * having recovered their budget, and never grows the table.
 */
#ifndef TAGD_GUARD_H
#define TAGD_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;

#define GUARD_DEFAULT_BURST      20
#define GUARD_DEFAULT_INTERVAL_S 3
#define GUARD_DEFAULT_SLOTS      4096

struct guard_options {
	unsigned burst;      /* failures allowed in a row; 0: GUARD_DEFAULT_BURST */
	unsigned interval_s; /* one more failure allowed per this many seconds; 0: default */
	unsigned slots;      /* addresses remembered (rounded up to a multiple of 8); 0: default */
};

struct guard;

/* opts may be NULL.  NULL when out of memory. */
struct guard *guard_new(const struct guard_options *opts);
void guard_free(struct guard **gp);

/*
 * Charge one authentication failure of addr at now_us (microseconds).
 * Returns 0 when it is within the budget (answer 401), else the number of
 * seconds (at least 1) before the address may fail again (answer 429 with
 * Retry-After); a refused failure is not charged.  *entered is set when this
 * is the first refusal since the address was last within its budget (log it
 * once).  A NULL or non-IP address is never limited.
 */
unsigned guard_fail(struct guard *g, const struct sockaddr *addr, int64_t now_us, bool *entered);

/*
 * The budget key of addr as text ("192.0.2.1", "2001:db8:1:2::/64") into buf
 * (at least 64 bytes), for logs.  "-" for a NULL or non-IP address.
 */
void guard_addr_text(const struct sockaddr *addr, char *buf, unsigned cap);

#endif
