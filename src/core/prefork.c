/* prefork.c: the process supervisor shared by `ghbridge fcgi` and `ghbridge worker`. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "core/log.h"
#include "core/prefork.h"

static volatile sig_atomic_t stop_flag, hup_flag;

static void on_stop(int sig) { (void)sig; stop_flag = 1; }
static void on_hup(int sig) { (void)sig; hup_flag = 1; }

static void set_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: waitpid() must return so the loop sees the flag */
	sigaction(sig, &sa, NULL);
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t spawn(const struct prefork *pf)
{
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, pf->forward_hup ? SIG_DFL : SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		_exit(pf->child(pf->arg));
	}
	if (pid < 0)
		log_msg(LOG_ERROR, "fork: %s", strerror(errno));
	return pid;
}

int prefork_run(const struct prefork *pf, struct err *e)
{
	int n = pf->processes > 0 ? pf->processes : 1, rc = 0;
	pid_t *kids = calloc((size_t)n, sizeof *kids);
	double *started = calloc((size_t)n, sizeof *started);
	if (!kids || !started)
		abort();
	stop_flag = hup_flag = 0;
	set_signal(SIGTERM, on_stop);
	set_signal(SIGINT, on_stop);
	if (pf->forward_hup)
		set_signal(SIGHUP, on_hup);
	else
		signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++) {
		kids[i] = spawn(pf);
		started[i] = mono_now();
	}
	while (!stop_flag) {
		if (hup_flag) {
			hup_flag = 0;
			log_msg(LOG_INFO, "SIGHUP: passing it to %d %ss", n, pf->what);
			for (int i = 0; i < n; i++)
				if (kids[i] > 0)
					kill(kids[i], SIGHUP);
		}
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == ECHILD)
				sleep(1);
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (kids[i] != pid)
				continue;
			kids[i] = 0;
			if (stop_flag)
				break;
			if (WIFSIGNALED(status))
				log_msg(LOG_WARN, "%s %d killed by signal %d; starting another", pf->what, (int)pid,
					WTERMSIG(status));
			else
				log_msg(LOG_WARN, "%s %d exited with %d; starting another", pf->what, (int)pid,
					WEXITSTATUS(status));
			if (mono_now() - started[i] < 1.0)
				sleep(1);
			kids[i] = spawn(pf);
			started[i] = mono_now();
		}
	}

	log_msg(LOG_INFO, "stopping %d %ss", n, pf->what);
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	double deadline = mono_now() + (pf->kill_after > 0 ? pf->kill_after : 10);
	for (;;) {
		int alive = 0;
		for (int i = 0; i < n; i++) {
			if (kids[i] <= 0)
				continue;
			int status;
			pid_t r = waitpid(kids[i], &status, WNOHANG);
			if (r == kids[i] || (r < 0 && errno == ECHILD)) {
				if (r == kids[i] && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
					rc = err_set(e, ERR_FAIL, "a %s ended abnormally while stopping", pf->what);
				kids[i] = 0;
			} else {
				alive++;
			}
		}
		if (alive == 0)
			break;
		if (mono_now() > deadline) {
			log_msg(LOG_WARN, "%d %s(s) did not stop in time: killing them", alive, pf->what);
			for (int i = 0; i < n; i++)
				if (kids[i] > 0)
					kill(kids[i], SIGKILL);
			deadline = mono_now() + 5;
		}
		usleep(20000);
	}
	free(kids);
	free(started);
	return rc;
}
