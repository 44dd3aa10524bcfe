/* jobs/worker.c: claim loops woken by LISTEN/NOTIFY, a lease-renewing thread per loop, drain on SIGTERM, a supervisor. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/metrics.h"
#include "service/ops.h"
#include "service/drift.h"
#include "core/log.h"
#include "core/prefork.h"
#include "jobs/worker.h"
#include "store/jobs.h"

static volatile sig_atomic_t stop_flag;
static int wake_pipe[2] = { -1, -1 };

/* The pipe turns a signal into a readable fd, so a loop asleep in poll()
 * wakes at once instead of at its next timeout. */
static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
	if (wake_pipe[1] >= 0) {
		int saved = errno;
		ssize_t w = write(wake_pipe[1], "x", 1);
		(void)w;
		errno = saved;
	}
}

static void set_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void open_wake_pipe(void)
{
	if (wake_pipe[0] >= 0) {
		close(wake_pipe[0]);
		close(wake_pipe[1]);
	}
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		wake_pipe[0] = wake_pipe[1] = -1;
}

/* The job in hand, shared by the claim loop and its lease thread. While
 * active, only the lease thread uses the claim connection. */
struct lease {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db *db;
	const struct worker_opts *o;
	int active, quit, lost;
	long long id, project_id;
	int claims;
	double next_renew, expires, drain_deadline;
	volatile int stop_job;      /* what job_should_stop() reads */
	char kind[64];              /* the job in hand's kind, for the heartbeat */
	/* The heartbeat (worker_heartbeats, sql/022): at most one row write per BEAT_SECONDS, by whoever holds
	 * the claim connection: the lease thread during a job (naming it), the claim loop between jobs. */
	double next_beat;
	const char *host;
	long long started;
};

#define BEAT_SECONDS 10.0

/* Called with l->mu held (or by the claim loop while no job is active); db is the claim connection. */
static void beat(struct lease *l, struct db *db, double now)
{
	if (now < l->next_beat)
		return;
	l->next_beat = now + BEAT_SECONDS;
	struct err e = { 0 };
	if (store_worker_beat(db, l->host, (int)getpid(), l->started, l->active ? l->id : 0, l->active ? l->kind : NULL, &e))
		log_msg(LOG_WARN, "worker heartbeat: %s", e.msg);
}

