-- 002_token_pairs.sql: a refresh token remembers the user access token issued with it, so that
-- refreshing retires both (docs: "Refreshing user access tokens").
ALTER TABLE tokens ADD COLUMN pair_id bigint;
