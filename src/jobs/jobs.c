/* jobs/jobs.c: the job queue service: enqueue checks, retry policy (backoff with full jitter), error classes. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include <sodium.h>
#include "store/ops.h"
#include "jobs/jobs.h"

static double system_now(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t system_random(void *arg)
{
	(void)arg;
	return randombytes_random();
}

const struct jobs_clock *jobs_clock_system(void)
{
	static const struct jobs_clock clk = { system_now, system_random, NULL };
	return &clk;
}

const struct job_kind *jobs_kind_find(const char *name)
{
	if (!name)
		return NULL;
	for (int i = 0; i < jobs_nkinds; i++)
		if (strcmp(jobs_kinds[i].name, name) == 0)
			return &jobs_kinds[i];
	return NULL;
}

static int set_outcome(struct job_ctx *ctx, int outcome, double resume_at, const char *fmt, va_list ap)
{
	ctx->outcome = outcome;
	ctx->resume_at = resume_at;
	vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
	return outcome;
}

int job_retry(struct job_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = set_outcome(ctx, JOB_RETRY, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int job_wait(struct job_ctx *ctx, double resume_at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = set_outcome(ctx, JOB_WAIT, resume_at, fmt, ap);
	va_end(ap);
	return rc;
}

int job_permanent(struct job_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = set_outcome(ctx, JOB_PERMANENT, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int job_should_stop(const struct job_ctx *ctx)
{
	return ctx->stop && *ctx->stop;
}

long long jobs_backoff_cap_ms(int attempt, long long base_ms, long long cap_ms)
{
	if (base_ms < 0)
		base_ms = 0;
	if (attempt < 1)
		attempt = 1;
	long long ceiling = base_ms;
	/* Doubling stops at the cap, so no attempt count can overflow it. */
	for (int i = 1; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	return ceiling < cap_ms ? ceiling : cap_ms;
}

long long jobs_backoff_ms(int attempt, long long base_ms, long long cap_ms, const struct jobs_clock *clk)
{
	long long ceiling = jobs_backoff_cap_ms(attempt, base_ms, cap_ms);
	if (ceiling <= 0)
		return 0;
	if (!clk)
		clk = jobs_clock_system();
	/* Two draws make 64 bits, so the modulo bias is nil for any sane cap. */
	uint64_t r = ((uint64_t)clk->random(clk->arg) << 32) | clk->random(clk->arg);
	return (long long)(r % (uint64_t)(ceiling + 1));
}

/* Retry-After: delta-seconds or an IMF-fixdate. -1 when neither parses. */
static double parse_retry_after(const char *v, double now)
{
	if (!v || !*v)
		return -1;
	char *end;
	double secs = strtod(v, &end);
	if (end != v && *end == '\0' && secs >= 0)
		return now + secs;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *rest = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (rest && *rest == '\0')
		return (double)timegm(&tm);
	return -1;
}

int jobs_classify_http(double *resume_at, int status, const char *retry_after, const char *ratelimit_remaining,
		       const char *ratelimit_reset, const struct jobs_clock *clk)
{
	if (!clk)
		clk = jobs_clock_system();
	double now = clk->now(clk->arg);
	*resume_at = 0;
	if (status >= 200 && status < 400)
		return JOB_DONE;
	double ra = parse_retry_after(retry_after, now);
	int exhausted = ratelimit_remaining && strcmp(ratelimit_remaining, "0") == 0;
	/* GitHub signals both primary and secondary rate limits with 403 or 429;
	 * a 403 without those headers is a permissions problem. */
	if (status == 429 || (status == 403 && (ra >= 0 || exhausted))) {
		if (ra >= 0) {
			*resume_at = ra;
		} else if (exhausted && ratelimit_reset && *ratelimit_reset) {
			double reset = strtod(ratelimit_reset, NULL);
			*resume_at = reset > now ? reset : now + 1;
		} else {
			/* GitHub's advice for a secondary limit without headers: wait at least a minute. */
			*resume_at = now + 60;
		}
		return JOB_WAIT;
	}
	if (status == 0 || status == 408 || status >= 500)
		return JOB_RETRY;
	return JOB_PERMANENT;
}

int jobs_enqueue(long long *id, int *coalesced, struct db *db, const char *kind, const struct jobs_enqueue_opts *o,
		 struct err *e)
{
	static const struct jobs_enqueue_opts none = { 0 };
	if (!o)
		o = &none;
	const struct job_kind *k = jobs_kind_find(kind);
	if (!k)
		return err_set(e, ERR_INVALID, "unknown job kind '%s'", kind ? kind : "");
	if (o->payload) {
		struct json_object *p = json_tokener_parse(o->payload);
		int is_obj = p && json_object_is_type(p, json_type_object);
		json_object_put(p);
		if (!is_obj)
			return err_set(e, ERR_INVALID, "job payload must be a JSON object");
	}
	if (o->queue && (!*o->queue || strlen(o->queue) > 64))
		return err_set(e, ERR_INVALID, "queue name must be 1 to 64 characters");
	if (o->dedup_key && strlen(o->dedup_key) > 256)
		return err_set(e, ERR_INVALID, "dedup key longer than 256 characters");
	if (o->project_id < 0)
		return err_set(e, ERR_INVALID, "project id must be positive");
	struct store_job_new n = {
		.queue = o->queue,
		.kind = kind,
		.project_id = o->project_id,
		.payload = o->payload,
		.priority = o->priority ? o->priority : 100,
		.delay_ms = o->delay_ms,
		.dedup_key = o->dedup_key,
		.max_attempts = o->max_attempts > 0 ? o->max_attempts : k->max_attempts,
	};
	return store_job_enqueue(id, coalesced, db, &n, e);
}

int jobs_get(struct job_row *out, struct db *db, long long id, struct err *e)
{
	return store_job_get(out, db, id, e);
}

int jobs_stats(struct job_stats *out, struct db *db, struct err *e)
{
	return store_job_stats(out, db, e);
}

int jobs_list(struct job_row **rows, size_t *n, struct db *db, const char *state, const char *kind, int limit,
	      struct err *e)
{
	return store_job_list(rows, n, db, state, kind, NULL, 0, limit, e);
}

int jobs_retry(struct db *db, long long id, struct err *e)
{
	/* An operator's act: its audit row (store/ops.h) commits with it. */
	char sid[24];
	snprintf(sid, sizeof sid, "%lld", id);
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	if ((rc = store_job_retry(db, id, e)) == 0)
		rc = store_audit_add(db, "job.retried", "job", sid, 0, "success", NULL, e);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, e);
}

int jobs_cancel(struct db *db, long long id, struct err *e)
{
	return store_job_cancel(db, id, e);
}
