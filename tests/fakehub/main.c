/* main.c: the fakehub binary: `fakehub serve` (FastCGI pool) and admin verbs (migrate, seed, user, org, client, token, clock, repo). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <git2.h>
#include "core/log.h"
#include "http/server.h"
#include "store/migrate.h"
#include "tests/fakehub/fakehub.h"

#ifndef FAKEHUB_SQL_DIR
#define FAKEHUB_SQL_DIR "tests/fakehub/sql"
#endif

const char *fh_conninfo;
int fh_child_init(struct err *e);
void fh_child_exit(void);
void fh_handle(struct request *req, struct response *resp);
int fh_repo_create(long long *id, long long owner_id, const char *name, const char *desc, int private_,
		   int auto_init, const char *creator, struct err *e);

static const char usage[] =
	"usage: fakehub [--db CONNINFO] [--repos DIR] [--url URL] <command> [args]\n\n"
	"A local GitHub emulator for ghbridge's tests and demo: OAuth web flow, REST API\n"
	"under /api/v3, git smart HTTP, webhooks, and an admin API under /_fakehub/.\n\n"
	"commands:\n"
	"  serve [--listen ADDR] [--processes N]   run the FastCGI pool behind nginx\n"
	"  migrate [--sql DIR]                      create or update the fakehub schema\n"
	"  seed                                     users octocat, hubot; org acme; OAuth clients from\n"
	"                                           FAKEHUB_CLIENT_ID/_SECRET/_CALLBACK_URL and\n"
	"                                           FAKEHUB_APP_CLIENT_ID/_SECRET (GitHub App kind)\n"
	"  user add LOGIN [--name NAME] [--email EMAIL]\n"
	"  org add ORG\n"
	"  org member ORG USER [--role member|admin]\n"
	"  client add --id ID --secret SECRET --callback URL [--kind oauth|app] [--name NAME]\n"
	"  token issue USER [--scope SCOPES] [--app CLIENT_ID]  print a new token (gho_, or ghu_ with --app)\n"
	"  token list USER                          tokens issued to USER (test emulator only)\n"
	"  clock set SECONDS | clock show           test clock offset in seconds\n"
	"  repo create OWNER NAME [--private] [--auto-init]\n\n"
	"global options (or FAKEHUB_DATABASE_URL, FAKEHUB_REPOS_DIR, FAKEHUB_WEB_URL):\n"
	"  --db CONNINFO   libpq connection string (default: dbname=fakehub, PG* variables apply)\n"
	"  --repos DIR     where bare repositories live (default: ./fakehub-repos)\n"
	"  --url URL       public base URL, e.g. http://127.0.0.1:8081\n";

static int die_usage(const char *what)
{
	fprintf(stderr, "fakehub: %s\n\n%s", what, usage);
	return 2;
}

static int open_db(void)
{
	struct err e = { 0 };
	if (db_open(&g_fh.db, fh_conninfo, 10000, &e) || db_ensure(g_fh.db, &e)) {
		fprintf(stderr, "fakehub: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* Options after the verb: --name value pairs and flags, positionals kept in order. */
struct opts {
	const char *pos[4];
	int npos;
	const char *kv[16][2];
	int nkv;
};

static int parse_opts(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			if (o->nkv == 16)
				return -1;
			const char *name = argv[i] + 2;
			int flag = strcmp(name, "private") == 0 || strcmp(name, "auto-init") == 0 || strcmp(name, "help") == 0;
			o->kv[o->nkv][0] = name;
			o->kv[o->nkv][1] = flag ? "1" : (i + 1 < argc ? argv[++i] : NULL);
			if (!o->kv[o->nkv][1])
				return -1;
			o->nkv++;
		} else if (o->npos < 4) {
			o->pos[o->npos++] = argv[i];
		} else {
			return -1;
		}
	}
	return 0;
}

static const char *opt(const struct opts *o, const char *name)
{
	for (int i = 0; i < o->nkv; i++)
		if (strcmp(o->kv[i][0], name) == 0)
			return o->kv[i][1];
	return NULL;
}

