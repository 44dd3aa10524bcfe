/* keyrate.c: the host-wide table of API key request counts (a fixed window per key and minute) in shared memory. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "core/keyrate.h"
#include "core/metrics.h"

#define KR_ENTRIES 8192             /* live keys per host before the database takes over */
#define KR_PROBES 32
#define KR_IPS 8

/* win packs (minute << 32) | count so that a new minute and the first count are one compare-and-swap. */
struct entry {
	_Atomic uint64_t key;            /* keyrate_key of the API key; 0 free */
	_Atomic uint64_t win;
	_Atomic uint64_t pending;        /* uses not yet added to api_keys.use_count */
	_Atomic uint64_t flushed;        /* epoch second of the last usage write; 0 never */
	_Atomic uint64_t ips[KR_IPS];    /* hashes of addresses known to be in api_key_ips; 0 none */
	_Atomic uint32_t ip_next;
	uint32_t pad;
};

struct table {
	char magic[8];
	uint32_t entry_size, nentries;
	char reserved[48];
	struct entry e[KR_ENTRIES];
};

#define MAGIC "ghbkrt1"
static struct table *tab;

int keyrate_open(const char *dir)
{
	if (tab)
		return 0;
	char path[1024];
	metrics_shm_path(path, sizeof path, dir && *dir ? dir : ".", "keyrate");
	struct table *t = metrics_shm_map(path, sizeof *t);
	if (!t)
		return -1;
	if (t->magic[0] == 0) {
		t->entry_size = sizeof(struct entry);
		t->nentries = KR_ENTRIES;
		memcpy(t->magic, MAGIC, sizeof MAGIC);
	}
	if (memcmp(t->magic, MAGIC, sizeof MAGIC) != 0 || t->entry_size != sizeof(struct entry) ||
	    t->nentries != KR_ENTRIES) {
		munmap(t, sizeof *t);
		return -1;
	}
	tab = t;
	return 0;
}

static uint64_t ip_hash(const char *ip)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)ip; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h ? h : 1;
}

/* The key's entry: its own, a free one, or one whose key has been idle two minutes with nothing left to
 * write (taken over). NULL when the probe window is full of live keys. */
static struct entry *find(uint64_t key, uint64_t minute, int create)
{
	uint64_t h = (key * 0x9E3779B97F4A7C15ULL) >> 32;
	for (int i = 0; i < KR_PROBES; i++) {
		struct entry *e = &tab->e[(h + (uint64_t)i) % KR_ENTRIES];
		uint64_t k = atomic_load(&e->key);
		if (k == key)
			return e;
		if (!create)
			continue;
		if (k == 0) {
			if (atomic_compare_exchange_strong(&e->key, &k, key))
				return e;
			if (k == key)
				return e;
			continue;
		}
		uint64_t w = atomic_load(&e->win);
		if ((w >> 32) + 2 <= minute && atomic_load(&e->pending) == 0 && atomic_compare_exchange_strong(&e->key, &k, key)) {
			atomic_store(&e->win, 0);
			atomic_store(&e->flushed, 0);
			for (int j = 0; j < KR_IPS; j++)
				atomic_store(&e->ips[j], 0);
			return e;
		}
	}
	return NULL;
}

unsigned long long keyrate_key(const char *public_id)
{
	uint64_t k = 0;
	for (const char *p = public_id ? public_id : ""; *p; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (d < 0)
			return ip_hash(public_id); /* not hex: any stable non-zero name will do */
		k = k << 4 | (uint64_t)d;
	}
	return k ? k : 1;
}

void keyrate_hit(struct keyrate_hit *out, unsigned long long key, const char *ip, time_t now)
{
	memset(out, 0, sizeof *out);
	out->reset_s = 60;
	if (!tab || key == 0 || now <= 0)
		return;
	uint64_t minute = (uint64_t)now / 60;
	struct entry *e = find((uint64_t)key, minute, 1);
	if (!e)
		return;
	uint64_t w = atomic_load(&e->win), nw;
	do
		nw = (w >> 32) == minute ? w + 1 : (minute << 32) | 1;
	while (!atomic_compare_exchange_weak(&e->win, &w, nw));
	out->counted = 1;
	out->count = (long)(nw & 0xffffffffu);
	out->reset_s = (int)(60 - (uint64_t)now % 60);
	atomic_fetch_add(&e->pending, 1);
	uint64_t f = atomic_load(&e->flushed);
	if ((uint64_t)now >= f + 60 && atomic_compare_exchange_strong(&e->flushed, &f, (uint64_t)now))
		out->flush_uses = (long long)atomic_exchange(&e->pending, 0);
	if (ip && *ip) {
		uint64_t hh = ip_hash(ip);
		for (int j = 0; j < KR_IPS && !out->ip_known; j++)
			out->ip_known = atomic_load(&e->ips[j]) == hh;
	} else {
		out->ip_known = 1; /* no address: nothing to record */
	}
}

void keyrate_unflush(unsigned long long key, long long uses)
{
	if (!tab || key == 0 || uses <= 0)
		return;
	struct entry *e = find((uint64_t)key, 0, 0);
	if (e) {
		atomic_fetch_add(&e->pending, (uint64_t)uses);
		atomic_store(&e->flushed, 0); /* try again on the next request */
	}
}

void keyrate_ip_learn(unsigned long long key, const char *ip)
{
	if (!tab || key == 0 || !ip || !*ip)
		return;
	struct entry *e = find((uint64_t)key, 0, 0);
	if (!e)
		return;
	uint32_t j = atomic_fetch_add(&e->ip_next, 1) % KR_IPS;
	atomic_store(&e->ips[j], ip_hash(ip));
}
