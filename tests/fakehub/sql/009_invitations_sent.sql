-- 009_invitations_sent.sql: every repository invitation fakehub created, kept after it is accepted, declined,
-- cancelled or expired, for GitHub's limit (docs "Add a repository collaborator", Rate limits): "You are limited
-- to sending 50 invitations to a repository per 24 hour period." created_at is on the emulator's clock.

CREATE TABLE invitations_sent (
	id bigserial PRIMARY KEY,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	invitee_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	created_at bigint NOT NULL
);
CREATE INDEX invitations_sent_repo ON invitations_sent (repo_id, created_at);
