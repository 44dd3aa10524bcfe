-- 003_repo_redirects.sql: a renamed repository's old name leads to it, as on GitHub ("Renaming a
-- repository": web, git and API traffic to the old name is redirected), until another repository
-- takes that name: from then on the old name is that repository.
CREATE TABLE repo_redirects (
	owner_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	name text NOT NULL,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	created_at bigint NOT NULL
);
CREATE UNIQUE INDEX repo_redirects_owner_name ON repo_redirects (owner_id, lower(name));
