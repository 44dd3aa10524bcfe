-- 002_jobs.sql: the job queue every slow GitHub task runs through (claimed by `ghbridge worker`).
-- project_id has no foreign key yet: the projects table arrives with a later migration,
-- which can add the constraint.

CREATE TABLE jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue         text NOT NULL DEFAULT 'default',
    kind          text NOT NULL,
    project_id    bigint,
    payload       jsonb NOT NULL DEFAULT '{}',
    priority      integer NOT NULL DEFAULT 100,       -- lower runs first
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'done', 'dead', 'cancelled')),
    run_after     timestamptz NOT NULL DEFAULT now(),
    dedup_key     text,
    enqueues      integer NOT NULL DEFAULT 1,         -- enqueue calls coalesced into this row
    attempts      integer NOT NULL DEFAULT 0,         -- attempts spent (rate-limit waits give theirs back)
    max_attempts  integer NOT NULL DEFAULT 10 CHECK (max_attempts >= 1),
    claims        integer NOT NULL DEFAULT 0,         -- fencing token: bumped by every claim
    locked_by     text,
    locked_until  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);

-- While a job with a dedup key waits, enqueueing the same key updates it (ON CONFLICT).
-- Running jobs are outside the index on purpose: a change made during a sync needs a new one.
CREATE UNIQUE INDEX jobs_dedup ON jobs (dedup_key) WHERE state = 'queued' AND dedup_key IS NOT NULL;
-- The claim scans this in order and stops at the first job it can lock.
CREATE INDEX jobs_ready ON jobs (queue, priority, run_after, id) WHERE state = 'queued';
-- Lease reaping, and "does this project have a job running right now?".
-- Every state change is a non-HOT update that adds an entry to each index whose
-- predicate the new row matches, so indexes here stay partial and few: a
-- full index on project_id would cost every claim and completion a write.
CREATE INDEX jobs_running_lease ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_running_project ON jobs (project_id) WHERE state = 'running' AND project_id IS NOT NULL;
CREATE INDEX jobs_waiting_project ON jobs (project_id) WHERE state IN ('queued', 'dead') AND project_id IS NOT NULL;
CREATE INDEX jobs_dead ON jobs (updated_at DESC) WHERE state = 'dead';

-- A trigger rather than a call in the enqueue statement so that every way a job
-- becomes queued (enqueue, retry, a backoff, SQL typed by an operator) wakes the workers.
-- The payload is the queue name; workers of other queues just find nothing to claim.
CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ghbridge_jobs', NEW.queue);
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION jobs_notify();
CREATE TRIGGER jobs_notify_update AFTER UPDATE OF state, run_after ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION jobs_notify();

-- Written by the built-in `test` job kind only: one row per run, so tests can check
-- exactly-once execution and that two runs of one project never overlap.
CREATE TABLE job_test_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       bigint NOT NULL,
    project_id   bigint,
    attempt      integer NOT NULL,
    worker       text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz
);
CREATE INDEX job_test_runs_job ON job_test_runs (job_id);
