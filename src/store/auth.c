/* auth.c: SQL for sign-in states, sessions, GitHub connections, API keys and server secrets. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/auth.h"
#include "store/users.h"

static void ll(char *buf, size_t n, long long v) { snprintf(buf, n, "%lld", v); }

static int exec_count(int *affected, struct db *db, struct db_stmt *st, int n, const char *const *p, struct err *e)
{
	PGresult *r;
	int rc = db_query(&r, db, st, n, p, e);
	if (rc)
		return rc;
	if (affected)
		*affected = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

/* ---------------------------------------------------------------- server secrets */
DB_STMT(stmt_secret_get, "SELECT sealed FROM server_secrets WHERE name = $1");
DB_STMT(stmt_secret_put, "INSERT INTO server_secrets (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING");

int store_secret_get(char **sealed, struct db *db, const char *name, struct err *e)
{
	const char *p[] = { name };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_secret_get, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "no server secret %s", name);
	}
	*sealed = store_col(r, 0, 0);
	PQclear(r);
	return 0;
}

int store_secret_put_new(struct db *db, const char *name, const char *sealed, struct err *e)
{
	const char *p[] = { name, sealed };
	return exec_count(NULL, db, &stmt_secret_put, 2, p, e);
}

/* ---------------------------------------------------------------- oauth states */
DB_STMT(stmt_state_create,
	"INSERT INTO oauth_states (state_hash, presession_hash, verifier_sealed, return_to, expires_at)"
	" VALUES ($1, $2, $3, $4, now() + interval '10 minutes')");
DB_STMT(stmt_state_consume,
	"UPDATE oauth_states SET used_at = now()"
	" WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()"
	" RETURNING id, presession_hash, verifier_sealed, return_to");
DB_STMT(stmt_state_gc, "DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day'");

int store_state_create(struct db *db, const char *state_hash, const char *presession_hash, const char *verifier_sealed,
		       const char *return_to, struct err *e)
{
	const char *p[] = { state_hash, presession_hash, verifier_sealed, return_to };
	int rc = exec_count(NULL, db, &stmt_state_create, 4, p, e);
	if (rc == 0)
		exec_count(NULL, db, &stmt_state_gc, 0, NULL, NULL);
	return rc;
}

int store_state_consume(struct oauth_state *out, struct db *db, const char *state_hash, struct err *e)
{
	memset(out, 0, sizeof *out);
	const char *p[] = { state_hash };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_state_consume, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "unknown, expired or already used sign-in state");
	}
	out->id = store_col_ll(r, 0, 0);
	out->presession_hash = store_col(r, 0, 1);
	out->verifier_sealed = store_col(r, 0, 2);
	out->return_to = store_col(r, 0, 3);
	PQclear(r);
	return 0;
}

