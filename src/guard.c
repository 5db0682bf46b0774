/*
 * guard.c - per-address authentication failure budget.  See guard.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "guard.h"

#define WAYS     8
#define US_PER_S 1000000LL

struct guard_key {
	uint8_t bytes[16]; /* IPv4 in the first 4, IPv6 /64 in the first 8 */
	uint8_t family;    /* 4 or 6; 0: an empty slot */
};

struct guard_slot {
	struct guard_key key;
	int64_t tat;  /* GCRA: when this address's budget is fully back */
	bool refused; /* the last failure was refused */
};

struct guard {
	pthread_mutex_t lock;
	int64_t interval_us;
	int64_t tolerance_us; /* burst * interval */
	size_t nsets;
	uint64_t seed;
	struct guard_slot *slots; /* nsets * WAYS */
};

struct guard *guard_new(const struct guard_options *opts)
{
	struct guard_options o = {0};
	if (opts != NULL)
		o = *opts;
	if (o.burst == 0)
		o.burst = GUARD_DEFAULT_BURST;
	if (o.interval_s == 0)
		o.interval_s = GUARD_DEFAULT_INTERVAL_S;
	if (o.slots == 0)
		o.slots = GUARD_DEFAULT_SLOTS;

	struct guard *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->nsets = (o.slots + WAYS - 1) / WAYS;
	g->slots = calloc(g->nsets * WAYS, sizeof(*g->slots));
	if (g->slots == NULL) {
		free(g);
		return NULL;
	}
	g->interval_us = (int64_t)o.interval_s * US_PER_S;
	g->tolerance_us = (int64_t)o.burst * g->interval_us;
	/* A secret seed: an attacker cannot aim addresses at one set to evict another's entry. */
	if (getrandom(&g->seed, sizeof(g->seed), GRND_NONBLOCK) != sizeof(g->seed))
		g->seed = (uint64_t)(uintptr_t)g ^ 0x9e3779b97f4a7c15u;
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

void guard_free(struct guard **gp)
{
	struct guard *g = *gp;
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g->slots);
	free(g);
	*gp = NULL;
}

static bool key_of(const struct sockaddr *sa, struct guard_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memcpy(k->bytes, &in->sin_addr, 4);
		k->family = 4;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			memcpy(k->bytes, in6->sin6_addr.s6_addr + 12, 4);
			k->family = 4;
		} else {
			memcpy(k->bytes, in6->sin6_addr.s6_addr, 8);
			k->family = 6;
		}
		return true;
	}
	return false;
}

static size_t set_of(const struct guard *g, const struct guard_key *k)
{
	uint64_t h = 1469598103934665603u ^ g->seed;
	for (size_t i = 0; i < sizeof(k->bytes); i++)
		h = (h ^ k->bytes[i]) * 1099511628211u;
	h ^= k->family;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return (size_t)(h % g->nsets);
}

/* The slot of k in its set, or the one to give it: empty, recovered, else nearest to recovery. */
static struct guard_slot *find_slot(struct guard *g, const struct guard_key *k)
{
	struct guard_slot *set = &g->slots[set_of(g, k) * WAYS], *victim = &set[0];
	for (size_t i = 0; i < WAYS; i++) {
		struct guard_slot *s = &set[i];
		if (s->key.family == k->family && memcmp(s->key.bytes, k->bytes, 16) == 0)
			return s;
		if (s->tat < victim->tat)
			victim = s;
	}
	victim->key = *k;
	victim->tat = 0;
	victim->refused = false;
	return victim;
}

unsigned guard_fail(struct guard *g, const struct sockaddr *addr, int64_t now_us, bool *entered)
{
	struct guard_key k;
	unsigned wait = 0;

	*entered = false;
	if (g == NULL || !key_of(addr, &k))
		return 0;
	pthread_mutex_lock(&g->lock);
	struct guard_slot *s = find_slot(g, &k);
	int64_t base = s->tat > now_us ? s->tat : now_us;
	int64_t next = base + g->interval_us;
	if (next - now_us <= g->tolerance_us) {
		s->tat = next;
		s->refused = false;
	} else {
		int64_t over = next - now_us - g->tolerance_us;
		wait = (unsigned)((over + US_PER_S - 1) / US_PER_S);
		if (wait == 0)
			wait = 1;
		*entered = !s->refused;
		s->refused = true;
	}
	pthread_mutex_unlock(&g->lock);
	return wait;
}

void guard_addr_text(const struct sockaddr *addr, char *buf, unsigned cap)
{
	struct guard_key k;
	char text[INET6_ADDRSTRLEN];

	if (!key_of(addr, &k)) {
		snprintf(buf, cap, "-");
		return;
	}
	if (k.family == 4) {
		inet_ntop(AF_INET, k.bytes, text, sizeof(text));
		snprintf(buf, cap, "%s", text);
	} else {
		inet_ntop(AF_INET6, k.bytes, text, sizeof(text));
		snprintf(buf, cap, "%s/64", text);
	}
}
