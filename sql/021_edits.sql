-- 021_edits.sql: who made each pending change, for the git author of the commit that carries it (issue 14),
-- and the address a member wants on their commits.
--
-- project_edits is advisory: the project folder stays the only source of truth for what changed. A row says
-- "user_id wrote or deleted path through ghbridge (API or panel)"; it is written after the change is in the
-- folder, so a crash in between loses only the name (the commit is then the project's account's, as for
-- edits made in the folder by other means), never a change. One row per (project, user, path): seq moves on
-- with each edit, so the table stays as small as the set of paths people touched since the last sync, and a
-- sync removes the rows it read (seq at most what it saw) once its commit is made.
CREATE SEQUENCE project_edits_seq;
CREATE TABLE project_edits (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    path       text NOT NULL CHECK (length(path) BETWEEN 1 AND 4096),
    seq        bigint NOT NULL DEFAULT nextval('project_edits_seq'),
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id, path)
);
CREATE INDEX project_edits_seq_idx ON project_edits (project_id, seq);

-- NULL: GitHub's no-reply address ID+login@users.noreply.github.com (docs "Setting your commit email address").
ALTER TABLE users ADD COLUMN commit_email text CHECK (commit_email IS NULL OR length(commit_email) BETWEEN 3 AND 254);