void store_state_free(struct oauth_state *s)
{
	free(s->presession_hash);
	free(s->verifier_sealed);
	free(s->return_to);
	memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- sessions */
DB_STMT(stmt_session_create,
	"INSERT INTO sessions (token_hash, user_id, expires_at, ip, user_agent)"
	" VALUES ($1, $2, now() + make_interval(secs => $3::int), $4, left($5, 300)) RETURNING id");
#define SESSION_COLS "id, user_id, to_char(created_at, 'YYYY-MM-DD HH24:MI'), to_char(last_seen_at, 'YYYY-MM-DD HH24:MI'), " \
	"to_char(expires_at, 'YYYY-MM-DD HH24:MI'), ip, user_agent"
#define SESSION_LIVE "ended_at IS NULL AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2::int)"
/* The session and its user in one round trip: this runs on every signed-in request. */
DB_STMT(stmt_session_lookup,
	"SELECT s.*, " STORE_USER_COLS("u.") " FROM (SELECT " SESSION_COLS ", last_seen_at < now() - interval '1 minute'"
	" FROM sessions WHERE token_hash = $1 AND " SESSION_LIVE ") s JOIN users u ON u.id = s.user_id");
DB_STMT(stmt_session_touch, "UPDATE sessions SET last_seen_at = now() WHERE id = $1");
DB_STMT(stmt_sessions_list,
	"SELECT " SESSION_COLS " FROM sessions WHERE user_id = $1 AND " SESSION_LIVE " ORDER BY last_seen_at DESC");
DB_STMT(stmt_session_end, "UPDATE sessions SET ended_at = now() WHERE id = $2 AND user_id = $1 AND ended_at IS NULL");
DB_STMT(stmt_session_end_hash, "UPDATE sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL");
DB_STMT(stmt_sessions_end_all, "UPDATE sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL");
DB_STMT(stmt_sessions_end_others,
	"UPDATE sessions SET ended_at = now() WHERE user_id = $1 AND id <> $2 AND ended_at IS NULL");

int store_session_create(long long *id, struct db *db, const char *token_hash, long long user_id, long lifetime_s,
			 const char *ip, const char *ua, struct err *e)
{
	char uid[24], life[24];
	ll(uid, sizeof uid, user_id);
	ll(life, sizeof life, lifetime_s);
	const char *p[] = { token_hash, uid, life, ip, ua ? ua : "" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_session_create, 5, p, e);
	if (rc)
		return rc;
	*id = store_col_ll(r, 0, 0);
	PQclear(r);
	return 0;
}

static void session_from(struct session_row *s, PGresult *r, int row)
{
	s->id = store_col_ll(r, row, 0);
	s->user_id = store_col_ll(r, row, 1);
	s->created_at = store_col(r, row, 2);
	s->last_seen_at = store_col(r, row, 3);
	s->expires_at = store_col(r, row, 4);
	s->ip = store_col(r, row, 5);
	s->user_agent = store_col(r, row, 6);
}

int store_session_lookup(struct session_row *out, struct user *user, struct db *db, const char *token_hash, long idle_s,
			 struct err *e)
{
	memset(out, 0, sizeof *out);
	memset(user, 0, sizeof *user);
	char idle[24];
	ll(idle, sizeof idle, idle_s);
	const char *p[] = { token_hash, idle };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_session_lookup, 2, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "no live session");
	}
	session_from(out, r, 0);
	int stale = PQgetvalue(r, 0, 7)[0] == 't';
	store_user_from(user, r, 0, 8);
	PQclear(r);
	if (stale) {
		char id[24];
		ll(id, sizeof id, out->id);
		const char *tp[] = { id };
		exec_count(NULL, db, &stmt_session_touch, 1, tp, NULL);
	}
	return 0;
}

int store_sessions_list(struct session_row **rows, int *n, struct db *db, long long user_id, long idle_s, struct err *e)
{
	char uid[24], idle[24];
	ll(uid, sizeof uid, user_id);
	ll(idle, sizeof idle, idle_s);
	const char *p[] = { uid, idle };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_sessions_list, 2, p, e);
	if (rc)
		return rc;
	*n = PQntuples(r);
	*rows = calloc((size_t)*n + 1, sizeof **rows);
	for (int i = 0; i < *n; i++)
		session_from(&(*rows)[i], r, i);
	PQclear(r);
	return 0;
}

void store_session_free(struct session_row *s)
{
	free(s->created_at);
	free(s->last_seen_at);
	free(s->expires_at);
	free(s->ip);
	free(s->user_agent);
	memset(s, 0, sizeof *s);
}

void store_sessions_free(struct session_row *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_session_free(&rows[i]);
	free(rows);
}

int store_session_end(struct db *db, long long user_id, long long session_id, struct err *e)
{
	char uid[24], sid[24];
	ll(uid, sizeof uid, user_id);
	ll(sid, sizeof sid, session_id);
	const char *p[] = { uid, sid };
	int n = 0, rc = exec_count(&n, db, &stmt_session_end, 2, p, e);
	if (rc == 0 && n == 0)
		return err_set(e, ERR_NOTFOUND, "no such session");
	return rc;
}

int store_session_end_by_hash(struct db *db, const char *token_hash, struct err *e)
{
	const char *p[] = { token_hash };
	return exec_count(NULL, db, &stmt_session_end_hash, 1, p, e);
}

