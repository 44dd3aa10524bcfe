/* test_jobs.c: the job queue's pure parts: backoff with full jitter, error classes, the kinds table. */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include "jobs/jobs.h"

/* A fixed clock and a scripted random source. */
struct fake { double now; uint32_t rnd; };
static double fake_now(void *arg) { return ((struct fake *)arg)->now; }
static uint32_t fake_random(void *arg) { return ((struct fake *)arg)->rnd; }

/* An LCG so a test can sample the whole range deterministically. */
static uint32_t lcg_state = 12345;
static uint32_t lcg_random(void *arg) { (void)arg; lcg_state = lcg_state * 1664525u + 1013904223u; return lcg_state; }

START_TEST(test_backoff_ceiling)
{
	ck_assert_int_eq(jobs_backoff_cap_ms(1, 2000, 600000), 2000);
	ck_assert_int_eq(jobs_backoff_cap_ms(2, 2000, 600000), 4000);
	ck_assert_int_eq(jobs_backoff_cap_ms(3, 2000, 600000), 8000);
	ck_assert_int_eq(jobs_backoff_cap_ms(9, 2000, 600000), 512000);
	ck_assert_int_eq(jobs_backoff_cap_ms(10, 2000, 600000), 600000);
	ck_assert_int_eq(jobs_backoff_cap_ms(1000000, 2000, 600000), 600000);
	ck_assert_int_eq(jobs_backoff_cap_ms(0, 2000, 600000), 2000);
	ck_assert_int_eq(jobs_backoff_cap_ms(5, 0, 600000), 0);
}
END_TEST

START_TEST(test_backoff_extremes)
{
	struct fake f = { 1000, 0 };
	struct jobs_clock clk = { fake_now, fake_random, &f };
	ck_assert_int_eq(jobs_backoff_ms(3, 2000, 600000, &clk), 0);
	f.rnd = UINT32_MAX;
	long long v = jobs_backoff_ms(3, 2000, 600000, &clk);
	ck_assert(v >= 0 && v <= 8000);
	ck_assert_int_eq(jobs_backoff_ms(4, 0, 600000, &clk), 0);
}
END_TEST

START_TEST(test_backoff_within_jitter_bounds)
{
	struct jobs_clock clk = { fake_now, lcg_random, NULL };
	for (int attempt = 1; attempt <= 14; attempt++) {
		long long cap = jobs_backoff_cap_ms(attempt, 2000, 600000), lo = cap, hi = 0;
		double sum = 0;
		for (int i = 0; i < 4000; i++) {
			long long d = jobs_backoff_ms(attempt, 2000, 600000, &clk);
			ck_assert_msg(d >= 0 && d <= cap, "attempt %d: %lld outside [0, %lld]", attempt, d, cap);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += (double)d;
		}
		/* Full jitter spreads over the whole range, mean near the middle. */
		ck_assert(lo < cap / 20 + 1);
		ck_assert(hi > cap - cap / 20 - 1);
		double mean = sum / 4000;
		ck_assert_msg(mean > cap * 0.45 && mean < cap * 0.55, "attempt %d: mean %.0f of cap %lld", attempt, mean,
			      cap);
	}
}
END_TEST

