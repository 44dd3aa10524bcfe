/* metrics.c: the shared-memory counters of every ghbridge process on the host, and their Prometheus text exposition. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/metrics.h"

#define LAT_N 12
static const double lat_bounds[LAT_N - 1] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define JOB_N 12
static const double job_bounds[JOB_N - 1] = { 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600 };

typedef _Atomic uint64_t counter;

/* Histograms keep one count per bucket (not cumulative) so that an observation is one add. */
struct slot {
	_Atomic int32_t pid;                  /* 0 free, -1 the "gone" slot (index 0) */
	int32_t pad;
	counter http[METRICS_ROUTES][MS_NSTATUS];
	counter http_lat[LAT_N];
	counter http_lat_sum_us;
	counter job[METRICS_KINDS][MJ_NJOB];
	counter job_dur[METRICS_KINDS][JOB_N];
	counter job_dur_sum_ms[METRICS_KINDS];
	counter sync[MSY_NSYNC];
	counter sync_files, sync_bytes;
	counter gh[MS_NSTATUS];
	_Atomic int64_t gh_rate_min;          /* -1: none seen */
	/* Per token class: (window end in epoch seconds << 32) | remaining; 0: none. Outside the summed ranges. */
	_Atomic uint64_t gh_window[MT_NTOKEN];
	counter hook[MH_NHOOK];
	counter db_err, db_reconn;
};

struct header {
	char magic[8];
	uint32_t version, slot_size, nslots, pad;
	char reserved[40];
};

#define MAGIC "ghbmtr1"
static struct header *hdr;
static struct slot *slots;
static struct slot *mine;
static pid_t mine_pid;

static const char *const status_names[MS_NSTATUS] = {
	"1xx", "200", "201", "202", "204", "2xx", "301", "302", "303", "304", "3xx", "400", "401",
	"403", "404", "405", "409", "412", "413", "422", "429", "4xx", "500", "502", "503", "5xx", "none",
};
const char *const metrics_token_names[MT_NTOKEN] = { "none", "oauth_user", "app_user", "installation",
							 "personal", "app", "other" };
static const char *const job_names[MJ_NJOB] = { "done", "retry", "dead", "wait", "cancelled" };
static const char *const sync_names[MSY_NSYNC] = { "success", "nochange", "error", "conflict" };
static const char *const hook_names[MH_NHOOK] = { "queued", "duplicate", "ignored", "pong", "bad_signature",
						  "bad_request" };

static int status_index(int s)
{
	static const int exact[] = { 200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405,
				     409, 412, 413, 422, 429, 500, 502, 503 };
	static const int idx[] = { MS_200, MS_201, MS_202, MS_204, MS_301, MS_302, MS_303, MS_304, MS_400,
				   MS_401, MS_403, MS_404, MS_405, MS_409, MS_412, MS_413, MS_422, MS_429,
				   MS_500, MS_502, MS_503 };
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (s == exact[i])
			return idx[i];
	return s < 100 ? MS_NONE : s < 200 ? MS_1xx : s < 300 ? MS_2xx : s < 400 ? MS_3xx : s < 500 ? MS_4xx : MS_5xx;
}

/* The file lives in /dev/shm when there is one (memory, and local to the host even when data_dir is a
 * shared filesystem, where mmap is not coherent between machines), named after data_dir so that two
 * installations on one host do not mix; else in data_dir itself, named after the host: data_dir may be
 * shared by several machines, and a file's slots (pids, counts) mean something only on the machine that
 * wrote them. */
void metrics_shm_path(char *out, size_t size, const char *dir, const char *what)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
		snprintf(out, size, "/dev/shm/ghbridge-%s-%u-%016llx", what, (unsigned)getuid(), (unsigned long long)h);
	else {
		char host[65] = "";
		if (gethostname(host, sizeof host - 1) != 0 || !host[0] || strchr(host, '/'))
			snprintf(host, sizeof host, "localhost");
		snprintf(out, size, "%s/%s-%s.shm", dir, what, host);
	}
}

void *metrics_shm_map(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return NULL;
	struct stat st;
	/* /dev/shm is shared by every user: a file someone else made there is not ours to trust. */
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	if (st.st_size != 0 && (size_t)st.st_size != size) {
		/* Another build's layout: start a new file (processes of the old build keep theirs). */
		close(fd);
		unlink(path);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || fstat(fd, &st) != 0) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
	}
	if (st.st_size == 0 && ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return NULL;
	}
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