int store_sessions_end_all(struct db *db, long long user_id, struct err *e)
{
	char uid[24];
	ll(uid, sizeof uid, user_id);
	const char *p[] = { uid };
	return exec_count(NULL, db, &stmt_sessions_end_all, 1, p, e);
}

int store_sessions_end_others(struct db *db, long long user_id, long long keep_id, struct err *e)
{
	char uid[24], kid[24];
	ll(uid, sizeof uid, user_id);
	ll(kid, sizeof kid, keep_id);
	const char *p[] = { uid, kid };
	return exec_count(NULL, db, &stmt_sessions_end_others, 2, p, e);
}

/* ---------------------------------------------------------------- connections */
DB_STMT(stmt_conn_put,
	"INSERT INTO github_connections (user_id, kind, access_token_sealed, refresh_token_sealed, access_expires_at,"
	"  refresh_expires_at, scopes, status, status_reason, updated_at)"
	" VALUES ($1, $2, $3, $4,"
	"  CASE WHEN $5::int > 0 THEN now() + make_interval(secs => $5::int) END,"
	"  CASE WHEN $6::int > 0 THEN now() + make_interval(secs => $6::int) END, $7, 'ok', NULL, now())"
	" ON CONFLICT (user_id) DO UPDATE SET kind = EXCLUDED.kind, access_token_sealed = EXCLUDED.access_token_sealed,"
	"  refresh_token_sealed = EXCLUDED.refresh_token_sealed, access_expires_at = EXCLUDED.access_expires_at,"
	"  refresh_expires_at = EXCLUDED.refresh_expires_at, scopes = EXCLUDED.scopes, status = 'ok',"
	"  status_reason = NULL, updated_at = now()");
#define CONN_COLS "user_id, kind, access_token_sealed, refresh_token_sealed, status, status_reason, scopes," \
	" to_char(access_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI UTC'), to_char(refresh_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI UTC')," \
	" COALESCE(extract(epoch FROM access_expires_at - now())::bigint, -1)"
DB_STMT(stmt_conn_get, "SELECT " CONN_COLS " FROM github_connections WHERE user_id = $1");
DB_STMT(stmt_conn_get_lock, "SELECT " CONN_COLS " FROM github_connections WHERE user_id = $1 FOR UPDATE");
DB_STMT(stmt_conn_status,
	"UPDATE github_connections SET status = $2, status_reason = $3, updated_at = now() WHERE user_id = $1");
DB_STMT(stmt_conn_mark_reconnect,
	"UPDATE github_connections SET status = 'needs_reconnect', status_reason = $2, updated_at = now()"
	" WHERE user_id = $1 AND status <> 'needs_reconnect'");
DB_STMT(stmt_conn_clear,
	"UPDATE github_connections SET access_token_sealed = NULL, refresh_token_sealed = NULL, access_expires_at = NULL,"
	" refresh_expires_at = NULL, status = 'disconnected', status_reason = 'Disconnected by the user', updated_at = now()"
	" WHERE user_id = $1");

int store_connection_put(struct db *db, long long user_id, const char *kind, const char *access_sealed,
			 const char *refresh_sealed, long expires_in, long refresh_expires_in, const char *scopes,
			 struct err *e)
{
	char uid[24], ex[24], rex[24];
	ll(uid, sizeof uid, user_id);
	ll(ex, sizeof ex, expires_in);
	ll(rex, sizeof rex, refresh_expires_in);
	const char *p[] = { uid, kind, access_sealed, refresh_sealed, ex, rex, scopes ? scopes : "" };
	return exec_count(NULL, db, &stmt_conn_put, 7, p, e);
}

