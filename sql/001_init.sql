-- 001_init.sql: the base schema every later migration builds on.
-- Timestamps are timestamptz; ids are bigint identities; secrets never appear in plaintext.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    github_id     bigint NOT NULL UNIQUE,
    login         text NOT NULL,
    name          text,
    email         text,
    avatar_url    text,
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_login_lower ON users (lower(login));
