/* keyrate.h: API key request counting in host-wide shared memory: a fixed one-minute window per key, usage
 * batched to the database at most once a minute per key, and the addresses lately seen per key. */
#ifndef GHB_KEYRATE_H
#define GHB_KEYRATE_H

#include <time.h>

/* Why not the api_keys row: every API request used to UPDATE its key's row (count, window, use count),
 * so one busy key serialised all its requests on one row lock and wrote a row version per request
 * (issue 15: p99 466 ms against 27 ms signed in). Here a request is a few atomic operations on one entry
 * of a table in /dev/shm (the file metrics.shm's rules: local to the host, owned by our uid), shared by
 * every fcgi process of the host. What that gives up: the window is per host, so behind H hosts a key
 * gets up to H times api_rate_limit a minute; and a host restart forgets the current minute and at most
 * a minute of not yet written use counts. When the table cannot be used (no file, or more live keys
 * than entries) keyrate_hit says so and the caller counts in the database as before. */

/* Opens (creating when missing) the table for data_dir dir. 0, or -1 when it cannot (then every
 * keyrate_hit answers counted = 0). */
int keyrate_open(const char *dir);

struct keyrate_hit {
	int counted;             /* 0: not counted here (no table, or no entry free): count in the database */
	long count;              /* requests of this key on this host in the current minute, this one included */
	int reset_s;             /* seconds until the window ends (1..60) */
	long long flush_uses;    /* > 0: this caller writes usage now: use_count += flush_uses, last used now */
	int ip_known;            /* 1: ip was lately confirmed as one of the key's addresses */
};

/* The table's name for an API key: its public id (16 hex digits, random) as a number, never 0. Not the
 * database id: the table outlives a database restored or recreated under a running host, where ids are
 * reused by other keys, and public ids are not. */
unsigned long long keyrate_key(const char *public_id);

/* Counts one request of key (keyrate_key) from ip (may be NULL or "") at time now (epoch seconds).
 * flush_uses is handed to one caller per key and minute; on a failed write give it back with
 * keyrate_unflush. */
void keyrate_hit(struct keyrate_hit *out, unsigned long long key, const char *ip, time_t now);
/* Gives back uses that could not be written, for the next flush. */
void keyrate_unflush(unsigned long long key, long long uses);
/* Remembers that ip is recorded among the key's addresses (api_key_ips), so its next requests skip the
 * database; a few per key, the oldest forgotten first. */
void keyrate_ip_learn(unsigned long long key, const char *ip);

#endif