int metrics_open(const char *dir)
{
	if (hdr)
		return 0;
	char path[1024];
	metrics_shm_path(path, sizeof path, dir && *dir ? dir : ".", "metrics");
	size_t size = sizeof(struct header) + (size_t)METRICS_SLOTS * sizeof(struct slot);
	void *m = metrics_shm_map(path, size);
	if (!m)
		return -1;
	struct header *h = m;
	/* A fresh file is all zeros; the first process writes the header. Two at once write the same. */
	if (h->magic[0] == 0) {
		h->version = 1;
		h->slot_size = sizeof(struct slot);
		h->nslots = METRICS_SLOTS;
		memcpy(h->magic, MAGIC, sizeof MAGIC);
	}
	if (memcmp(h->magic, MAGIC, sizeof MAGIC) != 0 || h->slot_size != sizeof(struct slot)) {
		munmap(m, size);
		return -1;
	}
	slots = (struct slot *)(h + 1);
	int32_t zero = 0;
	/* Slot 0 holds what gone processes counted. A fresh file is zeros, and a gh_rate_min of 0 would read as
	 * "GitHub said 0 requests remain" at every scrape (an alert on a low headroom fired on a new host):
	 * the process that claims slot 0 marks it -1, none seen, as slot() does for the others. */
	if (atomic_compare_exchange_strong(&slots[0].pid, &zero, -1)) {
		int64_t z = 0;
		atomic_compare_exchange_strong(&slots[0].gh_rate_min, &z, -1);
	}
	hdr = h;
	return 0;
}

/* Keeps the lower remaining of two windows, unless the kept one is over (its end passed). */
static void window_merge(_Atomic uint64_t *w, uint64_t v, uint64_t now)
{
	if (!v)
		return;
	uint64_t cur = atomic_load(w);
	while ((cur == 0 || (cur >> 32) <= now || (v & 0xffffffffu) < (cur & 0xffffffffu)) && cur != v &&
	       !atomic_compare_exchange_weak(w, &cur, v))
		;
}

static void fold_into_gone(struct slot *s)
{
	for (int c = 0; c < MT_NTOKEN; c++) {
		window_merge(&slots[0].gh_window[c], atomic_load(&s->gh_window[c]), (uint64_t)time(NULL));
		atomic_store(&s->gh_window[c], 0);
	}
	uint64_t *src = (uint64_t *)((char *)s + offsetof(struct slot, http));
	counter *dst = (counter *)((char *)&slots[0] + offsetof(struct slot, http));
	size_t n = (offsetof(struct slot, gh_rate_min) - offsetof(struct slot, http)) / sizeof(uint64_t);
	for (size_t i = 0; i < n; i++)
		atomic_fetch_add_explicit(&dst[i], atomic_load_explicit((counter *)&src[i], memory_order_relaxed),
					  memory_order_relaxed);
	src = (uint64_t *)((char *)s + offsetof(struct slot, hook));
	dst = (counter *)((char *)&slots[0] + offsetof(struct slot, hook));
	n = (sizeof(struct slot) - offsetof(struct slot, hook)) / sizeof(uint64_t);
	for (size_t i = 0; i < n; i++)
		atomic_fetch_add_explicit(&dst[i], atomic_load_explicit((counter *)&src[i], memory_order_relaxed),
					  memory_order_relaxed);
	int64_t m = atomic_load(&s->gh_rate_min), cur = atomic_load(&slots[0].gh_rate_min);
	while (m >= 0 && (cur < 0 || m < cur) && !atomic_compare_exchange_weak(&slots[0].gh_rate_min, &cur, m))
		;
	memset((char *)s + offsetof(struct slot, http), 0, sizeof(struct slot) - offsetof(struct slot, http));
	atomic_store(&s->gh_rate_min, -1);
}

