/* metrics.h: per-process counters in one shared-memory file, summed over every process of the host at scrape time. */
#ifndef GHB_METRICS_H
#define GHB_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"

/* Why a shared-memory file and not PostgreSQL: a counter bumped per HTTP request or GitHub call
 * must cost nothing (no round trip, no hot row), and one scrape of any fcgi process must see the
 * counters of all of them and of the workers. Each process takes one slot of one file, in /dev/shm
 * (else data_dir/metrics-<hostname>.shm; metrics.c shm_path), mapped MAP_SHARED, and only adds to it
 * (relaxed atomic adds); the scraper sums the slots. A slot whose process is gone (kill(pid, 0) says
 * ESRCH) is folded into the "gone" slot before it is reused, so counters never go backwards while the
 * host runs (Prometheus counters may only reset when every process restarts, which a rate() handles).
 * The queue figures (jobs by state, oldest job) come from PostgreSQL at scrape time instead: they are
 * shared state, not per-process events.
 * Nothing here is required: when the file cannot be made, metrics_* calls do nothing. */

#define METRICS_SLOTS 128
#define METRICS_ROUTES 160           /* route table rows; the last is "unmatched" */
#define METRICS_KINDS 24             /* job kinds (jobs_kinds order); the last is "other" */

enum metrics_status { MS_1xx, MS_200, MS_201, MS_202, MS_204, MS_2xx, MS_301, MS_302, MS_303, MS_304, MS_3xx, MS_400,
		      MS_401, MS_403, MS_404, MS_405, MS_409, MS_412, MS_413, MS_422, MS_429, MS_4xx, MS_500, MS_502,
		      MS_503, MS_5xx, MS_NONE, MS_NSTATUS };
enum metrics_job { MJ_DONE, MJ_RETRY, MJ_DEAD, MJ_WAIT, MJ_CANCELLED, MJ_NJOB };
enum metrics_sync { MSY_SUCCESS, MSY_NOCHANGE, MSY_ERROR, MSY_CONFLICT, MSY_NSYNC };
enum metrics_hook { MH_QUEUED, MH_DUPLICATE, MH_IGNORED, MH_PONG, MH_BAD_SIGNATURE, MH_BAD_REQUEST, MH_NHOOK };

/* Opens (creating when missing) the host's metrics file for data_dir dir (/dev/shm/ghbridge-metrics-<uid>-<hash
 * of dir>, else dir/metrics-<hostname>.shm); a process's slot is taken on its first count. 0, or -1 when the file
 * cannot be made or is not this user's (metrics_* then do nothing). */
int metrics_open(const char *dir);
/* The path of a host-local shared file named what for data_dir dir: /dev/shm/ghbridge-<what>-<uid>-<hash of dir>
 * when /dev/shm is writable, else dir/<what>-<hostname>.shm (dir may be shared by several machines). */
void metrics_shm_path(char *out, size_t size, const char *dir, const char *what);
/* Maps path (created zero-filled at size bytes when missing or of another size) read-write and shared;
 * NULL when it cannot, or when the file is not ours (another uid, not a regular file). */
void *metrics_shm_map(const char *path, size_t size);

void metrics_http(int route, int status, double seconds);
void metrics_job(int kind, enum metrics_job outcome, double seconds);
void metrics_sync(enum metrics_sync outcome, long long files, long long bytes);
/* The kinds of credentials GitHub counts requests against, each with its own rate limit (docs "Rate limits
 * for the REST API": a user's token, a GitHub App installation, unauthenticated by address). */
enum metrics_token { MT_NONE, MT_OAUTH_USER, MT_APP_USER, MT_INSTALLATION, MT_PERSONAL, MT_APP, MT_OTHER, MT_NTOKEN };
extern const char *const metrics_token_names[MT_NTOKEN];
/* One GitHub answer: its status (0: no answer), X-RateLimit-Remaining (-1: absent), X-RateLimit-Reset
 * (epoch seconds, 0: absent) and the class of the credentials sent. */
void metrics_github(int status, long long ratelimit_remaining, long long ratelimit_reset, enum metrics_token cls);
/* The lowest X-RateLimit-Remaining among answers whose rate-limit window is not over yet, per class, summed
 * over the host's processes: remaining[c] = -1 when none is known; reset[c] = that window's end (epoch s). */
void metrics_github_headroom(long long remaining[MT_NTOKEN], long long reset[MT_NTOKEN]);
void metrics_webhook(enum metrics_hook outcome);
void metrics_db_error(void);
void metrics_db_reconnect(void);

/* Appends the Prometheus text exposition (format 0.0.4) of the summed counters. route_names and
 * kind_names name the indices (NULL past the end: "unmatched" / "other"). */
void metrics_render(struct buf *out, const char *const *route_names, int nroutes, const char *const *kind_names,
		    int nkinds);
/* Appends one escaped label value (backslash, double quote and newline escaped as the format says). */
void metrics_label(struct buf *out, const char *value);

#endif
