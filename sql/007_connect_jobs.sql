-- 007_connect_jobs.sql: connecting a project to a repository is a job (kind `connect`), and the
-- "Link an existing repository" list is a per-user cache that a job (kind `github_repos`) refreshes,
-- so that no request waits for GitHub.

-- The latest request to connect each project: what was asked, how far its job got, why it failed.
CREATE TABLE project_connects (
    project_id       bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode             text NOT NULL CHECK (mode IN ('create', 'link')),
    owner            text NOT NULL,            -- the account asked for (the user's login when none was given)
    name             text NOT NULL,
    private          boolean NOT NULL DEFAULT true,
    description      text NOT NULL DEFAULT '',
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    step             text,                     -- what the job is doing, for the progress line
    error            text,                     -- in words a person can act on (also a retry's note)
    error_code       text,                     -- name_taken, not_found, no_push, github_reconnect, …
    job_id           bigint,
    -- "check before create": a create request went to GitHub at this time (its answer may have been
    -- lost), and the id GitHub gave the repository it created, so a redone job adopts its own repository
    -- instead of calling the name taken
    create_sent_at   timestamptz,
    created_repo_id  bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The repository whose history the workspace's git holds (lower-case "owner/name"). Connecting to
-- another one starts the workspace's git afresh: its files stay, the old repository's history does not
-- travel into the new one.
ALTER TABLE projects ADD COLUMN workspace_repo text;
UPDATE projects SET workspace_repo = lower(repo_owner || '/' || repo_name) WHERE repo_owner IS NOT NULL;

-- One row per user: the state of their cached repository list.
CREATE TABLE github_repo_lists (
    user_id       bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state         text NOT NULL DEFAULT 'refreshing' CHECK (state IN ('refreshing', 'ready', 'failed')),
    refreshed_at  timestamptz,                 -- when the rows in github_repos were read from GitHub
    requested_at  timestamptz NOT NULL DEFAULT now(),
    error         text,
    error_code    text,
    truncated     boolean NOT NULL DEFAULT false,
    job_id        bigint
);

-- The repositories the user can push to, in GitHub's order (by full name).
CREATE TABLE github_repos (
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pos             integer NOT NULL,
    full_name       text NOT NULL,
    owner           text NOT NULL,
    name            text NOT NULL,
    description     text,
    private         boolean NOT NULL DEFAULT false,
    default_branch  text,
    html_url        text,
    PRIMARY KEY (user_id, pos)
);
