-- 022_ops_keys_workers.sql (issue 15): API keys counted without a hot row, the IPs a key was used from,
-- and a heartbeat row per worker process.

-- A key's own limit in requests per minute (NULL: the api_rate_limit setting). Read with the key on
-- every request, so it costs nothing; a CI key can be held tighter than people's keys.
ALTER TABLE api_keys ADD COLUMN rate_limit integer CHECK (rate_limit > 0);
-- When the log last said that a request came with this key after it expired (at most once a day per
-- key, so a forgotten cron job cannot fill the audit log).
ALTER TABLE api_keys ADD COLUMN expiry_noted_at timestamptz;

-- The addresses a key was used from: a request from one not here writes auth.apikey_new_ip. Bounded:
-- at most 32 per key (the least recently seen go first; src/store/auth.c).
CREATE TABLE api_key_ips (
    key_id         bigint NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    ip             text NOT NULL CHECK (length(ip) <= 64),
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, ip)
);

-- One row per worker process, written at most every 10 seconds by the process itself (src/jobs/worker.c)
-- and deleted when it stops; rows not seen for 10 minutes are pruned by any worker.
CREATE TABLE worker_heartbeats (
    host          text NOT NULL CHECK (length(host) <= 255),
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    job_id        bigint,                 -- the job in hand at the last beat (no foreign key: jobs are purged)
    job_kind      text,
    PRIMARY KEY (host, pid)
);