int store_connection_get(struct connection *out, struct db *db, long long user_id, int lock, struct err *e)
{
	memset(out, 0, sizeof *out);
	char uid[24];
	ll(uid, sizeof uid, user_id);
	const char *p[] = { uid };
	PGresult *r;
	int rc = db_query(&r, db, lock ? &stmt_conn_get_lock : &stmt_conn_get, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "not connected to GitHub");
	}
	out->user_id = store_col_ll(r, 0, 0);
	out->kind = store_col(r, 0, 1);
	out->access_sealed = store_col(r, 0, 2);
	out->refresh_sealed = store_col(r, 0, 3);
	out->status = store_col(r, 0, 4);
	out->status_reason = store_col(r, 0, 5);
	out->scopes = store_col(r, 0, 6);
	out->access_expires_at = store_col(r, 0, 7);
	out->refresh_expires_at = store_col(r, 0, 8);
	long long left = store_col_ll(r, 0, 9);
	out->access_expires_in = PQgetisnull(r, 0, 7) ? LONG_MAX : (long)left;
	PQclear(r);
	return 0;
}

int store_connection_set_status(struct db *db, long long user_id, const char *status, const char *reason,
				struct err *e)
{
	char uid[24];
	ll(uid, sizeof uid, user_id);
	const char *p[] = { uid, status, reason };
	return exec_count(NULL, db, &stmt_conn_status, 3, p, e);
}

int store_connection_mark_reconnect(int *changed, struct db *db, long long user_id, const char *reason, struct err *e)
{
	char uid[24];
	ll(uid, sizeof uid, user_id);
	const char *p[] = { uid, reason };
	int n = 0, rc = exec_count(&n, db, &stmt_conn_mark_reconnect, 2, p, e);
	*changed = rc == 0 && n > 0;
	return rc;
}

int store_connection_clear(struct db *db, long long user_id, struct err *e)
{
	char uid[24];
	ll(uid, sizeof uid, user_id);
	const char *p[] = { uid };
	return exec_count(NULL, db, &stmt_conn_clear, 1, p, e);
}

