-- 017_members.sql: project members bound to GitHub user ids, invitations before sign-in, the last-owner
-- rule, and each member's access on the linked GitHub repository (issue 14).
--
-- A member is a GitHub user (github_user_id: GitHub's id, which stays when the login changes; login is the
-- login as last seen). user_id is the ghbridge account once that GitHub user has signed in; until then the
-- membership is 'invited' and gives no access. An invitation by login waits for the lookup job (GET
-- /users/{login}) to learn the id: github_user_id is NULL meanwhile, and lookup_error says why when GitHub
-- has no such user.

ALTER TABLE project_members DROP CONSTRAINT project_members_pkey;
ALTER TABLE project_members ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE project_members
    ADD COLUMN id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ADD COLUMN github_user_id bigint,
    ADD COLUMN login          text NOT NULL DEFAULT '' CHECK (length(login) <= 39),
    ADD COLUMN state          text NOT NULL DEFAULT 'active' CHECK (state IN ('invited', 'active')),
    ADD COLUMN invited_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN lookup_error   text,
    -- the member's access on GitHub, as ghbridge last asked for it and GitHub answered:
    -- none (nothing asked), queued, invited (a pending invitation gh_invitation_id), collaborator,
    -- skipped (not invited, gh_error says why), error (gh_error: GitHub's answer)
    ADD COLUMN gh_state       text NOT NULL DEFAULT 'none'
                              CHECK (gh_state IN ('none', 'queued', 'invited', 'collaborator', 'skipped', 'error')),
    ADD COLUMN gh_permission  text,
    ADD COLUMN gh_invitation_id bigint,
    ADD COLUMN gh_added       boolean NOT NULL DEFAULT false,   -- ghbridge added them: it may remove them
    ADD COLUMN gh_error       text,
    ADD COLUMN gh_attempts    integer NOT NULL DEFAULT 0,
    ADD COLUMN gh_updated_at  timestamptz,
    ADD CONSTRAINT project_members_active_user CHECK (state <> 'active' OR user_id IS NOT NULL);

UPDATE project_members m SET github_user_id = u.github_id, login = u.login FROM users u WHERE u.id = m.user_id;
-- Every project's owner is an owner member (004 made the row at creation; this covers any without).
INSERT INTO project_members (project_id, user_id, role, github_user_id, login)
SELECT p.id, p.owner_id, 'owner', u.github_id, u.login FROM projects p JOIN users u ON u.id = p.owner_id
WHERE NOT EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = p.owner_id);
UPDATE project_members m SET role = 'owner' FROM projects p
WHERE p.id = m.project_id AND p.owner_id = m.user_id AND m.role <> 'owner';

CREATE UNIQUE INDEX project_members_project_user ON project_members (project_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX project_members_project_ghid ON project_members (project_id, github_user_id)
    WHERE github_user_id IS NOT NULL;
CREATE UNIQUE INDEX project_members_project_login ON project_members (project_id, lower(login))
    WHERE github_user_id IS NULL;
CREATE INDEX project_members_ghid ON project_members (github_user_id) WHERE user_id IS NULL;

-- At least one active owner, always. Checked at commit (so a transfer may promote and demote in
-- either order) under a lock on the project row, so two transactions that each demote or remove one
-- of two owners cannot both pass: the second one waits, then sees the first one's commit. A project
-- being deleted takes its members with it: no project row, nothing to keep.
CREATE FUNCTION project_members_keep_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.role = 'owner' AND OLD.state = 'active' THEN
        PERFORM 1 FROM projects WHERE id = OLD.project_id FOR NO KEY UPDATE;
        IF FOUND AND NOT EXISTS (SELECT 1 FROM project_members
                                 WHERE project_id = OLD.project_id AND role = 'owner' AND state = 'active') THEN
            RAISE EXCEPTION 'project % would have no owner', OLD.project_id
                USING ERRCODE = 'GB014', HINT = 'Make another member an owner first.';
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER project_members_keep_owner AFTER UPDATE OR DELETE ON project_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION project_members_keep_owner();

-- A GitHub user who signs in (their users row is made or updated by GitHub id) takes up every
-- invitation made to that GitHub id; the login members show follows the user's.
CREATE FUNCTION users_take_invitations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE project_members SET user_id = NEW.id, state = 'active', login = NEW.login
    WHERE github_user_id = NEW.github_id AND user_id IS NULL;
    UPDATE project_members SET login = NEW.login WHERE user_id = NEW.id AND login <> NEW.login;
    RETURN NULL;
END $$;
CREATE TRIGGER users_take_invitations AFTER INSERT OR UPDATE OF github_id, login ON users
    FOR EACH ROW EXECUTE FUNCTION users_take_invitations();

-- What GitHub showed at the last drift check: collaborators and pending invitations no member
-- accounts for, and members whose access differs from their role. Replaced whole by each check.
CREATE TABLE member_drift (
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    login       text NOT NULL,
    github_user_id bigint,
    kind        text NOT NULL CHECK (kind IN ('not_member', 'invitation_not_member', 'missing', 'permission')),
    detail      text NOT NULL DEFAULT '',
    checked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_drift_project ON member_drift (project_id);
