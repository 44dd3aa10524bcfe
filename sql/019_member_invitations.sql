-- 019_member_invitations.sql: GitHub invitations followed past "invited" (issue 14): GitHub expires a pending
-- invitation 7 days after it was made (ghbridge re-invites once and says so), refuses more than 50 invitations
-- to a repository in 24 hours (the member's job waits, and the member says until when), and a PUT that may make
-- an invitation is marked before it is sent, so that a worker killed before recording GitHub's answer never
-- sends a second one: the next attempt looks at GitHub's invitations first.
ALTER TABLE project_members
    ADD COLUMN gh_put_at         timestamptz,              -- a PUT …/collaborators/{u} may be on its way
    ADD COLUMN gh_invited_at     timestamptz,              -- GitHub's created_at of the pending invitation
    ADD COLUMN gh_expired_at     timestamptz,              -- when the last invitation expired (created_at + 7 days)
    ADD COLUMN gh_reinvites      integer NOT NULL DEFAULT 0, -- re-invitations after an expiry (at most one by itself)
    ADD COLUMN gh_deferred_until timestamptz;              -- past the 50-a-day limit: not asked again before then

-- expired: the invitation expired (a re-invitation is queued, or was made once already: gh_error says which);
-- deferred: GitHub's 50-invitations-a-day limit was reached, asked again at gh_deferred_until.
ALTER TABLE project_members DROP CONSTRAINT project_members_gh_state_check;
ALTER TABLE project_members ADD CONSTRAINT project_members_gh_state_check
    CHECK (gh_state IN ('none', 'queued', 'invited', 'collaborator', 'skipped', 'error', 'expired', 'deferred'));
