// Package audit keeps an append-only, keyed and anchored hash chain of what people and programs
// did: sign-ins, key use, uploads, crawls, edits, publishing, rollbacks, role changes, backups and
// restores. PIPL, MLPS 2.0 and ISO 27001 ask for such a record and for tampering with it to be
// detectable.
//
// The log is a file of JSON lines, one [Entry] a line, written with O_APPEND, mode 0600, and
// fsynced before [Log.Append] returns. Each entry carries the hash of the one before it (Prev),
// the id of the key that keyed it (Key, see [KeyID]) and its own hash (Hash):
//
//	Hash = hex(HMAC-SHA256(key, Prev || canonical))
//
// where canonical is json.Marshal of the entry with Hash set to "" (the field is still written, as
// "hash":""). json.Marshal is deterministic for an Entry: struct fields come out in declaration
// order, the keys of the Detail map are sorted, times are written in RFC 3339 with nanoseconds, and
// strings are made valid UTF-8 before hashing. A stored line must be exactly the canonical encoding
// of the entry with its hash filled in, so no byte of a line can change without [Verify] noticing.
//
// Editing an entry breaks its hash; recomputing that hash needs the key, and breaks the Prev of
// the entry after it; deleting or reordering lines breaks the sequence numbers and the chain.
// Rewriting the whole log with a recomputed chain needs the key too. The key is kept outside the
// log: given to [OpenWith] (fixgraph reads it from $FIXGRAPH_AUDIT_KEY), or in a key file beside
// the log ([KeyFile], mode 0600, made on first use). A key file in the same directory stops those
// who can write the log but not read the key; against whoever holds the directory, keep the key
// elsewhere.
//
// What a chain alone cannot show is the loss of its newest entries, cut off at a line boundary.
// So each append also writes a [Checkpoint] to a file of its own ([CheckpointPath]), atomically:
// the head's sequence number and hash, the time, and where keying began, signed with the key.
// A log that ends before its checkpoint's head was cut short, and [Verify] names the first
// missing sequence number; one whose entry at that sequence number hashes otherwise was
// rewritten. Backups carry the checkpoint of the log they copy ([Log.Snapshot]), so a copy kept
// elsewhere anchors the log as it was then. A checkpoint one entry behind the log is accepted (the
// process died between the two writes); cutting the log back to an old checkpoint along with that
// checkpoint is what only a copy kept elsewhere shows.
//
// Logs written before logs were keyed (SHA-256 alone, Hash = hex(sha256(Prev || canonical)), no
// Key, no checkpoint) still verify. The first time one is opened with its key file it is migrated:
// its entries stay, keying starts with the next one, and the checkpoint records where, so those
// entries can no longer be rewritten or replaced by unkeyed ones unnoticed. [Inspect] reports how
// many entries were written before the key.
//
// One process owns a log file at a time; the Log serialises appends within it. Replicas that share
// their state keep one chain in PostgreSQL instead (package postgres), appended under a lock
// across them, each entry naming the replica that wrote it (Replica, covered by the hash like
// every field). That storage seals its entries with [Seal], holds its head against its
// checkpoint with [CheckLine] and [Checkpoint.Check], and signs checkpoints with
// [Checkpoint.Sign], so its lines are those a log file would hold: a [Chain]'s snapshot verifies
// with [VerifyReader] wherever it was kept.
package audit
