-- 008_repo_ids.sql: the workspace's history is GitHub's repository by its numeric id, not by its name:
-- a repository renamed or moved to another owner while the project was disconnected keeps its id,
-- so reconnecting it under the new name keeps the workspace's history.

-- GitHub's id of the repository whose history the workspace's git holds. NULL for projects linked
-- before this migration: for them workspace_repo (lower-case "owner/name") still decides, until the
-- next link records the id.
ALTER TABLE projects ADD COLUMN workspace_repo_id bigint;

-- When ghbridge itself changed the user's repositories on GitHub (the connect job created one): a
-- list last asked for before this lacks it, so the next look at the list reads GitHub again.
ALTER TABLE github_repo_lists ADD COLUMN changed_at timestamptz;