void store_connection_free(struct connection *c)
{
	free(c->kind);
	free(c->access_sealed);
	free(c->refresh_sealed);
	free(c->status);
	free(c->status_reason);
	free(c->scopes);
	free(c->access_expires_at);
	free(c->refresh_expires_at);
	memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- API keys */
DB_STMT(stmt_key_create,
	"INSERT INTO api_keys (public_id, user_id, name, secret_hash, scopes, expires_at)"
	" VALUES ($1, $2, $3, $4, $5::text[], CASE WHEN $6::int > 0 THEN now() + make_interval(days => $6::int) END)"
	" RETURNING id");
#define KEY_COLS "id, user_id, public_id, name, secret_hash, array_to_string(scopes, ' ')," \
	" to_char(created_at, 'YYYY-MM-DD HH24:MI'), to_char(expires_at, 'YYYY-MM-DD HH24:MI')," \
	" to_char(revoked_at, 'YYYY-MM-DD HH24:MI'), to_char(last_used_at, 'YYYY-MM-DD HH24:MI'), last_used_ip," \
	" use_count, expires_at IS NOT NULL AND expires_at <= now(), revoked_at IS NOT NULL, coalesce(rate_limit, 0)"
#define KEY_NCOLS 15
DB_STMT(stmt_key_lookup, "SELECT " KEY_COLS " FROM api_keys WHERE public_id = $1");
/* The key and its user in one round trip: this runs on every API request. */
DB_STMT(stmt_key_lookup_user,
	"SELECT k.*, " STORE_USER_COLS("u.") " FROM (SELECT " KEY_COLS " FROM api_keys WHERE public_id = $1) k"
	" JOIN users u ON u.id = k.user_id");
/* Usage, written at most once a minute per key and host (core/keyrate.c batches the count between). */
DB_STMT(stmt_key_record_use,
	"WITH k AS (UPDATE api_keys SET use_count = use_count + $2::bigint, last_used_at = now(),"
	"  last_used_ip = nullif($3, '') WHERE id = $1 RETURNING id)"
	" UPDATE api_key_ips SET last_seen_at = now() WHERE key_id = (SELECT id FROM k) AND ip = $3");
DB_STMT(stmt_key_ip_add,
	"INSERT INTO api_key_ips (key_id, ip) VALUES ($1, left($2, 64)) ON CONFLICT (key_id, ip) DO NOTHING RETURNING 1");
DB_STMT(stmt_key_ip_known,
	"SELECT 1 FROM api_key_ips WHERE key_id = $1 AND ip = left($2, 64)");
/* Bounded: the 32 most recently seen addresses stay. */
DB_STMT(stmt_key_ip_prune,
	"DELETE FROM api_key_ips WHERE key_id = $1 AND ip NOT IN"
	" (SELECT ip FROM api_key_ips WHERE key_id = $1 ORDER BY last_seen_at DESC, first_seen_at DESC LIMIT 32)");
DB_STMT(stmt_key_note_expired,
	"UPDATE api_keys SET expiry_noted_at = now() WHERE id = $1"
	" AND (expiry_noted_at IS NULL OR expiry_noted_at < now() - interval '1 day')");
DB_STMT(stmt_keys_list, "SELECT " KEY_COLS " FROM api_keys WHERE user_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC");
DB_STMT(stmt_key_revoke, "UPDATE api_keys SET revoked_at = now() WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL");
/* One row per key and minute; the same statement records last use at most once a minute per IP. */
DB_STMT(stmt_key_use,
	"UPDATE api_keys SET"
	"  rate_count = CASE WHEN rate_window = date_trunc('minute', now()) THEN rate_count + 1 ELSE 1 END,"
	"  rate_window = date_trunc('minute', now()),"
	"  use_count = use_count + 1,"
	"  last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < now() - interval '1 minute'"
	"                        OR last_used_ip IS DISTINCT FROM $2 THEN now() ELSE last_used_at END,"
	"  last_used_ip = $2"
	" WHERE id = $1"
	" RETURNING rate_count, extract(epoch FROM rate_window + interval '1 minute' - now())::int + 1");

int store_apikey_create(long long *id, struct db *db, const char *public_id, long long user_id, const char *name,
			const char *secret_hash, const char *scopes_array, int expires_days, struct err *e)
{
	char uid[24], days[24];
	ll(uid, sizeof uid, user_id);
	ll(days, sizeof days, expires_days);
	const char *p[] = { public_id, uid, name, secret_hash, scopes_array, days };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_key_create, 6, p, e);
	if (rc)
		return rc;
	*id = store_col_ll(r, 0, 0);
	PQclear(r);
	return 0;
}

static void key_from(struct apikey_row *k, PGresult *r, int row)
{
	k->id = store_col_ll(r, row, 0);
	k->user_id = store_col_ll(r, row, 1);
	k->public_id = store_col(r, row, 2);
	k->name = store_col(r, row, 3);
	k->secret_hash = store_col(r, row, 4);
	k->scopes = store_col(r, row, 5);
	k->created_at = store_col(r, row, 6);
	k->expires_at = store_col(r, row, 7);
	k->revoked_at = store_col(r, row, 8);
	k->last_used_at = store_col(r, row, 9);
	k->last_used_ip = store_col(r, row, 10);
	k->use_count = store_col_ll(r, row, 11);
	k->expired = PQgetvalue(r, row, 12)[0] == 't';
	k->revoked = PQgetvalue(r, row, 13)[0] == 't';
	k->rate_limit = store_col_ll(r, row, 14);
}

/* The one row of st for public_id: 0 and *r set, or ERR_NOTFOUND / the query's error with *r NULL. */
static int key_row(PGresult **r, struct db *db, struct db_stmt *st, const char *public_id, struct err *e)
{
	const char *p[] = { public_id };
	int rc = db_query(r, db, st, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(*r) != 1) {
		PQclear(*r);
		*r = NULL;
		return err_set(e, ERR_NOTFOUND, "no such API key");
	}
	return 0;
}

int store_apikey_lookup(struct apikey_row *out, struct db *db, const char *public_id, struct err *e)
{
	memset(out, 0, sizeof *out);
	PGresult *r;
	int rc = key_row(&r, db, &stmt_key_lookup, public_id, e);
	if (rc)
		return rc;
	key_from(out, r, 0);
	PQclear(r);
	return 0;
}

