-- 003_auth.sql: sign-in state, sessions, GitHub connections (sealed tokens), API keys, server secrets.
-- Only hashes of bearer secrets (states, session tokens, API key secrets) are stored;
-- GitHub tokens are sealed with the master key (XChaCha20-Poly1305, see src/core/crypto.c).

-- Secrets of the server itself (the hashing pepper), sealed like everything else so
-- that a key rotation re-seals them too.
CREATE TABLE server_secrets (
    name        text PRIMARY KEY,
    sealed      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE oauth_states (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state_hash       text NOT NULL UNIQUE,
    presession_hash  text NOT NULL,
    verifier_sealed  text NOT NULL,
    return_to        text NOT NULL DEFAULT '/',
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

CREATE TABLE sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash    text NOT NULL UNIQUE,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ip            text,
    user_agent    text,
    ended_at      timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE github_connections (
    user_id               bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kind                  text NOT NULL CHECK (kind IN ('oauth', 'app')),
    access_token_sealed   text,
    refresh_token_sealed  text,
    access_expires_at     timestamptz,
    refresh_expires_at    timestamptz,
    scopes                text NOT NULL DEFAULT '',
    status                text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'needs_reconnect', 'disconnected')),
    status_reason         text,
    connected_at          timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id      text NOT NULL UNIQUE,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           text NOT NULL,
    secret_hash    text NOT NULL,
    scopes         text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz,
    last_used_at   timestamptz,
    last_used_ip   text,
    use_count      bigint NOT NULL DEFAULT 0,
    rate_window    timestamptz NOT NULL DEFAULT now(),
    rate_count     integer NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_user ON api_keys (user_id);
