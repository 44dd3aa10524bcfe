-- 010_org_access.sql: how organisation members reach an organisation's repositories, as on GitHub (issue 14):
-- the organisation's base permission (docs "Setting base permissions for an organization", the REST field
-- default_repository_permission: read, write, admin or none; read for a new organisation), teams with
-- repository access (docs "Managing team access to an organization repository"), organisation owners
-- (memberships.role 'admin': admin on every repository) and direct collaborators. A person's access is
-- the highest of these (docs "Repository roles for an organization").

ALTER TABLE accounts ADD COLUMN default_repository_permission text NOT NULL DEFAULT 'read'
    CHECK (default_repository_permission IN ('read', 'write', 'admin', 'none'));

CREATE TABLE teams (
    id bigserial PRIMARY KEY,
    org_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    name text NOT NULL,
    slug text NOT NULL,
    created_at bigint NOT NULL,
    UNIQUE (org_id, slug)
);
CREATE TABLE team_members (
    team_id bigint NOT NULL REFERENCES teams ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE TABLE team_repos (
    team_id bigint NOT NULL REFERENCES teams ON DELETE CASCADE,
    repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
    permission text NOT NULL CHECK (permission IN ('pull', 'triage', 'push', 'maintain', 'admin')),
    PRIMARY KEY (team_id, repo_id)
);

-- 1 read/pull, 2 triage, 3 write/push, 4 maintain, 5 admin, 0 anything else.
CREATE FUNCTION fh_perm_level(p text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p WHEN 'pull' THEN 1 WHEN 'read' THEN 1 WHEN 'triage' THEN 2 WHEN 'push' THEN 3
                  WHEN 'write' THEN 3 WHEN 'maintain' THEN 4 WHEN 'admin' THEN 5 ELSE 0 END
$$;

-- usr's access to repo, 0..5: the owner, an organisation owner, the base permission of an organisation
-- member, their teams' grants, a direct collaborator's permission; the highest wins.
CREATE FUNCTION fh_repo_access(repo bigint, usr bigint) RETURNS int LANGUAGE sql STABLE AS $$
    SELECT coalesce(greatest(
        CASE WHEN r.owner_id = usr THEN 5 ELSE 0 END,
        (SELECT CASE WHEN m.role = 'admin' THEN 5 ELSE fh_perm_level(o.default_repository_permission) END
           FROM memberships m JOIN accounts o ON o.id = m.org_id WHERE m.org_id = r.owner_id AND m.user_id = usr),
        (SELECT max(fh_perm_level(tr.permission)) FROM team_repos tr JOIN team_members tm ON tm.team_id = tr.team_id
          WHERE tr.repo_id = r.id AND tm.user_id = usr),
        (SELECT fh_perm_level(c.permission) FROM collaborators c WHERE c.repo_id = r.id AND c.user_id = usr)), 0)
    FROM repos r WHERE r.id = repo
$$;
