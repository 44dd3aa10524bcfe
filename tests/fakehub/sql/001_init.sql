-- 001_init.sql: fakehub's state: accounts, OAuth clients/codes/tokens, repositories, pulls, hooks, logs, faults.
-- Times are epoch seconds (bigint) so the test clock offset applies to them uniformly.

CREATE TABLE accounts (
	id bigserial PRIMARY KEY,
	login text NOT NULL,
	type text NOT NULL DEFAULT 'User' CHECK (type IN ('User', 'Organization')),
	name text,
	email text,
	created_at bigint NOT NULL
);
CREATE UNIQUE INDEX accounts_login ON accounts (lower(login));

CREATE TABLE memberships (
	org_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	role text NOT NULL DEFAULT 'member',
	PRIMARY KEY (org_id, user_id)
);

CREATE TABLE clients (
	client_id text PRIMARY KEY,
	client_secret text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('oauth', 'app')),
	name text NOT NULL,
	callback_url text NOT NULL,
	created_at bigint NOT NULL
);

CREATE TABLE clock (
	id int PRIMARY KEY CHECK (id = 1),
	offset_seconds bigint NOT NULL DEFAULT 0
);
INSERT INTO clock (id, offset_seconds) VALUES (1, 0);

CREATE TABLE oauth_codes (
	code_hash text PRIMARY KEY,
	client_id text NOT NULL REFERENCES clients ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	redirect_uri text,
	scope text NOT NULL DEFAULT '',
	code_challenge text,
	challenge_method text,
	expires_at bigint NOT NULL,
	used_at bigint
);

-- token_plain: test emulator only (see util.c): GitHub keeps only the hash.
CREATE TABLE tokens (
	id bigserial PRIMARY KEY,
	token_hash text NOT NULL UNIQUE,
	token_plain text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('access', 'refresh')),
	client_id text,
	user_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	scope text NOT NULL DEFAULT '',
	created_at bigint NOT NULL,
	expires_at bigint,
	revoked_at bigint
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE repos (
	id bigserial PRIMARY KEY,
	owner_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	name text NOT NULL,
	description text,
	private boolean NOT NULL DEFAULT false,
	default_branch text NOT NULL DEFAULT 'main',
	next_number int NOT NULL DEFAULT 1,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	pushed_at bigint
);
CREATE UNIQUE INDEX repos_owner_name ON repos (owner_id, lower(name));

CREATE TABLE collaborators (
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	permission text NOT NULL DEFAULT 'push',
	PRIMARY KEY (repo_id, user_id)
);

CREATE TABLE invitations (
	id bigserial PRIMARY KEY,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	invitee_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	inviter_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	permission text NOT NULL,
	created_at bigint NOT NULL,
	UNIQUE (repo_id, invitee_id)
);

CREATE TABLE pulls (
	id bigserial PRIMARY KEY,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	number int NOT NULL,
	user_id bigint NOT NULL REFERENCES accounts,
	title text NOT NULL,
	body text,
	state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
	draft boolean NOT NULL DEFAULT false,
	head_ref text NOT NULL,
	head_sha text NOT NULL,
	base_ref text NOT NULL,
	base_sha text NOT NULL,
	merged boolean NOT NULL DEFAULT false,
	merge_commit_sha text,
	merged_by bigint REFERENCES accounts,
	merged_at bigint,
	closed_at bigint,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	UNIQUE (repo_id, number)
);

CREATE TABLE statuses (
	id bigserial PRIMARY KEY,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	sha text NOT NULL,
	state text NOT NULL CHECK (state IN ('error', 'failure', 'pending', 'success')),
	context text NOT NULL DEFAULT 'default',
	description text,
	target_url text,
	creator_id bigint REFERENCES accounts,
	created_at bigint NOT NULL
);
CREATE INDEX statuses_sha ON statuses (repo_id, sha);

CREATE TABLE check_runs (
	id bigserial PRIMARY KEY,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	head_sha text NOT NULL,
	name text NOT NULL,
	status text NOT NULL DEFAULT 'completed' CHECK (status IN ('queued', 'in_progress', 'completed')),
	conclusion text,
	details_url text,
	started_at bigint NOT NULL,
	completed_at bigint
);
CREATE INDEX check_runs_sha ON check_runs (repo_id, head_sha);

CREATE TABLE hooks (
	id bigserial PRIMARY KEY,
	repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
	url text NOT NULL,
	secret text,
	content_type text NOT NULL DEFAULT 'form',
	events text[] NOT NULL DEFAULT '{push}',
	active boolean NOT NULL DEFAULT true,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);

CREATE TABLE deliveries (
	id bigserial PRIMARY KEY,
	guid text NOT NULL,
	hook_id bigint REFERENCES hooks ON DELETE CASCADE,
	repo_id bigint,
	event text NOT NULL,
	action text,
	payload text NOT NULL,
	request_headers text NOT NULL,
	status_code int,
	response_body text,
	error text,
	redelivery boolean NOT NULL DEFAULT false,
	delivered_at bigint NOT NULL,
	duration_ms double precision
);

CREATE TABLE requests (
	id bigserial PRIMARY KEY,
	at double precision NOT NULL,
	method text NOT NULL,
	path text NOT NULL,
	query text,
	status int NOT NULL,
	login text,
	client_id text,
	fault text,
	request_id text
);

CREATE TABLE faults (
	id bigserial PRIMARY KEY,
	method text NOT NULL DEFAULT '*',
	path_pattern text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('status', 'hang', 'rate_limit', 'secondary_rate_limit', 'drop')),
	status int,
	seconds double precision,
	remaining int NOT NULL DEFAULT 1,
	created_at bigint NOT NULL
);

CREATE TABLE rate_usage (
	key text PRIMARY KEY,
	reset_at bigint NOT NULL,
	used int NOT NULL DEFAULT 0
);

-- A webhook receiver inside fakehub, so tests can check what a hook really received.
CREATE TABLE sink (
	id bigserial PRIMARY KEY,
	name text NOT NULL,
	headers text NOT NULL,
	body text NOT NULL,
	at bigint NOT NULL
);
