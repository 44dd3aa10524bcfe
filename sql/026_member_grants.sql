-- 026_member_grants.sql: three things the member jobs learn from GitHub and keep (issue 14).
--
-- gh_put_direct: whether the user had a direct grant on the repository (GET …/collaborators?affiliation=direct)
-- before ghbridge's PUT …/collaborators/{u}, recorded with the PUT mark (gh_put_at) before the PUT is sent. GitHub
-- answers that PUT 204 both when the user is a collaborator already and when an organisation member is added as
-- an individual collaborator (docs "Add a repository collaborator"): a 204 with no direct grant before means
-- ghbridge made it (gh_added), so removing the member removes exactly that grant, never one that was there
-- before. A worker killed after the PUT finds the mark and the recorded look, and does not look again (it
-- would see its own grant). NULL: not looked.
--
-- gh_state 'organisation': GitHub refused the role's permission because the organisation's base permission is
-- above it (422 "Cannot assign {member} permission of {role name}", docs "Add a repository collaborator"): the
-- member's access comes from the organisation, at least at the base permission. Access, not a failure: no
-- retry can change it. gh_permission is what GitHub gives them (GET …/collaborators/{u}/permission), gh_error
-- GitHub's words.
--
-- no_github_user: the lookup (GET /users/{login}) answered 404: the invitation can never become active.
ALTER TABLE project_members
    ADD COLUMN gh_put_direct  boolean,
    ADD COLUMN no_github_user boolean NOT NULL DEFAULT false;

ALTER TABLE project_members DROP CONSTRAINT project_members_gh_state_check;
ALTER TABLE project_members ADD CONSTRAINT project_members_gh_state_check
    CHECK (gh_state IN ('none', 'queued', 'invited', 'collaborator', 'skipped', 'error', 'expired', 'deferred',
                        'organisation'));
