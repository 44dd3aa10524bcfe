-- 018_lfs_threshold.sql: "store files over N MiB in Git LFS" (issue 16): a file in the folder larger than
-- this goes into a .gitattributes filter=lfs rule before the sync commits it, so that GitHub, which
-- refuses files over 100 MiB outside Git LFS, takes it. 0: off. GitHub's LFS objects are at most 2 GB on
-- its Free plan (docs "About Git Large File Storage").
ALTER TABLE projects ADD COLUMN lfs_threshold_mib integer NOT NULL DEFAULT 0
	CHECK (lfs_threshold_mib >= 0 AND lfs_threshold_mib <= 2048);