static void *lease_main(void *arg)
{
	struct lease *l = arg;
	const struct worker_opts *o = l->o;
	pthread_mutex_lock(&l->mu);
	while (!l->quit) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
		if (!l->active || l->quit)
			continue;
		double now = mono_now();
		if (stop_flag) {
			l->stop_job = 1;
			if (l->drain_deadline == 0)
				l->drain_deadline = now + o->drain_seconds;
		}
		struct err e = { 0 };
		int owned = 0;
		beat(l, l->db, now);
		if (now >= l->next_renew) {
			int rc = store_job_renew(&owned, l->db, l->id, l->claims, l->project_id, o->lease_seconds, &e);
			if (rc == 0 && owned) {
				l->expires = now + o->lease_seconds;
				l->next_renew = now + o->lease_seconds / 3.0;
			} else if (rc == 0) {
				log_msg(LOG_WARN, "job %lld: lease lost (cancelled, or taken over after a stall); stopping it",
					l->id);
				l->lost = 1;
				l->stop_job = 1;
				l->next_renew = now + 1e9;
			} else {
				log_msg(LOG_WARN, "job %lld: renewing the lease failed: %s", l->id, e.msg);
				l->next_renew = now + 1;
				if (now >= l->expires) {
					l->lost = 1;
					l->stop_job = 1;
				}
			}
		}
		if (l->drain_deadline > 0 && now >= l->drain_deadline) {
			/* The handler did not finish in time: hand the job back without
			 * spending its attempt, and go. Handlers are idempotent, so the
			 * next worker may safely redo whatever this one had started. */
			int rc = store_job_defer(&owned, l->db, l->id, l->claims, l->project_id, 0, 1,
						 "released: the worker shut down before the job finished", &e);
			log_msg(rc ? LOG_ERROR : LOG_WARN, "job %lld: drain deadline passed; %s", l->id,
				rc ? e.msg : "released it to the queue");
			_exit(0);
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static void lease_set(struct lease *l, const struct job_row *row)
{
	pthread_mutex_lock(&l->mu);
	double now = mono_now();
	l->active = 1;
	l->lost = 0;
	l->id = row->id;
	l->claims = row->claims;
	l->project_id = row->project_id;
	snprintf(l->kind, sizeof l->kind, "%s", row->kind ? row->kind : "");
	l->stop_job = stop_flag ? 1 : 0;
	l->next_renew = now + l->o->lease_seconds / 3.0;
	l->expires = now + l->o->lease_seconds;
	pthread_mutex_unlock(&l->mu);
}

/* Returns whether the lease was lost while the handler ran. */
static int lease_clear(struct lease *l)
{
	pthread_mutex_lock(&l->mu);
	l->active = 0;
	int lost = l->lost;
	pthread_mutex_unlock(&l->mu);
	return lost;
}

static const char *outcome_name(int o)
{
	switch (o) {
	case JOB_DONE: return "done";
	case JOB_RETRY: return "retry";
	case JOB_WAIT: return "wait";
	case JOB_PERMANENT: return "permanent";
	default: return "?";
	}
}

/* A finished job whose completion rides on the next claim's statement. */
struct pending {
	int has;
	long long id, project_id;
	int claims;
	char kind[64];
};

static void pending_log(const struct pending *pd, int owned)
{
	if (owned)
		return;
	char sid[24];
	snprintf(sid, sizeof sid, "%lld", pd->id);
	log_kv(LOG_WARN, "job was cancelled or taken over: outcome discarded", "job", sid, "kind", pd->kind, "outcome",
	       "done", NULL);
}

/* Completes a pending job on its own (shutting down, or the combined statement failed). */
static void pending_flush(struct pending *pd, struct db *cdb)
{
	if (!pd->has)
		return;
	struct err e = { 0 };
	int owned = 0;
	if (store_job_complete(&owned, cdb, pd->id, pd->claims, pd->project_id, &e) != 0) {
		char sid[24];
		snprintf(sid, sizeof sid, "%lld", pd->id);
		log_kv(LOG_ERROR, "recording the job's outcome failed; it will run again after its lease", "job", sid,
		       "error", e.msg, NULL);
	} else {
		pending_log(pd, owned);
	}
	pd->has = 0;
}

static void run_job(struct lease *l, struct db *hdb, const char *worker, const struct job_row *row, struct pending *pd)
{
	const struct worker_opts *o = l->o;
	struct json_object *payload = json_tokener_parse(row->payload ? row->payload : "{}");
	if (!payload || !json_object_is_type(payload, json_type_object)) {
		json_object_put(payload);
		payload = json_object_new_object();
	}
	struct job job = {
		.id = row->id,
		.queue = row->queue,
		.kind = row->kind,
		.dedup_key = row->dedup_key,
		.project_id = row->project_id,
		.payload_text = row->payload,
		.payload = payload,
		.attempt = row->attempts,
		.max_attempts = row->max_attempts,
		.claims = row->claims,
		.redo = row->claims > 1,
	};
	struct job_ctx ctx = { .db = hdb, .clock = o->clock, .worker = worker, .stop = &l->stop_job };
	lease_set(l, row);
	double t0 = mono_now();
	const struct job_kind *k = jobs_kind_find(row->kind);
	int outcome;
	if (k) {
		outcome = k->run(&ctx, &job);
	} else {
		/* Retry rather than bury: during a rolling upgrade an older worker
		 * may meet a kind that a newer one knows. Attempts still run out. */
		outcome = job_retry(&ctx, "no handler for job kind '%s' in this worker", row->kind);
	}
	if (outcome < JOB_DONE || outcome > JOB_PERMANENT)
		outcome = job_retry(&ctx, "handler returned %d", outcome);
	else if (outcome != JOB_DONE && !ctx.error[0])
		snprintf(ctx.error, sizeof ctx.error, "handler returned %s", outcome_name(outcome));
	double ms = (mono_now() - t0) * 1000;
	int lost = lease_clear(l);

	struct err e = { 0 };
	int owned = 0, dead = 0, rc = 0;
	long long delay = 0;
	switch (outcome) {
	case JOB_DONE:
		if (!stop_flag) {
			/* The claim loop completes it together with the next claim. */
			pd->has = 1;
			pd->id = row->id;
			pd->claims = row->claims;
			pd->project_id = row->project_id;
			snprintf(pd->kind, sizeof pd->kind, "%s", row->kind);
			char sid[24], sms[32];
			snprintf(sid, sizeof sid, "%lld", row->id);
			snprintf(sms, sizeof sms, "%.1f", ms);
			log_kv(LOG_DEBUG, "job done", "job", sid, "kind", row->kind, "ms", sms, NULL);
			metrics_job(k ? (int)(k - jobs_kinds) : -1, MJ_DONE, ms / 1000);
			json_object_put(payload);
			return;
		}
		rc = store_job_complete(&owned, l->db, row->id, row->claims, row->project_id, &e);
		break;
	case JOB_RETRY:
		delay = jobs_backoff_ms(row->attempts, o->backoff_base_ms, o->backoff_cap_ms, o->clock);
		rc = store_job_fail(&owned, &dead, l->db, row->id, row->claims, row->project_id, delay, ctx.error, &e);
		break;
	case JOB_WAIT:
		rc = store_job_defer(&owned, l->db, row->id, row->claims, row->project_id, ctx.resume_at, 1, ctx.error,
				     &e);
		break;
	default:
		dead = 1;
		rc = store_job_bury(&owned, l->db, row->id, row->claims, row->project_id, ctx.error, &e);
		break;
	}
	if (rc == 0)
		metrics_job(k ? (int)(k - jobs_kinds) : -1,
			    !owned ? MJ_CANCELLED : dead ? MJ_DEAD : outcome == JOB_DONE ? MJ_DONE : outcome == JOB_WAIT ? MJ_WAIT : MJ_RETRY,
			    ms / 1000);
	char sid[24], sms[32], satt[16], sdelay[24];
	snprintf(sid, sizeof sid, "%lld", row->id);
	snprintf(sms, sizeof sms, "%.1f", ms);
	snprintf(satt, sizeof satt, "%d", row->attempts);
	snprintf(sdelay, sizeof sdelay, "%lld", delay);
	if (rc) {
		/* The row stays running; its lease runs out and the job is redone. */
		log_kv(LOG_ERROR, "recording the job's outcome failed", "job", sid, "kind", row->kind, "error", e.msg, NULL);
	} else if (!owned) {
		log_kv(LOG_WARN, lost ? "lease lost: outcome discarded" : "job was cancelled or taken over: outcome discarded",
		       "job", sid, "kind", row->kind, "outcome", outcome_name(outcome), NULL);
	} else if (outcome == JOB_DONE) {
		log_kv(LOG_DEBUG, "job done", "job", sid, "kind", row->kind, "attempt", satt, "ms", sms, NULL);
	} else {
		log_kv(dead ? LOG_ERROR : LOG_WARN, dead ? "job dead" : "job will run again", "job", sid, "kind", row->kind,
		       "attempt", satt, "outcome", outcome_name(outcome), "backoff_ms", sdelay, "ms", sms, "error",
		       ctx.error, NULL);
	}
	json_object_put(payload);
}

static int drain_notifies(PGconn *c)
{
	int n = 0;
	PGnotify *nf;
	while ((nf = PQnotifies(c))) {
		n++;
		PQfreemem(nf);
	}
	return n;
}

/* Sleeps until a NOTIFY, a signal, or the timeout. */
static void wait_wake(struct db *db, double timeout)
{
	if (stop_flag)
		return;
	PGconn *c = db_is_up(db) ? db_conn(db) : NULL;
	if (c) {
		/* A notification may already sit in libpq's queue, read there by the
		 * last query: sleeping now would miss it. */
		PQconsumeInput(c);
		if (drain_notifies(c))
			return;
	}
	struct pollfd p[2] = { { wake_pipe[0], POLLIN, 0 }, { c ? PQsocket(c) : -1, POLLIN, 0 } };
	int ms = timeout <= 0 ? 0 : (int)(timeout * 1000) + 1;
	int r = poll(p, c ? 2 : 1, ms);
	if (r > 0 && c && p[1].revents) {
		PQconsumeInput(c);
		drain_notifies(c);
	}
	if (r > 0 && p[0].revents) {
		char buf[64];
		while (read(wake_pipe[0], buf, sizeof buf) > 0)
			;
	}
}

/* LISTEN and session settings live on the connection: redo them when db.c has
 * quietly remade it (a new backend pid tells). */
static int session_ensure(struct db *db, int *backend_pid, struct err *e)
{
	int rc = db_ensure(db, e);
	if (rc)
		return rc;
	int pid = PQbackendPID(db_conn(db));
	if (pid == *backend_pid)
		return 0;
	rc = store_job_listen(db, e);
	if (rc == 0)
		*backend_pid = pid;
	return rc;
}

static int child_main(void *arg)
{
	const struct worker_opts *o = arg;
	set_signal(SIGTERM, on_stop);
	set_signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* Dies with the supervisor rather than running on unsupervised. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	open_wake_pipe();
	if (getppid() == 1)
		stop_flag = 1;

	char host[64] = "localhost", worker[128];
	gethostname(host, sizeof host - 1);
	snprintf(worker, sizeof worker, "%s:%d", host, (int)getpid());
	struct err e = { 0 };
	struct db *cdb, *hdb;
	db_open(&cdb, o->conninfo, o->db_timeout_ms, &e);
	db_open(&hdb, o->conninfo, o->db_timeout_ms, &e);

	struct lease l;
	memset(&l, 0, sizeof l);
	pthread_mutex_init(&l.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l.cv, &ca);
	pthread_condattr_destroy(&ca);
	l.db = cdb;
	l.o = o;
	l.host = host;
	l.started = (long long)time(NULL);
	/* Signals go to the claim loop, whose poll() they must interrupt. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_t th;
	int trc = pthread_create(&th, NULL, lease_main, &l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (trc != 0) {
		log_msg(LOG_ERROR, "cannot start the lease thread: %s", strerror(trc));
		return 1;
	}
	log_kv(LOG_INFO, "worker started", "worker", worker, "queue", o->queue, NULL);

	int backend_pid = 0, failures = 0;
	struct pending pd = { 0 };
	/* Reaping is cheap, but there is no point doing it more often than a lease can expire. */
	double reap_every = o->lease_seconds / 4.0 < 1 ? 1 : o->lease_seconds / 4.0, next_reap = 0;
	/* Spread over the processes so they do not all purge at the same moment. */
	double next_purge = mono_now() + 30 + (getpid() % 60);
	/* The daily retention pass (service/ops.c): history, audit rows, sessions, OAuth states. */
	double next_retention = mono_now() + 90 + (getpid() % 120);
	/* The periodic drift check of members against GitHub's collaborators (service/drift.c): a cheap query
	 * every few seconds finds the projects whose check is due (member_drift_seconds apart). */
	double next_drift = mono_now() + 5 + (getpid() % 5);
	while (!stop_flag) {
		if (session_ensure(cdb, &backend_pid, &e) != 0) {
			if (failures++ == 0)
				log_msg(LOG_ERROR, "%s; retrying", e.msg);
			wait_wake(cdb, failures < 5 ? failures : 5);
			continue;
		}
		if (failures) {
			log_msg(LOG_INFO, "database reachable again");
			failures = 0;
		}
		double now = mono_now();
		pthread_mutex_lock(&l.mu);
		beat(&l, cdb, now);
		pthread_mutex_unlock(&l.mu);
		if (now >= next_reap) {
			int n = 0;
			if (store_job_reap(&n, cdb, &e) != 0)
				log_msg(LOG_WARN, "reaping expired leases: %s", e.msg);
			else if (n > 0)
				log_msg(LOG_WARN, "requeued %d job(s) whose worker stopped renewing the lease", n);
			/* Heartbeats of processes gone without a clean stop (SIGKILL, a lost host). */
			if (store_workers_prune(&n, cdb, 600, &e) != 0)
				log_msg(LOG_WARN, "pruning worker heartbeats: %s", e.msg);
			next_reap = now + reap_every;
		}
		if (o->keep_days > 0 && now >= next_purge) {
			int n = 0;
			if (store_job_purge(&n, cdb, o->keep_days, &e) != 0)
				log_msg(LOG_WARN, "deleting old finished jobs: %s", e.msg);
			else if (n > 0)
				log_msg(LOG_INFO, "deleted %d finished job(s) older than %d days", n, o->keep_days);
			/* A full batch means more are due: come back soon, not in ten minutes. */
			next_purge = now + (n >= 5000 ? 5 : 600);
		}
		if (now >= next_retention) {
			long long n = 0;
			if (ops_retention(&n, cdb, 1000, &e) != 0)
				log_msg(LOG_WARN, "retention pass: %s", e.msg);
			next_retention = now + 86400;
		}
		if (now >= next_drift) {
			int n = 0;
			if (members_drift_sweep(&n, cdb, &e) != 0)
				log_msg(LOG_WARN, "drift sweep: %s", e.msg);
			else if (n > 0)
				log_msg(LOG_INFO, "queued %d drift check(s) of members against GitHub", n);
			next_drift = now + 5;
		}
		struct job_row row;
		int found = 0, rc;
		if (pd.has) {
			int owned = 0;
			rc = store_job_complete_claim(&owned, &row, &found, cdb, pd.id, pd.claims, pd.project_id, o->queue,
						      worker, o->lease_seconds, &e);
			if (rc == 0) {
				pending_log(&pd, owned);
				/* The combined claim could not take the finished job's project
				 * (same snapshot); its next job may be the only one left. */
				if (!found && pd.project_id)
					rc = store_job_claim(&row, &found, cdb, o->queue, worker, o->lease_seconds, &e);
				pd.has = 0;
			}
		} else {
			rc = store_job_claim(&row, &found, cdb, o->queue, worker, o->lease_seconds, &e);
		}
		if (rc != 0) {
			log_msg(LOG_WARN, "claiming a job: %s", e.msg);
			pending_flush(&pd, cdb);
			wait_wake(cdb, 1);
			continue;
		}
		if (found) {
			run_job(&l, hdb, worker, &row, &pd);
			store_job_row_free(&row);
			continue;
		}
		double due = -1;
		long long ready = 0;
		if (store_job_next_due(&due, &ready, cdb, o->queue, &e) != 0) {
			log_msg(LOG_WARN, "looking for the next due job: %s", e.msg);
			wait_wake(cdb, 1);
			continue;
		}
		double timeout = o->poll_seconds;
		if (due >= 0 && due < timeout)
			timeout = due;
		if (next_drift - now < timeout) /* the drift sweep's turn comes first */
			timeout = next_drift - now > 0.05 ? next_drift - now : 0.05;
		if (l.next_beat - now < timeout) /* wake for the next beat even when idle */
			timeout = l.next_beat - now > 0 ? l.next_beat - now : 0;
		/* Ready jobs we could not take were row-locked by a concurrent claim
		 * for an instant: look again soon rather than at the next NOTIFY. */
		if (ready > 0 && timeout > 0.02)
			timeout = 0.02;
		wait_wake(cdb, timeout);
	}
	pending_flush(&pd, cdb);
	pthread_mutex_lock(&l.mu);
	l.quit = 1;
	pthread_cond_signal(&l.cv);
	pthread_mutex_unlock(&l.mu);
	pthread_join(th, NULL);
	if (store_worker_gone(cdb, host, (int)getpid(), &e) != 0)
		log_msg(LOG_WARN, "removing the worker heartbeat: %s", e.msg);
	log_kv(LOG_INFO, "worker stopped", "worker", worker, NULL);
	db_close(hdb);
	db_close(cdb);
	return 0;
}

int worker_run(const struct worker_opts *o, struct err *e)
{
	int n = o->concurrency > 0 ? o->concurrency : 1;
	char sn[12];
	snprintf(sn, sizeof sn, "%d", n);
	log_kv(LOG_INFO, "starting workers", "processes", sn, "queue", o->queue, NULL);
	/* Children release their own jobs at the drain deadline; SIGKILL is the last resort. */
	struct prefork pf = {
		.processes = n,
		.what = "worker",
		.forward_hup = 0,
		.kill_after = o->drain_seconds + 10,
		.child = child_main,
		.arg = (void *)o,
	};
	return prefork_run(&pf, e);
}
