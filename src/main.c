/* main.c: the ghbridge binary: global options, then one subcommand, like git. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "config.h"
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "core/log.h"

struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct command commands[] = {
	{ "fcgi", cmd_fcgi, "run the FastCGI responder pool (behind nginx)" },
	{ "migrate", cmd_migrate, "apply database migrations" },
	{ "worker", cmd_worker, "run jobs from the queue (sync, pull requests, ...)" },
	{ "jobs", cmd_jobs, "list, show, retry, cancel, enqueue or purge jobs; stats" },
	{ "sync", cmd_sync, "pause or resume syncing (all or one project); status; the retention pass" },
	{ "purge", cmd_purge, "run the retention pass now; --dry-run prints what it would delete" },
	{ "keygen", cmd_keygen, "create a master key for sealing tokens" },
	{ "rotate-key", cmd_rotate_key, "re-seal every stored secret with a new master key" },
	{ "apikey", cmd_apikey, "create, list or revoke API keys" },
	{ "doctor", cmd_doctor, "print the effective configuration and check the installation" },
	{ "version", cmd_version, "print the version" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ghbridge [--config FILE] <command> [options]\n\n"
		   "ghbridge connects project folders to GitHub: sign-in, encrypted tokens,\n"
		   "repositories, two-way sync, pull requests.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nglobal options:\n"
		   "  -c, --config FILE  key = value settings file (also $GHBRIDGE_CONFIG);\n"
		   "                     GHBRIDGE_* environment variables override it\n"
		   "  -h, --help         this help; 'ghbridge <command> --help' for a command\n");
}

int cmd_usage_error(const char *cmd, const char *use, const char *what)
{
	fprintf(stderr, "ghbridge %s: %s\n%s", cmd, what, use);
	return 2;
}

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: ghbridge version\n\nPrints the version of ghbridge and of the libraries it runs on.\n");
		return 0;
	}
	if (argc > 1)
		return cmd_usage_error("version", "usage: ghbridge version\n", "takes no arguments");
	printf("ghbridge %s\n", PACKAGE_VERSION);
	printf("libsodium %s\n", sodium_version_string());
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	int c;
	/* '+' stops at the first non-option: the subcommand parses the rest. */
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': return cmd_version(1, argv);
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	int idx = optind;
	const char *name = argv[idx];
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (strcmp(name, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (!cmd) {
		fprintf(stderr, "ghbridge: '%s' is not a command\n\n", name);
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "ghbridge: libsodium failed to initialise\n");
		return 1;
	}
	struct err e = { 0 };
	if (config_load(config_path, &e) != 0) {
		fprintf(stderr, "ghbridge: %s\n", e.msg);
		return 1;
	}
	int level = log_level_parse(cfg_str(CFG_LOG_LEVEL));
	if (level >= 0)
		log_set_level(level);
	log_set_component(name);
	optind = 0; /* let the subcommand's getopt start afresh */
	int rc = cmd->fn(argc - idx, argv + idx);
	config_free();
	return rc;
}
