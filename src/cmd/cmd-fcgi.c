/* cmd-fcgi.c: `ghbridge fcgi`, the FastCGI responder pool. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "core/log.h"
#include "http/server.h"
#include "web/app.h"

static const char usage[] =
	"usage: ghbridge fcgi [--listen ADDR] [--processes N]\n\n"
	"Runs a pool of FastCGI responders for nginx. The parent restarts a responder\n"
	"that dies; SIGTERM finishes requests in flight and exits; SIGHUP reloads templates.\n\n"
	"  -l, --listen ADDR    unix:/path/to.sock or host:port (setting: listen)\n"
	"  -p, --processes N    responder processes (setting: processes)\n"
	"  -h, --help           this help\n";

int cmd_fcgi(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "processes", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "l:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': config_set(CFG_LISTEN, optarg, "option"); break;
		case 'p': config_set(CFG_PROCESSES, optarg, "option"); break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cmd_usage_error("fcgi", usage, "unknown or incomplete option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("fcgi", usage, "unexpected argument");
	long n = cfg_long(CFG_PROCESSES);
	if (n < 1 || n > 512)
		return cmd_usage_error("fcgi", usage, "processes must be between 1 and 512");
	struct server_opts so = {
		.listen = cfg_str(CFG_LISTEN),
		.processes = (int)n,
		.socket_mode = (int)strtol(cfg_str(CFG_SOCKET_MODE), NULL, 8),
		.drain_seconds = 10,
	};
	struct server_hooks hooks = {
		.child_init = web_child_init,
		.child_reload = web_child_reload,
		.handle = web_handle,
		.child_exit = web_child_exit,
	};
	/* Fail fast on broken templates: better at start than in every child. */
	struct tmpl_set *probe;
	struct err e = { 0 };
	if (tmpl_set_load(&probe, cfg_str(CFG_TEMPLATES_DIR), &e) != 0) {
		fprintf(stderr, "ghbridge fcgi: %s\n", e.msg);
		return 1;
	}
	tmpl_set_free(probe);
	if (server_run(&so, &hooks, &e) != 0) {
		fprintf(stderr, "ghbridge fcgi: %s\n", e.msg);
		return 1;
	}
	return 0;
}