int store_apikey_lookup_user(struct apikey_row *out, struct user *user, struct db *db, const char *public_id,
			     struct err *e)
{
	memset(out, 0, sizeof *out);
	memset(user, 0, sizeof *user);
	PGresult *r;
	int rc = key_row(&r, db, &stmt_key_lookup_user, public_id, e);
	if (rc)
		return rc;
	key_from(out, r, 0);
	store_user_from(user, r, 0, KEY_NCOLS);
	PQclear(r);
	return 0;
}

int store_apikey_record_use(struct db *db, long long id, long long uses, const char *ip, struct err *e)
{
	char kid[24], n[24];
	ll(kid, sizeof kid, id);
	ll(n, sizeof n, uses);
	const char *p[] = { kid, n, ip ? ip : "" };
	return exec_count(NULL, db, &stmt_key_record_use, 3, p, e);
}

int store_apikey_ip_known(int *known, struct db *db, long long id, const char *ip, struct err *e)
{
	char kid[24];
	ll(kid, sizeof kid, id);
	const char *p[] = { kid, ip };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_key_ip_known, 2, p, e);
	if (rc)
		return rc;
	*known = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

int store_apikey_ip_add(int *added, struct db *db, long long id, const char *ip, struct err *e)
{
	char kid[24];
	ll(kid, sizeof kid, id);
	const char *p[] = { kid, ip };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_key_ip_add, 2, p, e);
	if (rc)
		return rc;
	*added = PQntuples(r) > 0;
	PQclear(r);
	if (*added) {
		const char *pp[] = { kid };
		rc = exec_count(NULL, db, &stmt_key_ip_prune, 1, pp, e);
	}
	return rc;
}

int store_apikey_note_expired(int *noted, struct db *db, long long id, struct err *e)
{
	char kid[24];
	ll(kid, sizeof kid, id);
	const char *p[] = { kid };
	int n = 0, rc = exec_count(&n, db, &stmt_key_note_expired, 1, p, e);
	*noted = rc == 0 && n > 0;
	return rc;
}

int store_apikeys_list(struct apikey_row **rows, int *n, struct db *db, long long user_id, struct err *e)
{
	char uid[24];
	ll(uid, sizeof uid, user_id);
	const char *p[] = { uid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_keys_list, 1, p, e);
	if (rc)
		return rc;
	*n = PQntuples(r);
	*rows = calloc((size_t)*n + 1, sizeof **rows);
	for (int i = 0; i < *n; i++)
		key_from(&(*rows)[i], r, i);
	PQclear(r);
	return 0;
}

void store_apikey_free(struct apikey_row *k)
{
	free(k->public_id);
	free(k->name);
	free(k->secret_hash);
	free(k->scopes);
	free(k->created_at);
	free(k->expires_at);
	free(k->revoked_at);
	free(k->last_used_at);
	free(k->last_used_ip);
	memset(k, 0, sizeof *k);
}

void store_apikeys_free(struct apikey_row *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_apikey_free(&rows[i]);
	free(rows);
}

int store_apikey_revoke(struct db *db, long long user_id, long long id, struct err *e)
{
	char uid[24], kid[24];
	ll(uid, sizeof uid, user_id);
	ll(kid, sizeof kid, id);
	const char *p[] = { uid, kid };
	int n = 0, rc = exec_count(&n, db, &stmt_key_revoke, 2, p, e);
	if (rc == 0 && n == 0)
		return err_set(e, ERR_NOTFOUND, "no such API key");
	return rc;
}

int store_apikey_count_use(int *count, int *reset_s, struct db *db, long long id, const char *ip, struct err *e)
{
	char kid[24];
	ll(kid, sizeof kid, id);
	const char *p[] = { kid, ip ? ip : "" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_key_use, 2, p, e);
	if (rc)
		return rc;
	*count = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	*reset_s = PQntuples(r) ? atoi(PQgetvalue(r, 0, 1)) : 60;
	PQclear(r);
	return 0;
}

