-- 004_protection.sql: branch protection (docs "Update branch protection"), and a record of every push
-- (git-receive-pack POST) with its size, so that tests can tell how much a client pushed (issue 12: a
-- refused 102 MiB pack was sent 32 times).

-- config: the PUT body as GitHub keeps it (required_status_checks, enforce_admins,
-- required_pull_request_reviews, restrictions, allow_force_pushes, allow_deletions, …).
CREATE TABLE branch_protections (
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	branch text NOT NULL,
	config jsonb NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (repo_id, branch)
);

-- Test emulator only: refused lists the refs the pre-receive checks turned down (GH001, GH006).
CREATE TABLE pushes (
	id bigserial PRIMARY KEY,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	login text,
	bytes bigint NOT NULL,
	status int NOT NULL,
	refused text,
	at bigint NOT NULL
);
