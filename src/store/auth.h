/* auth.h: SQL for sign-in states, sessions, GitHub connections, API keys and server secrets. */
#ifndef GHB_STORE_AUTH_H
#define GHB_STORE_AUTH_H

#include "store/db.h"
#include "store/users.h"

/* server_secrets */
int store_secret_get(char **sealed, struct db *db, const char *name, struct err *e);
int store_secret_put_new(struct db *db, const char *name, const char *sealed, struct err *e); /* no-op if present */

/* oauth_states: single use, 10 minutes. */
int store_state_create(struct db *db, const char *state_hash, const char *presession_hash, const char *verifier_sealed,
		       const char *return_to, struct err *e);
struct oauth_state {
	long long id;
	char *presession_hash, *verifier_sealed, *return_to;
};
/* Marks it used and returns it; ERR_NOTFOUND when unknown, expired or used. */
int store_state_consume(struct oauth_state *out, struct db *db, const char *state_hash, struct err *e);
void store_state_free(struct oauth_state *s);

/* sessions */
int store_session_create(long long *id, struct db *db, const char *token_hash, long long user_id, long lifetime_s,
			 const char *ip, const char *ua, struct err *e);
struct session_row {
	long long id, user_id;
	char *created_at, *last_seen_at, *expires_at, *ip, *user_agent;
};
/* A live session (not ended, within absolute lifetime and idle timeout) and its user, in one query;
 * touches last_seen at most once a minute. */
int store_session_lookup(struct session_row *out, struct user *user, struct db *db, const char *token_hash, long idle_s,
			 struct err *e);
int store_sessions_list(struct session_row **rows, int *n, struct db *db, long long user_id, long idle_s, struct err *e);
void store_session_free(struct session_row *s);
void store_sessions_free(struct session_row *rows, int n);
/* Ends one of the user's sessions; ERR_NOTFOUND if it is not theirs. */
int store_session_end(struct db *db, long long user_id, long long session_id, struct err *e);
int store_session_end_by_hash(struct db *db, const char *token_hash, struct err *e);
int store_sessions_end_all(struct db *db, long long user_id, struct err *e);
/* Ends every live session of the user except keep_id (the caller's own); 0 also when there was none. */
int store_sessions_end_others(struct db *db, long long user_id, long long keep_id, struct err *e);

/* github_connections */
struct connection {
	long long user_id;
	char *kind, *access_sealed, *refresh_sealed, *status, *status_reason, *scopes;
	char *access_expires_at, *refresh_expires_at; /* text timestamps or NULL */
	long access_expires_in;                       /* seconds from now; LONG_MAX when it does not expire */
};
int store_connection_put(struct db *db, long long user_id, const char *kind, const char *access_sealed,
			 const char *refresh_sealed, long expires_in, long refresh_expires_in, const char *scopes,
			 struct err *e);
/* lock = 1 takes a row lock (inside a transaction): one refresh across all processes. */
int store_connection_get(struct connection *out, struct db *db, long long user_id, int lock, struct err *e);
int store_connection_set_status(struct db *db, long long user_id, const char *status, const char *reason,
				struct err *e);
/* Sets status needs_reconnect with reason; *changed = 0 when it already was (then nothing changes). */
int store_connection_mark_reconnect(int *changed, struct db *db, long long user_id, const char *reason, struct err *e);
int store_connection_clear(struct db *db, long long user_id, struct err *e);
void store_connection_free(struct connection *c);

/* api_keys */
int store_apikey_create(long long *id, struct db *db, const char *public_id, long long user_id, const char *name,
			const char *secret_hash, const char *scopes_array, int expires_days, struct err *e);
struct apikey_row {
	long long id, user_id;
	char *public_id, *name, *secret_hash, *scopes, *created_at, *expires_at, *revoked_at, *last_used_at,
		*last_used_ip;
	long long use_count;
	int expired, revoked;
	long long rate_limit;         /* the key's own requests per minute; 0: the api_rate_limit setting */
};
int store_apikey_lookup(struct apikey_row *out, struct db *db, const char *public_id, struct err *e);
/* The key by its public id and its user, in one statement. ERR_NOTFOUND for no such key. Both outputs are
 * the caller's (store_apikey_free, store_user_free), filled only on success. */
int store_apikey_lookup_user(struct apikey_row *out, struct user *user, struct db *db, const char *public_id,
			     struct err *e);
/* Adds uses to the key's use_count and sets last used (now, ip); also refreshes ip's last_seen_at among
 * the key's addresses. Called at most once a minute per key and host (core/keyrate.h). */
int store_apikey_record_use(struct db *db, long long id, long long uses, const char *ip, struct err *e);
/* *known = 1 when ip is among the key's recorded addresses (api_key_ips). Reads only. */
int store_apikey_ip_known(int *known, struct db *db, long long id, const char *ip, struct err *e);
/* Records ip among the key's addresses: *added = 1 when it was not there (then the least recently seen
 * beyond 32 are deleted). Run it in the transaction that writes the audit event. */
int store_apikey_ip_add(int *added, struct db *db, long long id, const char *ip, struct err *e);
/* Marks that a request came with the expired key: *noted = 1 when not marked in the last day (then the
 * caller records auth.apikey_expired in the same transaction), else 0 and nothing changes. */
int store_apikey_note_expired(int *noted, struct db *db, long long id, struct err *e);
int store_apikeys_list(struct apikey_row **rows, int *n, struct db *db, long long user_id, struct err *e);
void store_apikey_free(struct apikey_row *k);
void store_apikeys_free(struct apikey_row *rows, int n);
int store_apikey_revoke(struct db *db, long long user_id, long long id, struct err *e);
/* Counts a use in this minute's window; *count is the uses in the window so far, *reset_s the seconds left. */
int store_apikey_count_use(int *count, int *reset_s, struct db *db, long long id, const char *ip, struct err *e);

/* For rotation: every sealed value with its table, key and associated data. */
struct sealed_row {
	char *table, *column, *key, *ad, *sealed;
};
int store_sealed_all(struct sealed_row **rows, int *n, struct db *db, struct err *e);
int store_sealed_update(struct db *db, const struct sealed_row *row, const char *old_sealed, const char *new_sealed,
			struct err *e);
void store_sealed_free(struct sealed_row *rows, int n);

#endif
