-- 005_pulls.sql: pull requests as last seen on GitHub, each project's repository webhook, and the
-- webhook deliveries received. GitHub stays the source of truth: these rows are a cache the panel
-- reads without calling GitHub, kept fresh by webhooks and by conditional (ETag) requests.

CREATE TABLE pull_requests (
    project_id        bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number            integer NOT NULL CHECK (number > 0),
    gh_id             bigint,
    node_id           text,                 -- GraphQL id (ready-for-review is a GraphQL mutation)
    title             text NOT NULL DEFAULT '',
    body              text NOT NULL DEFAULT '',
    state             text NOT NULL CHECK (state IN ('open', 'closed', 'merged')),
    draft             boolean NOT NULL DEFAULT false,
    head_ref          text NOT NULL,
    head_sha          text NOT NULL DEFAULT '',
    base_ref          text NOT NULL,
    author            text NOT NULL DEFAULT '',
    html_url          text,
    mergeable         boolean,              -- NULL: GitHub has not computed it (yet)
    mergeable_state   text NOT NULL DEFAULT 'unknown',
    merged_by         text,
    merge_commit_sha  text,
    additions         integer NOT NULL DEFAULT 0,
    deletions         integer NOT NULL DEFAULT 0,
    changed_files     integer NOT NULL DEFAULT 0,
    commits           integer NOT NULL DEFAULT 0,
    -- checks: the combined commit status and the check runs of head_sha, summed up
    checks_state      text NOT NULL DEFAULT '' CHECK (checks_state IN ('', 'pending', 'success', 'failure')),
    checks            jsonb NOT NULL DEFAULT '[]',
    checks_sha        text,
    -- conditional requests: a 304 costs no rate limit
    etag              text,
    status_etag       text,
    runs_etag         text,
    files             jsonb,                -- [{filename,status,additions,deletions}], NULL until asked for
    files_etag        text,
    files_sha         text,
    gh_created_at     timestamptz,
    gh_updated_at     timestamptz,          -- GitHub's updated_at: an older event never overwrites a newer one
    closed_at         timestamptz,
    merged_at         timestamptz,
    refreshed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, number)
);
CREATE INDEX pull_requests_state ON pull_requests (project_id, state, number DESC);
CREATE INDEX pull_requests_head_sha ON pull_requests (project_id, head_sha);

-- Per project: the repository's merge settings and the ETags of the open-list and repository reads.
CREATE TABLE pull_settings (
    project_id         bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    allow_merge        boolean NOT NULL DEFAULT true,
    allow_squash       boolean NOT NULL DEFAULT true,
    allow_rebase       boolean NOT NULL DEFAULT true,
    delete_on_merge    boolean NOT NULL DEFAULT false,
    repo_etag          text,
    repo_refreshed_at  timestamptz,
    list_etag          text,
    list_refreshed_at  timestamptz
);

-- The repository webhook ghbridge registered for a project. The secret is sealed like the
-- GitHub tokens (crypto_seal, associated data 'webhook_secret:project:<id>').
CREATE TABLE webhooks (
    project_id        bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    repo_owner        text NOT NULL,
    repo_name         text NOT NULL,
    hook_id           bigint,               -- NULL until GitHub has answered the registration
    secret_sealed     text NOT NULL,
    url               text NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'error')),
    last_error        text,
    last_delivery_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_hook ON webhooks (hook_id) WHERE hook_id IS NOT NULL;
CREATE INDEX webhooks_repo ON webhooks (lower(repo_owner), lower(repo_name));

-- Every verified delivery of an event ghbridge uses, once: GitHub's delivery id is unique, so a
-- redelivery or a replay is recognised and does nothing again.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     text NOT NULL UNIQUE CHECK (length(delivery_id) BETWEEN 1 AND 100),
    event           text NOT NULL,
    action          text,
    hook_id         bigint,
    repo_owner      text NOT NULL,
    repo_name       text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    outcome         text NOT NULL DEFAULT 'queued' CHECK (outcome IN ('queued', 'done', 'failed')),
    detail          text,
    payload         jsonb NOT NULL DEFAULT '{}',   -- only the part of the event the job needs
    job_id          bigint,
    processed_at    timestamptz
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