START_TEST(test_classify)
{
	struct fake f = { 1700000000.0, 0 };
	struct jobs_clock clk = { fake_now, fake_random, &f };
	double at;
	ck_assert_int_eq(jobs_classify_http(&at, 200, NULL, NULL, NULL, &clk), JOB_DONE);
	ck_assert_int_eq(jobs_classify_http(&at, 201, NULL, NULL, NULL, &clk), JOB_DONE);
	ck_assert_int_eq(jobs_classify_http(&at, 0, NULL, NULL, NULL, &clk), JOB_RETRY);
	ck_assert_int_eq(jobs_classify_http(&at, 500, NULL, NULL, NULL, &clk), JOB_RETRY);
	ck_assert_int_eq(jobs_classify_http(&at, 502, NULL, NULL, NULL, &clk), JOB_RETRY);
	ck_assert_int_eq(jobs_classify_http(&at, 503, NULL, NULL, NULL, &clk), JOB_RETRY);
	ck_assert_int_eq(jobs_classify_http(&at, 408, NULL, NULL, NULL, &clk), JOB_RETRY);
	ck_assert_int_eq(jobs_classify_http(&at, 404, NULL, NULL, NULL, &clk), JOB_PERMANENT);
	ck_assert_int_eq(jobs_classify_http(&at, 422, NULL, NULL, NULL, &clk), JOB_PERMANENT);
	ck_assert_int_eq(jobs_classify_http(&at, 401, NULL, NULL, NULL, &clk), JOB_PERMANENT);
	/* 403 is a permission problem unless the rate-limit headers say otherwise. */
	ck_assert_int_eq(jobs_classify_http(&at, 403, NULL, "12", "1700000500", &clk), JOB_PERMANENT);
	ck_assert_int_eq(jobs_classify_http(&at, 403, NULL, "0", "1700000500", &clk), JOB_WAIT);
	ck_assert(at == 1700000500.0);
	ck_assert_int_eq(jobs_classify_http(&at, 429, "30", NULL, NULL, &clk), JOB_WAIT);
	ck_assert(at == 1700000030.0);
	ck_assert_int_eq(jobs_classify_http(&at, 403, "120", "5", NULL, &clk), JOB_WAIT);
	ck_assert(at == 1700000120.0);
	/* Retry-After wins over the reset header; an HTTP date works too. */
	ck_assert_int_eq(jobs_classify_http(&at, 429, "Wed, 21 Oct 2015 07:28:00 GMT", "0", "1700000500", &clk),
			 JOB_WAIT);
	ck_assert(at == 1445412480.0);
	/* No usable header: a minute, as GitHub advises for secondary limits. */
	ck_assert_int_eq(jobs_classify_http(&at, 429, "soon", NULL, NULL, &clk), JOB_WAIT);
	ck_assert(at == 1700000060.0);
	/* A reset already past: come back almost at once, never in the past. */
	ck_assert_int_eq(jobs_classify_http(&at, 403, NULL, "0", "1600000000", &clk), JOB_WAIT);
	ck_assert(at == 1700000001.0);
}
END_TEST

START_TEST(test_kinds)
{
	ck_assert_ptr_nonnull(jobs_kind_find("noop"));
	ck_assert_ptr_nonnull(jobs_kind_find("test"));
	ck_assert_ptr_null(jobs_kind_find("nope"));
	ck_assert_ptr_null(jobs_kind_find(NULL));
	for (int i = 0; i < jobs_nkinds; i++) {
		ck_assert_ptr_nonnull(jobs_kinds[i].run);
		ck_assert(jobs_kinds[i].max_attempts >= 1);
		for (int k = i + 1; k < jobs_nkinds; k++)
			ck_assert_str_ne(jobs_kinds[i].name, jobs_kinds[k].name);
	}
}
END_TEST

START_TEST(test_outcome_helpers)
{
	struct job_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ck_assert_int_eq(job_retry(&ctx, "GitHub answered %d", 502), JOB_RETRY);
	ck_assert_str_eq(ctx.error, "GitHub answered 502");
	ck_assert_int_eq(job_wait(&ctx, 42.5, "rate limited"), JOB_WAIT);
	ck_assert(ctx.resume_at == 42.5);
	ck_assert_int_eq(job_permanent(&ctx, "404"), JOB_PERMANENT);
	ck_assert_int_eq(ctx.outcome, JOB_PERMANENT);
	ck_assert(!job_should_stop(&ctx));
	volatile int stop = 1;
	ctx.stop = &stop;
	ck_assert(job_should_stop(&ctx));
}
END_TEST

static Suite *jobs_suite(void)
{
	Suite *s = suite_create("jobs");
	TCase *tc = tcase_create("policy");
	tcase_add_test(tc, test_backoff_ceiling);
	tcase_add_test(tc, test_backoff_extremes);
	tcase_add_test(tc, test_backoff_within_jitter_bounds);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_kinds);
	tcase_add_test(tc, test_outcome_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jobs_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
