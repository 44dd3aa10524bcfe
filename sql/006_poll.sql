-- 006_poll.sql: the periodic check of a connected project (the `poll` job): GitHub's sync branch by
-- conditional request, and the workspace folder for files the host platform wrote into it.

ALTER TABLE projects
    -- "owner/repo/branch" the ETag below belongs to: a new repository or sync branch starts afresh
    ADD COLUMN poll_key         text,
    -- GitHub's ETag of GET /repos/{o}/{r}/branches/{b}: sent as If-None-Match, a 304 costs no rate limit
    ADD COLUMN poll_etag        text,
    -- the branch tip GitHub answered with that ETag
    ADD COLUMN poll_remote_sha  text,
    -- a fingerprint of the workspace's unsynced files at the last check ('' when there were none),
    -- so that a change is reported once, not at every check while it waits
    ADD COLUMN poll_workspace   text,
    ADD COLUMN polled_at        timestamptz;

-- Projects connected before this migration get their periodic check without waiting for a sync.
INSERT INTO jobs (kind, project_id, dedup_key, priority, max_attempts)
SELECT 'poll', id, 'poll:' || id, 200, 10 FROM projects WHERE repo_owner IS NOT NULL
ON CONFLICT (dedup_key) WHERE state = 'queued' AND dedup_key IS NOT NULL DO NOTHING;
