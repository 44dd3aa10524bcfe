-- 020_member_drift.sql: the periodic drift check of a project's collaborators (issue 14): GitHub's last
-- answers and their ETags per project (so an unchanged repository costs 304s, which GitHub does not count
-- against the rate limit), when the next check is due, the owner's "members are authoritative" setting, what
-- each finding allows ("Remove from GitHub" only for a direct collaborator or an invitation), and a log of
-- every collaborator call ghbridge made.

ALTER TABLE projects ADD COLUMN members_authoritative boolean NOT NULL DEFAULT false;

-- One row per connected project, made by the worker's sweep (first check one interval after it sees the
-- project). repo: lower-case owner/name the answers are for (another repository: start afresh). Each *_body is
-- a JSON array of the listing's pages as GitHub last answered them (each page reduced to what the check reads),
-- each *_etag the JSON array of those pages' ETags: every page is asked again with its own.
CREATE TABLE member_drift_state (
    project_id   bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    repo         text NOT NULL DEFAULT '',
    all_etag     text,
    all_body     text,
    direct_etag  text,
    direct_body  text,
    inv_etag     text,
    inv_body     text,
    personal     boolean,                 -- owned by a personal account; NULL: not known yet
    checked_at   timestamptz,
    next_at      timestamptz NOT NULL,
    last_result  text                     -- what the last check did, in words (304s, changes, a failure)
);
CREATE INDEX member_drift_state_next ON member_drift_state (next_at);

ALTER TABLE member_drift
    ADD COLUMN invitation_id bigint,
    ADD COLUMN removable     boolean NOT NULL DEFAULT false,   -- a direct collaborator or an invitation
    ADD COLUMN github_role   text,                              -- read/triage/write/maintain/admin as GitHub named it
    ADD COLUMN removing      boolean NOT NULL DEFAULT false;    -- members are authoritative: a removal is queued

-- Every collaborator call (PUT/DELETE of a collaborator or an invitation): one row per job, call and login,
-- updated by each attempt. failed: the job gave up (GitHub refused, or no answer after the last attempt);
-- retried: a person asked again (the new job has its own row). job_kind/job_payload redo it.
CREATE TABLE member_ops (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    job_id       bigint NOT NULL,
    login        text NOT NULL,
    action       text NOT NULL CHECK (action IN ('add', 'update_invitation', 'remove', 'remove_invitation')),
    request      text NOT NULL,                                -- "PUT /repos/o/r/collaborators/u (push)"
    state        text NOT NULL CHECK (state IN ('ok', 'retrying', 'failed', 'retried')),
    http_status  integer,                                      -- NULL: no answer
    answer       text,
    attempts     integer NOT NULL DEFAULT 1,
    job_kind     text NOT NULL,
    job_payload  text NOT NULL,
    unaccounted  boolean NOT NULL DEFAULT false,               -- a removal of someone no member accounts for
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, action, login)
);
CREATE INDEX member_ops_project ON member_ops (project_id, id DESC);
