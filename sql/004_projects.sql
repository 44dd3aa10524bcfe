-- 004_projects.sql: projects, their members, their GitHub link and sync settings, and the sync history.
-- A project's files live in a git working tree under the data folder (workspace); the
-- database holds what the panel shows and what the sync job needs to decide.

CREATE TABLE projects (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    workspace            text NOT NULL DEFAULT '',
    -- the linked repository (all NULL when not connected)
    repo_owner           text,
    repo_name            text,
    repo_default_branch  text,
    repo_html_url        text,
    repo_clone_url       text,
    repo_private         boolean,
    -- sync settings
    auto_sync            boolean NOT NULL DEFAULT true,
    sync_branch          text,               -- NULL: the repository's default branch
    commit_template      text NOT NULL DEFAULT 'ghbridge: {{files_changed}} file(s) from {{project}} at {{timestamp}}',
    exclude_patterns     text NOT NULL DEFAULT '',  -- gitignore syntax, one pattern a line
    batch_minutes        integer NOT NULL DEFAULT 0 CHECK (batch_minutes BETWEEN 0 AND 1440),
    pull_enabled         boolean NOT NULL DEFAULT true,
    -- state
    status               text NOT NULL DEFAULT 'IDLE'
                         CHECK (status IN ('IDLE', 'PENDING', 'SYNCING', 'SUCCESS', 'ERROR', 'CONFLICT')),
    last_error           text,
    last_commit_sha      text,
    last_sync_at         timestamptz,
    conflict_branch      text,
    conflict_url         text,
    progress             jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_owner ON projects (owner_id, id);

CREATE TABLE project_members (
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'maintainer', 'developer', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

-- One row per attempt of a sync job.
CREATE TABLE sync_history (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    job_id         bigint,
    trigger        text NOT NULL CHECK (trigger IN ('auto', 'manual', 'initial', 'pull', 'webhook', 'retry')),
    status         text NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'success', 'nochange', 'error', 'conflict')),
    commit_sha     text,
    files_changed  integer NOT NULL DEFAULT 0,
    additions      integer NOT NULL DEFAULT 0,
    deletions      integer NOT NULL DEFAULT 0,
    error          text,
    attempts       integer NOT NULL DEFAULT 1,
    files          jsonb NOT NULL DEFAULT '[]',
    started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at    timestamptz
);
CREATE INDEX sync_history_project ON sync_history (project_id, id DESC);
