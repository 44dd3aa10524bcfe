-- 027_member_calls.sql: fewer GitHub calls per member sync (issue 14's target: one write per member plus the
-- listing pages), without giving up the two checks made before each collaborator PUT.
--
-- login_confirmed_at: when GitHub last said that the member's login names their GitHub id (github_user_id): the
-- lookup (GET /users/{login}), the check before a PUT (the same call), or their sign-in here (GitHub's OAuth
-- answer, through users_take_invitations). Within 10 minutes of it the PUT goes without asking again
-- (src/service/members.c login_still_theirs); older, or NULL, and GitHub is asked as before. Any change of the
-- login or of the GitHub id that does not confirm the new pair at the same time clears it (the trigger below),
-- so a '~' placeholder or a stale row is never taken for confirmed.
--
-- member_direct_grants: one listing of a repository's direct collaborators (GET …/collaborators?affiliation=direct,
-- every page: GitHub user ids) shared by the jobs of one "sync all members" (only a listing read after the sync was
-- asked, at most 60 seconds old), instead of one listing per member; other member jobs read GitHub's. fetched_at
-- is when the reading began; repo the owner/name it was read from (a project connected elsewhere reads again).
-- Each 204 PUT adds its user; a collaborator DELETE by ghbridge drops the row.
ALTER TABLE project_members ADD COLUMN login_confirmed_at timestamptz;

CREATE FUNCTION project_members_confirm_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.login IS DISTINCT FROM OLD.login OR NEW.github_user_id IS DISTINCT FROM OLD.github_user_id)
       AND NEW.login_confirmed_at IS NOT DISTINCT FROM OLD.login_confirmed_at THEN
        NEW.login_confirmed_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER project_members_confirm_clear BEFORE UPDATE OF login, github_user_id ON project_members
    FOR EACH ROW EXECUTE FUNCTION project_members_confirm_clear();

-- As 025, and a sign-in (GitHub's OAuth answer names the person's id and current login) confirms their rows.
CREATE OR REPLACE FUNCTION users_take_invitations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE project_members SET login = '~' || github_user_id
    WHERE lower(login) = lower(NEW.login) AND github_user_id IS NOT NULL AND github_user_id <> NEW.github_id;
    IF left(NEW.login, 1) = '~' THEN
        -- users_free_login's placeholder: not a GitHub login, confirms nothing.
        UPDATE project_members SET user_id = NEW.id, state = 'active', login = NEW.login
        WHERE github_user_id = NEW.github_id AND user_id IS NULL;
        UPDATE project_members SET login = NEW.login WHERE user_id = NEW.id AND login <> NEW.login;
    ELSE
        UPDATE project_members SET user_id = NEW.id, state = 'active', login = NEW.login,
            login_confirmed_at = clock_timestamp()
        WHERE github_user_id = NEW.github_id AND user_id IS NULL;
        UPDATE project_members SET login = NEW.login, login_confirmed_at = clock_timestamp()
        WHERE user_id = NEW.id AND github_user_id = NEW.github_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TABLE member_direct_grants (
    project_id bigint PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    repo       text NOT NULL,
    fetched_at timestamptz NOT NULL,
    ids        bigint[] NOT NULL
);
