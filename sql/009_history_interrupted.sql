-- 009_history_interrupted.sql: a sync history row never stays 'running' without a live job behind it.
-- A worker killed mid-sync (SIGKILL, a lost machine) leaves its row 'running'; the job itself comes back
-- when its lease expires (reaped: queued again, or dead after its last attempt) or is cancelled. The row
-- now ends as 'interrupted', with the reason, in the same transaction as the job's state change.

ALTER TABLE sync_history DROP CONSTRAINT sync_history_status_check;
ALTER TABLE sync_history ADD CONSTRAINT sync_history_status_check
    CHECK (status IN ('running', 'success', 'nochange', 'error', 'conflict', 'interrupted'));

-- Only the few rows still running: the trigger's lookup stays an index probe however long history grows.
CREATE INDEX sync_history_running_job ON sync_history (job_id) WHERE status = 'running';

-- A trigger rather than a clause in each statement, so that every way a job stops running (the reaper,
-- a failure that buries it, a cancel, SQL typed by an operator) ends its rows. A handler that finishes
-- normally has ended its row before its job leaves 'running', so this touches nothing then. A stalled
-- (not dead) worker that finishes later still writes its real outcome over 'interrupted'.
CREATE FUNCTION sync_history_interrupt() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    why text := coalesce(NEW.last_error, 'no reason recorded');
BEGIN
    UPDATE sync_history SET status = 'interrupted', finished_at = clock_timestamp(),
        error = 'The worker stopped before this attempt ended (' || why || '); ' ||
            CASE NEW.state
                WHEN 'queued' THEN format('the sync is retried as attempt %s of %s.', NEW.attempts + 1, NEW.max_attempts)
                WHEN 'dead' THEN format('the sync was given up after %s attempts.', NEW.attempts)
                WHEN 'cancelled' THEN 'the job was cancelled.'
                ELSE 'the job ended without finishing this attempt.'
            END
     WHERE job_id = NEW.id AND status = 'running';
    RETURN NULL;
END $$;

-- Only sync jobs write sync history (pulls and webhooks' pulls are sync jobs too); other kinds skip the
-- call (about 8 µs per job end measured for a sync job's, on a loaded 2-core machine).
CREATE TRIGGER jobs_interrupt_history AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state <> 'running' AND NEW.kind = 'sync')
    EXECUTE FUNCTION sync_history_interrupt();

-- Rows left running before this migration by workers that are gone.
UPDATE sync_history h SET status = 'interrupted', finished_at = coalesce(h.finished_at, clock_timestamp()),
    error = 'The worker stopped before this attempt ended.'
 WHERE h.status = 'running'
   AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = h.job_id AND j.state = 'running');
