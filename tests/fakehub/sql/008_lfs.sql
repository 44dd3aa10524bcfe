-- 008_lfs.sql: fakehub's Git LFS server (issue 16): the objects each repository holds (the files live
-- under the data folder, lfs/<oid>), each account's storage and bandwidth quota, and a repository whose
-- LFS is turned off.

CREATE TABLE lfs_objects (
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	oid text NOT NULL,
	size bigint NOT NULL,
	PRIMARY KEY (repo_id, oid)
);

-- GitHub's free plan: 10 GiB of storage and 10 GiB of bandwidth a month per account
-- (docs "About storage and bandwidth usage"); the admin API sets other limits for tests.
CREATE TABLE lfs_quotas (
	account_id bigint PRIMARY KEY REFERENCES accounts ON DELETE CASCADE,
	storage_limit bigint NOT NULL DEFAULT 10737418240,
	bandwidth_limit bigint NOT NULL DEFAULT 10737418240,
	bandwidth_used bigint NOT NULL DEFAULT 0
);

ALTER TABLE repos ADD COLUMN lfs_disabled boolean NOT NULL DEFAULT false;