static int gone(int32_t pid)
{
	return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

/* This process's slot; after a fork the child takes its own (the parent's stays the parent's). */
static struct slot *slot(void)
{
	if (!hdr)
		return NULL;
	pid_t me = getpid();
	if (mine && mine_pid == me)
		return mine;
	mine = NULL;
	mine_pid = me;
	for (int i = 1; i < METRICS_SLOTS && !mine; i++) {
		int32_t p = atomic_load(&slots[i].pid);
		if (p == me) {
			mine = &slots[i]; /* a pid reused after a crash before anyone folded it: keep counting */
		} else if (p == 0 || gone(p)) {
			if (atomic_compare_exchange_strong(&slots[i].pid, &p, -2)) { /* -2: being folded */
				if (p != 0)
					fold_into_gone(&slots[i]);
				else
					atomic_store(&slots[i].gh_rate_min, -1);
				atomic_store(&slots[i].pid, me);
				mine = &slots[i];
			}
		}
	}
	return mine; /* all slots live: this process goes uncounted rather than corrupting another's */
}

#define ADD(field, v) atomic_fetch_add_explicit(&(field), (uint64_t)(v), memory_order_relaxed)

void metrics_http(int route, int status, double seconds)
{
	struct slot *s = slot();
	if (!s)
		return;
	if (route < 0 || route >= METRICS_ROUTES)
		route = METRICS_ROUTES - 1;
	ADD(s->http[route][status_index(status)], 1);
	int b = 0;
	while (b < LAT_N - 1 && seconds > lat_bounds[b])
		b++;
	ADD(s->http_lat[b], 1);
	ADD(s->http_lat_sum_us, seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
}

void metrics_job(int kind, enum metrics_job outcome, double seconds)
{
	struct slot *s = slot();
	if (!s || outcome < 0 || outcome >= MJ_NJOB)
		return;
	if (kind < 0 || kind >= METRICS_KINDS)
		kind = METRICS_KINDS - 1;
	ADD(s->job[kind][outcome], 1);
	int b = 0;
	while (b < JOB_N - 1 && seconds > job_bounds[b])
		b++;
	ADD(s->job_dur[kind][b], 1);
	ADD(s->job_dur_sum_ms[kind], seconds > 0 ? (uint64_t)(seconds * 1e3) : 0);
}

void metrics_sync(enum metrics_sync outcome, long long files, long long bytes)
{
	struct slot *s = slot();
	if (!s || outcome < 0 || outcome >= MSY_NSYNC)
		return;
	ADD(s->sync[outcome], 1);
	if (files > 0)
		ADD(s->sync_files, files);
	if (bytes > 0)
		ADD(s->sync_bytes, bytes);
}

void metrics_github(int status, long long remaining, long long reset, enum metrics_token cls)
{
	struct slot *s = slot();
	if (!s)
		return;
	ADD(s->gh[status_index(status)], 1);
	if (remaining < 0)
		return;
	if (reset > 0 && reset < 0xffffffffLL && cls >= 0 && cls < MT_NTOKEN)
		window_merge(&s->gh_window[cls], ((uint64_t)reset << 32) | (uint64_t)(remaining > 0xfffffffeLL ? 0xfffffffeLL : remaining),
			     (uint64_t)time(NULL));
	int64_t cur = atomic_load(&s->gh_rate_min);
	while ((cur < 0 || remaining < cur) && !atomic_compare_exchange_weak(&s->gh_rate_min, &cur, remaining))
		;
}

void metrics_webhook(enum metrics_hook outcome)
{
	struct slot *s = slot();
	if (s && outcome >= 0 && outcome < MH_NHOOK)
		ADD(s->hook[outcome], 1);
}

void metrics_db_error(void)
{
	struct slot *s = slot();
	if (s)
		ADD(s->db_err, 1);
}

void metrics_db_reconnect(void)
{
	struct slot *s = slot();
	if (s)
		ADD(s->db_reconn, 1);
}

void metrics_github_headroom(long long remaining[MT_NTOKEN], long long reset[MT_NTOKEN])
{
	for (int c = 0; c < MT_NTOKEN; c++)
		remaining[c] = reset[c] = -1;
	if (!hdr)
		return;
	uint64_t now = (uint64_t)time(NULL);
	for (int i = 0; i < METRICS_SLOTS; i++) {
		if (atomic_load(&slots[i].pid) == 0)
			continue;
		for (int c = 0; c < MT_NTOKEN; c++) {
			uint64_t v = atomic_load(&slots[i].gh_window[c]);
			if (!v || (v >> 32) <= now)
				continue;
			long long rem = (long long)(v & 0xffffffffu);
			if (remaining[c] < 0 || rem < remaining[c]) {
				remaining[c] = rem;
				reset[c] = (long long)(v >> 32);
			}
		}
	}
}

void metrics_label(struct buf *out, const char *v)
{
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\')
			buf_puts(out, "\\\\");
		else if (*p == '"')
			buf_puts(out, "\\\"");
		else if (*p == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *p);
	}
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void head(struct buf *o, const char *name, const char *type, const char *help)
{
	buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long long rss_bytes(int pid)
{
	char p[64], line[128];
	snprintf(p, sizeof p, "/proc/%d/statm", pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	long long size = 0, res = -1;
	if (!fgets(line, sizeof line, f) || sscanf(line, "%lld %lld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

void metrics_render(struct buf *o, const char *const *route_names, int nroutes, const char *const *kind_names,
		    int nkinds)
{
	if (!hdr) {
		buf_puts(o, "# ghbridge: the shared metrics file could not be opened; only database figures follow\n");
		return;
	}
	/* Sum into a private copy first: one pass over the shared memory, then formatting. */
	struct slot *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	int64_t rmin = -1;
	int live = 0;
	for (int i = 0; i < METRICS_SLOTS; i++) {
		struct slot *s = &slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (pid == 0)
			continue;
		if (pid > 0)
			live++;
		uint64_t *src = (uint64_t *)((char *)s + offsetof(struct slot, http));
		uint64_t *dst = (uint64_t *)((char *)t + offsetof(struct slot, http));
		size_t n = (offsetof(struct slot, gh_rate_min) - offsetof(struct slot, http)) / sizeof(uint64_t);
		for (size_t k = 0; k < n; k++)
			dst[k] += atomic_load_explicit((counter *)&src[k], memory_order_relaxed);
		src = (uint64_t *)((char *)s + offsetof(struct slot, hook));
		dst = (uint64_t *)((char *)t + offsetof(struct slot, hook));
		n = (sizeof(struct slot) - offsetof(struct slot, hook)) / sizeof(uint64_t);
		for (size_t k = 0; k < n; k++)
			dst[k] += atomic_load_explicit((counter *)&src[k], memory_order_relaxed);
		int64_t m = atomic_load(&s->gh_rate_min);
		if (m >= 0 && (rmin < 0 || m < rmin))
			rmin = m;
	}
	head(o, "ghbridge_http_requests_total", "counter", "HTTP requests answered by this host, by route pattern and status.");
	for (int r = 0; r < METRICS_ROUTES; r++)
		for (int st = 0; st < MS_NSTATUS; st++) {
			uint64_t v = LOAD(t->http[r][st]);
			if (!v)
				continue;
			buf_puts(o, "ghbridge_http_requests_total{route=\"");
			metrics_label(o, r < nroutes && r < METRICS_ROUTES - 1 ? route_names[r] : "unmatched");
			buf_printf(o, "\",status=\"%s\"} %llu\n", status_names[st], (unsigned long long)v);
		}
	head(o, "ghbridge_http_request_duration_seconds", "histogram", "Time from the request reaching ghbridge to its answer.");
	uint64_t cum = 0;
	for (int b = 0; b < LAT_N; b++) {
		cum += LOAD(t->http_lat[b]);
		if (b < LAT_N - 1)
			buf_printf(o, "ghbridge_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", lat_bounds[b],
				   (unsigned long long)cum);
		else
			buf_printf(o, "ghbridge_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(o, "ghbridge_http_request_duration_seconds_sum %.6f\n", (double)LOAD(t->http_lat_sum_us) / 1e6);
	buf_printf(o, "ghbridge_http_request_duration_seconds_count %llu\n", (unsigned long long)cum);

	head(o, "ghbridge_jobs_finished_total", "counter", "Job attempts ended, by kind and outcome (retry: failed and queued again; dead: out of attempts).");
	for (int k = 0; k < METRICS_KINDS; k++)
		for (int j = 0; j < MJ_NJOB; j++) {
			uint64_t v = LOAD(t->job[k][j]);
			if (!v)
				continue;
			buf_puts(o, "ghbridge_jobs_finished_total{kind=\"");
			metrics_label(o, k < nkinds && k < METRICS_KINDS - 1 ? kind_names[k] : "other");
			buf_printf(o, "\",outcome=\"%s\"} %llu\n", job_names[j], (unsigned long long)v);
		}
	head(o, "ghbridge_job_duration_seconds", "histogram", "Run time of job attempts, by kind.");
	for (int k = 0; k < METRICS_KINDS; k++) {
		uint64_t total = 0;
		for (int b = 0; b < JOB_N; b++)
			total += LOAD(t->job_dur[k][b]);
		if (!total)
			continue;
		const char *kn = k < nkinds && k < METRICS_KINDS - 1 ? kind_names[k] : "other";
		cum = 0;
		for (int b = 0; b < JOB_N; b++) {
			cum += LOAD(t->job_dur[k][b]);
			buf_puts(o, "ghbridge_job_duration_seconds_bucket{kind=\"");
			metrics_label(o, kn);
			if (b < JOB_N - 1)
				buf_printf(o, "\",le=\"%g\"} %llu\n", job_bounds[b], (unsigned long long)cum);
			else
				buf_printf(o, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		buf_puts(o, "ghbridge_job_duration_seconds_sum{kind=\"");
		metrics_label(o, kn);
		buf_printf(o, "\"} %.3f\n", (double)LOAD(t->job_dur_sum_ms[k]) / 1e3);
		buf_puts(o, "ghbridge_job_duration_seconds_count{kind=\"");
		metrics_label(o, kn);
		buf_printf(o, "\"} %llu\n", (unsigned long long)cum);
	}
	head(o, "ghbridge_syncs_total", "counter", "Sync attempts ended, by outcome.");
	for (int i = 0; i < MSY_NSYNC; i++)
		buf_printf(o, "ghbridge_syncs_total{outcome=\"%s\"} %llu\n", sync_names[i], (unsigned long long)LOAD(t->sync[i]));
	head(o, "ghbridge_sync_files_pushed_total", "counter", "Files changed by the commits syncs pushed.");
	buf_printf(o, "ghbridge_sync_files_pushed_total %llu\n", (unsigned long long)LOAD(t->sync_files));
	head(o, "ghbridge_sync_bytes_pushed_total", "counter", "Bytes sent to GitHub by sync pushes.");
	buf_printf(o, "ghbridge_sync_bytes_pushed_total %llu\n", (unsigned long long)LOAD(t->sync_bytes));
	head(o, "ghbridge_github_requests_total", "counter", "GitHub REST requests, by the status GitHub answered (0: no answer).");
	for (int st = 0; st < MS_NSTATUS; st++) {
		uint64_t v = LOAD(t->gh[st]);
		if (v)
			buf_printf(o, "ghbridge_github_requests_total{status=\"%s\"} %llu\n", status_names[st], (unsigned long long)v);
	}
	head(o, "ghbridge_github_ratelimit_remaining_min", "gauge", "Lowest X-RateLimit-Remaining GitHub reported to any process since they started (-1: none yet).");
	buf_printf(o, "ghbridge_github_ratelimit_remaining_min %lld\n", (long long)rmin);
	long long hr[MT_NTOKEN], hreset[MT_NTOKEN];
	metrics_github_headroom(hr, hreset);
	head(o, "ghbridge_github_ratelimit_remaining_window_min", "gauge", "Lowest X-RateLimit-Remaining among GitHub answers whose rate-limit window is not over, by the class of token sent (only classes seen in a live window).");
	for (int c = 0; c < MT_NTOKEN; c++)
		if (hr[c] >= 0)
			buf_printf(o, "ghbridge_github_ratelimit_remaining_window_min{token_class=\"%s\"} %lld\n", metrics_token_names[c], hr[c]);
	head(o, "ghbridge_github_ratelimit_window_reset_seconds", "gauge", "When that window ends (X-RateLimit-Reset, Unix time), by token class.");
	for (int c = 0; c < MT_NTOKEN; c++)
		if (hr[c] >= 0)
			buf_printf(o, "ghbridge_github_ratelimit_window_reset_seconds{token_class=\"%s\"} %lld\n", metrics_token_names[c], hreset[c]);
	head(o, "ghbridge_webhook_deliveries_total", "counter", "GitHub webhook deliveries received, by outcome.");
	for (int i = 0; i < MH_NHOOK; i++)
		buf_printf(o, "ghbridge_webhook_deliveries_total{outcome=\"%s\"} %llu\n", hook_names[i], (unsigned long long)LOAD(t->hook[i]));
	head(o, "ghbridge_db_errors_total", "counter", "Failed PostgreSQL statements (server errors and lost connections).");
	buf_printf(o, "ghbridge_db_errors_total %llu\n", (unsigned long long)LOAD(t->db_err));
	head(o, "ghbridge_db_reconnects_total", "counter", "PostgreSQL connections remade after one broke.");
	buf_printf(o, "ghbridge_db_reconnects_total %llu\n", (unsigned long long)LOAD(t->db_reconn));
	head(o, "ghbridge_processes", "gauge", "ghbridge processes (fcgi and worker) that have counted something and are alive.");
	buf_printf(o, "ghbridge_processes %d\n", live);
	head(o, "ghbridge_process_resident_memory_bytes", "gauge", "Resident memory of each live ghbridge process.");
	for (int i = 1; i < METRICS_SLOTS; i++) {
		int32_t pid = atomic_load(&slots[i].pid);
		long long r = pid > 0 ? rss_bytes(pid) : -1;
		if (r >= 0)
			buf_printf(o, "ghbridge_process_resident_memory_bytes{pid=\"%d\"} %lld\n", pid, r);
	}
	free(t);
}
