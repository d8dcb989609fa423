-- The audit chain that every replica appends to (package audit's format): one row per entry,
-- holding its sealed line byte for byte, and one row holding the signed checkpoint of the head.

-- +goose Up
CREATE TABLE audit_entry (
	seq     bigint      PRIMARY KEY CHECK (seq > 0),
	line    bytea       NOT NULL,
	replica text        NOT NULL,
	time    timestamptz NOT NULL
);

CREATE INDEX audit_entry_time ON audit_entry (time);

CREATE TABLE audit_checkpoint (
	one        boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq        bigint  NOT NULL,
	checkpoint bytea   NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoint;
DROP TABLE audit_entry;
