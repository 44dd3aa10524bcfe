/* cmd-keys.c: `ghbridge keygen`, `ghbridge rotate-key` and `ghbridge apikey`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "core/crypto.h"
#include "http/parse.h"
#include "service/auth.h"

static const char keygen_usage[] =
	"usage: ghbridge keygen [--out FILE]\n\n"
	"Creates a new 256-bit master key for sealing GitHub tokens at rest, in FILE\n"
	"(mode 0600, refuses to overwrite) or on stdout. Point key_file at it.\n";

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *out = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': fputs(keygen_usage, stdout); return 0;
		default: return cmd_usage_error("keygen", keygen_usage, "unknown or incomplete option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("keygen", keygen_usage, "unexpected argument");
	unsigned char k[CRYPTO_KEY_BYTES];
	char hex[2 * CRYPTO_KEY_BYTES + 1];
	randombytes_buf(k, sizeof k);
	sodium_bin2hex(hex, sizeof hex, k, sizeof k);
	sodium_memzero(k, sizeof k);
	if (!out) {
		printf("%s\n", hex);
		sodium_memzero(hex, sizeof hex);
		return 0;
	}
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		fprintf(stderr, "ghbridge keygen: %s: %s\n", out, strerror(errno));
		return 1;
	}
	dprintf(fd, "%s\n", hex);
	sodium_memzero(hex, sizeof hex);
	if (fsync(fd) != 0 || close(fd) != 0) {
		fprintf(stderr, "ghbridge keygen: %s: %s\n", out, strerror(errno));
		return 1;
	}
	fprintf(stderr, "wrote a new master key to %s (mode 0600)\n", out);
	return 0;
}

static const char rotate_usage[] =
	"usage: ghbridge rotate-key --new-key FILE\n\n"
	"Makes the key in FILE the master key: writes it first into key_file (the old\n"
	"keys stay there, still readable, so running services keep working; they pick up\n"
	"the new key by themselves), then re-seals every stored secret with it. Run it\n"
	"again to finish after an interruption. Create FILE with 'ghbridge keygen'.\n";

static int open_db(struct db **db, struct err *e)
{
	db_open(db, cfg_str(CFG_DATABASE_URL), (int)cfg_long(CFG_DB_TIMEOUT_MS), e);
	if (db_ensure(*db, e) != 0)
		return ERR_DB;
	return auth_init(*db, e);
}

int cmd_rotate_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "new-key", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *nk = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': nk = optarg; break;
		case 'h': fputs(rotate_usage, stdout); return 0;
		default: return cmd_usage_error("rotate-key", rotate_usage, "unknown or incomplete option");
		}
	}
	if (!nk || optind < argc)
		return cmd_usage_error("rotate-key", rotate_usage, "--new-key FILE is required");
	struct db *db;
	struct err e = { 0 };
	int rc = open_db(&db, &e);
	int resealed = 0, failed = 0;
	if (rc == 0)
		rc = auth_rotate_key(&resealed, &failed, db, nk, &e);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge rotate-key: %s\n", e.msg);
		return 1;
	}
	printf("re-sealed %d secrets with key %s\n", resealed, crypto_key_id());
	if (failed)
		fprintf(stderr, "ghbridge rotate-key: %d secrets could not be opened and were left as they are; "
				"they already read as missing (their users are asked to reconnect)\n", failed);
	return 0;
}

static const char apikey_usage[] =
	"usage: ghbridge apikey create --user LOGIN --name NAME --scopes LIST [--expires-days N]\n"
	"       ghbridge apikey list --user LOGIN\n"
	"       ghbridge apikey revoke --user LOGIN ID\n\n"
	"create prints only the key on stdout (shown once). Scopes: projects:read,\n"
	"projects:write, sync, pulls, admin (comma-separated). --expires-days: 0 (the\n"
	"default) never, else 1 to 3650 days.\n"
	"list prints one key a line, tab-separated: ID, the key's public prefix, name,\n"
	"scopes, state (active, expired or revoked). revoke takes that ID.\n"
	"The user (LOGIN) must have signed in once.\n";

int cmd_apikey(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' }, { "name", required_argument, NULL, 'n' },
		{ "scopes", required_argument, NULL, 's' }, { "expires-days", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	if (argc < 2)
		return cmd_usage_error("apikey", apikey_usage, "missing action");
	const char *action = argv[1];
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
		fputs(apikey_usage, stdout);
		return 0;
	}
	if (strcmp(action, "create") && strcmp(action, "list") && strcmp(action, "revoke"))
		return cmd_usage_error("apikey", apikey_usage, "unknown action");
	const char *login = NULL, *name = NULL, *scopes = NULL;
	long long days = 0;
	int c;
	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "u:n:s:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': login = optarg; break;
		case 'n': name = optarg; break;
		case 's': scopes = optarg; break;
		case 'd':
			if (http_num_parse(&days, optarg, 0, 3650))
				return cmd_usage_error("apikey", apikey_usage, "--expires-days is a whole number from 0 (never) to 3650");
			break;
		case 'h': fputs(apikey_usage, stdout); return 0;
		default: return cmd_usage_error("apikey", apikey_usage, "unknown or incomplete option");
		}
	}
	if (!login)
		return cmd_usage_error("apikey", apikey_usage, "--user LOGIN is required");
	struct db *db;
	struct err e = { 0 };
	struct user u = { 0 };
	int rc = open_db(&db, &e);
	if (rc == 0)
		rc = store_user_by_login(&u, db, login, &e);
	if (rc == ERR_NOTFOUND)
		snprintf(e.msg, sizeof e.msg, "no user '%s' (they must sign in once first)", login);
	if (rc == 0 && strcmp(action, "create") == 0) {
		char *key = NULL;
		rc = auth_apikey_create(&key, db, u.id, name, scopes, (int)days, &e);
		if (rc == 0)
			printf("%s\n", key);
		free(key);
	} else if (rc == 0 && strcmp(action, "list") == 0) {
		struct apikey_row *rows;
		int n;
		rc = auth_apikeys(&rows, &n, db, u.id, &e);
		for (int i = 0; rc == 0 && i < n; i++)
			printf("%lld\tghb_%s_…\t%s\t%s\t%s\n", rows[i].id, rows[i].public_id, rows[i].name, rows[i].scopes,
			       rows[i].revoked ? "revoked" : rows[i].expired ? "expired" : "active");
		if (rc == 0)
			store_apikeys_free(rows, n);
	} else if (rc == 0) {
		if (optind >= argc) {
			rc = ERR_INVALID;
			snprintf(e.msg, sizeof e.msg, "revoke needs the key's ID (see 'ghbridge apikey list')");
		} else {
			long long kid = 0;
			/* "12abc" is not key 12; an id that is no number names no key */
			rc = http_num_parse(&kid, argv[optind], 1, LLONG_MAX)
				     ? err_set(&e, ERR_NOTFOUND, "no API key with ID '%s' (see 'ghbridge apikey list')", argv[optind])
				     : auth_apikey_revoke(db, u.id, kid, &e);
			if (rc == 0)
				printf("revoked\n");
		}
	}
	store_user_free(&u);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge apikey: %s\n", e.msg);
		return 1;
	}
	return 0;
}
