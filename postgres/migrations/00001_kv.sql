-- The key-value tables that every state store of fixgraph (accounts, drafts, jobs, analytics…)
-- lives in: one row per key, grouped by store and bucket, ordered by key bytes.

-- +goose Up
CREATE TABLE kv (
	store  text  NOT NULL,
	bucket bytea NOT NULL,
	key    bytea NOT NULL,
	value  bytea NOT NULL,
	PRIMARY KEY (store, bucket, key)
);

CREATE TABLE kv_sequence (
	store  text   NOT NULL,
	bucket bytea  NOT NULL,
	n      bigint NOT NULL,
	PRIMARY KEY (store, bucket)
);

-- +goose Down
DROP TABLE kv_sequence;
DROP TABLE kv;
