-- 005_fidelity.sql: what makes fakehub answer as GitHub does where it used to be kinder (issue 12):
-- archived repositories, the merge-button settings, mergeability computed later, and request/answer
-- bodies in the request log for the contract test.

-- docs repos/update: archived, allow_merge_commit / allow_squash_merge / allow_rebase_merge (default true),
-- delete_branch_on_merge (default false).
ALTER TABLE repos ADD COLUMN archived boolean NOT NULL DEFAULT false;
ALTER TABLE repos ADD COLUMN allow_merge_commit boolean NOT NULL DEFAULT true;
ALTER TABLE repos ADD COLUMN allow_squash_merge boolean NOT NULL DEFAULT true;
ALTER TABLE repos ADD COLUMN allow_rebase_merge boolean NOT NULL DEFAULT true;
ALTER TABLE repos ADD COLUMN delete_branch_on_merge boolean NOT NULL DEFAULT false;

-- "head_sha base_sha" whose mergeability has been computed: the GET that first sees a pair answers
-- mergeable null and starts the computation (GitHub does it in the background); later answers carry it.
ALTER TABLE pulls ADD COLUMN mergeable_key text;

-- Test emulator only: the JSON bodies of REST requests and answers, for tests/contract.
ALTER TABLE requests ADD COLUMN request_body text;
ALTER TABLE requests ADD COLUMN response_body text;