static int cmd_serve(const struct opts *o)
{
	const char *listen = opt(o, "listen");
	if (!listen)
		listen = getenv("FAKEHUB_LISTEN");
	if (!listen)
		return die_usage("serve needs --listen");
	const char *np = opt(o, "processes");
	struct server_opts so = {
		.listen = listen,
		.processes = np ? atoi(np) : 4,
		.socket_mode = 0666, /* nginx may run as another user */
		.drain_seconds = 5,
	};
	struct server_hooks hooks = {
		.child_init = fh_child_init,
		.handle = fh_handle,
		.child_exit = fh_child_exit,
	};
	struct err e = { 0 };
	log_set_component("fakehub");
	if (server_run(&so, &hooks, &e) != 0) {
		fprintf(stderr, "fakehub serve: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static int cmd_migrate(const struct opts *o)
{
	const char *dir = opt(o, "sql");
	if (!dir)
		dir = getenv("FAKEHUB_SQL_DIR");
	if (!dir)
		dir = FAKEHUB_SQL_DIR;
	if (open_db())
		return 1;
	struct migrate_status st;
	struct err e = { 0 };
	if (migrate_run(&st, g_fh.db, dir, NULL, &e) != 0) {
		fprintf(stderr, "fakehub migrate: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static int report(int rc, const struct err *e, const char *what)
{
	if (rc) {
		fprintf(stderr, "fakehub %s: %s\n", what, e->msg);
		return 1;
	}
	return 0;
}

static int cmd_seed(void)
{
	struct err e = { 0 };
	int rc = fh_account_create(NULL, "octocat", "User", "The Octocat", "octocat@github.com", &e);
	rc = rc ? rc : fh_account_create(NULL, "hubot", "User", "Hubot", "hubot@github.com", &e);
	rc = rc ? rc : fh_account_create(NULL, "acme", "Organization", "Acme", NULL, &e);
	rc = rc ? rc : fh_member_add("acme", "octocat", "admin", &e);
	const char *id = getenv("FAKEHUB_CLIENT_ID"), *secret = getenv("FAKEHUB_CLIENT_SECRET"),
		   *cb = getenv("FAKEHUB_CALLBACK_URL");
	if (!rc && id && *id)
		rc = fh_client_put(id, secret, "oauth", cb, "ghbridge", &e);
	const char *aid = getenv("FAKEHUB_APP_CLIENT_ID"), *asecret = getenv("FAKEHUB_APP_CLIENT_SECRET");
	if (!rc && aid && *aid)
		rc = fh_client_put(aid, asecret, "app", cb, "ghbridge (GitHub App)", &e);
	return report(rc, &e, "seed");
}

static int cmd_token(const struct opts *o)
{
	if (o->npos < 2)
		return die_usage("token issue|list USER");
	PGresult *u;
	if (fh_account_by_login(&u, o->pos[1]) != 0) {
		fprintf(stderr, "fakehub token: no user %s\n", o->pos[1]);
		return 1;
	}
	long long uid = fh_vall(u, 0, "id");
	PQclear(u);
	if (strcmp(o->pos[0], "list") == 0) {
		FH_STMT(st, "SELECT kind, token_plain, client_id, scope, created_at, expires_at, revoked_at FROM tokens "
			    "WHERE user_id = $1 ORDER BY id");
		PGresult *r = Q(st, fh_ll(uid));
		if (!r)
			return 1;
		for (int i = 0; i < PQntuples(r); i++)
			printf("%s\t%s\t%s\t%s\t%s\n", fh_val(r, i, "kind"), fh_val(r, i, "token_plain"),
			       fh_val(r, i, "client_id") ? fh_val(r, i, "client_id") : "-", fh_val(r, i, "scope"),
			       fh_val(r, i, "revoked_at") ? "revoked" : "active");
		PQclear(r);
		return 0;
	}
	if (strcmp(o->pos[0], "issue") != 0)
		return die_usage("token issue|list USER");
	char tok[64];
	struct err e = { 0 };
	const char *app = opt(o, "app");
	const char *scope = opt(o, "scope");
	int rc = fh_token_issue(tok, sizeof tok, uid, app, "access", app ? "ghu" : "gho", app ? "" : (scope ? scope : "repo,read:org,user:email"),
				app ? fh_clock_now() + 28800 : 0, NULL, &e);
	if (rc)
		return report(rc, &e, "token");
	printf("%s\n", tok);
	return 0;
}

static int cmd_clock(const struct opts *o)
{
	FH_STMT(set, "UPDATE clock SET offset_seconds = $1 WHERE id = 1");
	if (o->npos >= 2 && strcmp(o->pos[0], "set") == 0) {
		PGresult *r = Q(set, o->pos[1]);
		if (!r)
			return 1;
		PQclear(r);
	}
	printf("%lld\n", fh_clock_now());
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "repos", required_argument, NULL, 'r' },
		{ "url", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	fh_conninfo = getenv("FAKEHUB_DATABASE_URL");
	if (!fh_conninfo)
		fh_conninfo = "dbname=fakehub";
	g_fh.repos_dir = getenv("FAKEHUB_REPOS_DIR");
	if (!g_fh.repos_dir)
		g_fh.repos_dir = "fakehub-repos";
	g_fh.web_url = getenv("FAKEHUB_WEB_URL");
	if (!g_fh.web_url)
		g_fh.web_url = "http://127.0.0.1:8081";
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': fh_conninfo = optarg; break;
		case 'r': g_fh.repos_dir = optarg; break;
		case 'u': g_fh.web_url = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return die_usage("unknown option");
		}
	}
	if (optind >= argc)
		return die_usage("missing command");
	static char api[1024];
	snprintf(api, sizeof api, "%s/api/v3", g_fh.web_url);
	g_fh.api_url = api;
	if (sodium_init() < 0)
		return 1;
	git_libgit2_init();
	const char *cmd = argv[optind];
	struct opts o;
	if (parse_opts(&o, argc - optind - 1, argv + optind + 1))
		return die_usage("bad arguments");
	if (opt(&o, "help") || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(&o);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(&o);
	if (open_db())
		return 1;
	struct err e = { 0 };
	if (strcmp(cmd, "seed") == 0)
		return cmd_seed();
	if (strcmp(cmd, "user") == 0 && o.npos == 2 && strcmp(o.pos[0], "add") == 0)
		return report(fh_account_create(NULL, o.pos[1], "User", opt(&o, "name"), opt(&o, "email"), &e), &e, "user add");
	if (strcmp(cmd, "org") == 0 && o.npos == 2 && strcmp(o.pos[0], "add") == 0)
		return report(fh_account_create(NULL, o.pos[1], "Organization", opt(&o, "name"), NULL, &e), &e, "org add");
	if (strcmp(cmd, "org") == 0 && o.npos == 3 && strcmp(o.pos[0], "member") == 0)
		return report(fh_member_add(o.pos[1], o.pos[2], opt(&o, "role"), &e), &e, "org member");
	if (strcmp(cmd, "client") == 0 && o.npos == 1 && strcmp(o.pos[0], "add") == 0)
		return report(fh_client_put(opt(&o, "id"), opt(&o, "secret"), opt(&o, "kind"), opt(&o, "callback"),
					    opt(&o, "name"), &e),
			      &e, "client add");
	if (strcmp(cmd, "token") == 0)
		return cmd_token(&o);
	if (strcmp(cmd, "clock") == 0)
		return cmd_clock(&o);
	if (strcmp(cmd, "repo") == 0 && o.npos == 3 && strcmp(o.pos[0], "create") == 0) {
		PGresult *u;
		if (fh_account_by_login(&u, o.pos[1]) != 0) {
			fprintf(stderr, "fakehub repo create: no account %s\n", o.pos[1]);
			return 1;
		}
		long long oid = fh_vall(u, 0, "id");
		PQclear(u);
		return report(fh_repo_create(NULL, oid, o.pos[2], NULL, opt(&o, "private") != NULL,
					     opt(&o, "auto-init") != NULL, o.pos[1], &e),
			      &e, "repo create");
	}
	return die_usage("unknown command or wrong arguments");
}
