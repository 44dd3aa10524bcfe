-- 011_push_refused.sql: the sync branch GitHub refused a push to with a refusal no retry changes
-- (GH006: a protected branch). While it is set (and the project has its side branch), automatic syncs
-- send the project's changes to the side branch and its pull request instead of pushing to the branch
-- again (issue 12: 34 refused pushes); "Sync now" tries the branch once more.
ALTER TABLE projects ADD COLUMN push_refused_branch text;
