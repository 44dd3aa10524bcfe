-- 025_login_reuse.sql (issue 14, attacked): a GitHub login freed by a rename and taken by someone else.
-- GitHub frees a login the moment its owner renames, and anyone may take it at once (docs "Changing your
-- GitHub username"). ghbridge keeps the login GitHub last gave each person (users.login, unique; and each
-- project member's, unique per project) until that person signs in again, so a newcomer signing in with the
-- freed login was refused by users_login_lower (locked out), and a person renamed onto a login that a member
-- row still showed for another GitHub id failed users_take_invitations (locked out too).
-- Now the stale holder steps aside: its login becomes '~' and its GitHub id (never a GitHub login: '~' is not
-- a login character) until its own person signs in and their current login is taken up. Sessions, keys and
-- memberships follow ids, never logins, so nothing of theirs changes hands.

CREATE FUNCTION users_free_login() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET login = '~' || github_id, updated_at = now()
    WHERE lower(login) = lower(NEW.login) AND github_id <> NEW.github_id;
    RETURN NEW;
END $$;
CREATE TRIGGER users_free_login BEFORE INSERT OR UPDATE OF login ON users
    FOR EACH ROW EXECUTE FUNCTION users_free_login();

CREATE OR REPLACE FUNCTION users_take_invitations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Member rows still showing this login for another GitHub id (nobody signed in for them since their
    -- rename) step aside as users_free_login does.
    UPDATE project_members SET login = '~' || github_user_id
    WHERE lower(login) = lower(NEW.login) AND github_user_id IS NOT NULL AND github_user_id <> NEW.github_id;
    UPDATE project_members SET user_id = NEW.id, state = 'active', login = NEW.login
    WHERE github_user_id = NEW.github_id AND user_id IS NULL;
    UPDATE project_members SET login = NEW.login WHERE user_id = NEW.id AND login <> NEW.login;
    RETURN NULL;
END $$;