/* ---------------------------------------------------------------- rotation */
DB_STMT(stmt_sealed_all,
	"SELECT 'server_secrets', 'sealed', name, 'server_secret:' || name, sealed FROM server_secrets"
	" UNION ALL SELECT 'oauth_states', 'verifier_sealed', id::text, 'oauth_verifier:' || state_hash, verifier_sealed"
	"   FROM oauth_states WHERE used_at IS NULL AND expires_at > now()"
	" UNION ALL SELECT 'github_connections', 'access_token_sealed', user_id::text, 'gh_access:user:' || user_id,"
	"   access_token_sealed FROM github_connections WHERE access_token_sealed IS NOT NULL"
	" UNION ALL SELECT 'github_connections', 'refresh_token_sealed', user_id::text, 'gh_refresh:user:' || user_id,"
	"   refresh_token_sealed FROM github_connections WHERE refresh_token_sealed IS NOT NULL"
	" UNION ALL SELECT 'webhooks', 'secret_sealed', project_id::text, 'webhook_secret:project:' || project_id,"
	"   secret_sealed FROM webhooks");
/* Compare-and-set: a row rewritten meanwhile by the service is left alone (it is sealed with a current key). */
DB_STMT(stmt_sealed_upd_secret, "UPDATE server_secrets SET sealed = $3 WHERE name = $1 AND sealed = $2");
DB_STMT(stmt_sealed_upd_state, "UPDATE oauth_states SET verifier_sealed = $3 WHERE id = $1::bigint AND verifier_sealed = $2");
DB_STMT(stmt_sealed_upd_access,
	"UPDATE github_connections SET access_token_sealed = $3 WHERE user_id = $1::bigint AND access_token_sealed = $2");
DB_STMT(stmt_sealed_upd_refresh,
	"UPDATE github_connections SET refresh_token_sealed = $3 WHERE user_id = $1::bigint AND refresh_token_sealed = $2");
DB_STMT(stmt_sealed_upd_webhook,
	"UPDATE webhooks SET secret_sealed = $3 WHERE project_id = $1::bigint AND secret_sealed = $2");

int store_sealed_all(struct sealed_row **rows, int *n, struct db *db, struct err *e)
{
	PGresult *r;
	int rc = db_query(&r, db, &stmt_sealed_all, 0, NULL, e);
	if (rc)
		return rc;
	*n = PQntuples(r);
	*rows = calloc((size_t)*n + 1, sizeof **rows);
	for (int i = 0; i < *n; i++) {
		(*rows)[i].table = store_col(r, i, 0);
		(*rows)[i].column = store_col(r, i, 1);
		(*rows)[i].key = store_col(r, i, 2);
		(*rows)[i].ad = store_col(r, i, 3);
		(*rows)[i].sealed = store_col(r, i, 4);
	}
	PQclear(r);
	return 0;
}

int store_sealed_update(struct db *db, const struct sealed_row *row, const char *old_sealed, const char *new_sealed,
			struct err *e)
{
	struct db_stmt *st = NULL;
	if (strcmp(row->table, "server_secrets") == 0)
		st = &stmt_sealed_upd_secret;
	else if (strcmp(row->table, "oauth_states") == 0)
		st = &stmt_sealed_upd_state;
	else if (strcmp(row->table, "webhooks") == 0)
		st = &stmt_sealed_upd_webhook;
	else if (strcmp(row->column, "access_token_sealed") == 0)
		st = &stmt_sealed_upd_access;
	else if (strcmp(row->column, "refresh_token_sealed") == 0)
		st = &stmt_sealed_upd_refresh;
	if (!st)
		return err_set(e, ERR_INVALID, "unknown sealed column %s.%s", row->table, row->column);
	const char *p[] = { row->key, old_sealed, new_sealed };
	return exec_count(NULL, db, st, 3, p, e);
}

void store_sealed_free(struct sealed_row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].table);
		free(rows[i].column);
		free(rows[i].key);
		free(rows[i].ad);
		free(rows[i].sealed);
	}
	free(rows);
}
