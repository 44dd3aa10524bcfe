/* jobs/kinds.c: the table of job kinds and the built-in ones (noop, test). A new kind is one row here. */
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "jobs/jobs.h"
#include "store/jobs.h"
#include "service/connect.h"
#include "service/ghrepos.h"
#include "service/members.h"
#include "service/poll.h"
#include "service/sync.h"
#include "service/pulls.h"
#include "service/webhooks.h"

/* For benchmarks and smoke tests: the cost of the queue itself. */
static int job_noop(struct job_ctx *ctx, const struct job *job)
{
	(void)ctx;
	(void)job;
	return JOB_DONE;
}

static long long payload_int(const struct job *job, const char *key, long long def)
{
	struct json_object *v;
	if (json_object_object_get_ex(job->payload, key, &v))
		return json_object_get_int64(v);
	return def;
}

static const char *payload_str(const struct job *job, const char *key)
{
	struct json_object *v;
	if (json_object_object_get_ex(job->payload, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* For the integration tests: records each run's interval in job_test_runs, then
 * sleeps sleep_ms (in slices, so SIGTERM and lost leases cut it short, unless
 * ignore_stop plays a handler stuck in a long call), then fails as asked while
 * claims <= fail_times:
 *   {"sleep_ms": 200, "fail": "retry"|"wait"|"permanent", "fail_times": 2, "wait_ms": 500} */
static int job_test(struct job_ctx *ctx, const struct job *job)
{
	long long run_id = 0;
	struct err e = { 0 };
	if (store_job_test_run_begin(&run_id, ctx->db, job->id, job->project_id, job->attempt, ctx->worker, &e))
		return job_retry(ctx, "recording the run: %s", e.msg);
	long long sleep_ms = payload_int(job, "sleep_ms", 0);
	int ignore_stop = payload_int(job, "ignore_stop", 0) != 0;
	while (sleep_ms > 0 && (ignore_stop || !job_should_stop(ctx))) {
		long long slice = sleep_ms < 50 ? sleep_ms : 50;
		struct timespec ts = { (time_t)(slice / 1000), (long)(slice % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		sleep_ms -= slice;
	}
	if (store_job_test_run_end(ctx->db, run_id, &e))
		return job_retry(ctx, "recording the run: %s", e.msg);
	const char *fail = payload_str(job, "fail");
	if (!fail || job->claims > payload_int(job, "fail_times", 1 << 30))
		return JOB_DONE;
	if (strcmp(fail, "retry") == 0)
		return job_retry(ctx, "test failure %d (retryable)", job->claims);
	if (strcmp(fail, "wait") == 0)
		return job_wait(ctx, ctx->clock->now(ctx->clock->arg) + (double)payload_int(job, "wait_ms", 1000) / 1000,
				"test rate limit %d", job->claims);
	if (strcmp(fail, "permanent") == 0)
		return job_permanent(ctx, "test failure (permanent)");
	return job_permanent(ctx, "test job: unknown fail mode '%s'", fail);
}

const struct job_kind jobs_kinds[] = {
	{ "noop", job_noop, 3, "does nothing; measures the queue" },
	{ "test", job_test, 3, "records its run in job_test_runs, sleeps and fails as its payload says" },
	{ "sync", sync_job, 8, "syncs a project's workspace with its GitHub branch (fetch, merge, commit, push)" },
	{ "pulls_create", pulls_job_create, 6, "commits pending changes to a new branch, pushes it and opens a pull request" },
	{ "pulls_refresh", pulls_job_refresh, 6, "refreshes a project's open pull requests and checks (conditional requests)" },
	{ "webhook", webhooks_job_delivery, 8, "applies a received GitHub webhook delivery" },
	{ "webhook_register", webhooks_job_register, 8, "registers the repository webhook of a project (or finds it)" },
	{ "webhook_delete", webhooks_job_delete, 8, "removes a repository webhook after a disconnect" },
	{ "poll", poll_job, 10, "checks a project for changes on GitHub (conditional request) and in its workspace folder" },
	{ "connect", connect_job, 8, "creates or checks a project's repository on GitHub, links it and queues the initial sync" },
	{ "github_repos", ghrepos_job_refresh, 5, "reads the user's repositories with push access into the Link list's cache" },
	{ "member_lookup", members_job_lookup, 6, "learns an invited member's GitHub user id (GET /users/{login})" },
	{ "member_github", members_job_github, 8, "gives, changes or removes a member's access on the project's GitHub repository" },
	{ "member_drift", members_job_drift, 5, "compares the repository's collaborators and invitations with the project's members" },
};
const int jobs_nkinds = (int)(sizeof jobs_kinds / sizeof jobs_kinds[0]);
