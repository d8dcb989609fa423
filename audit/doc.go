// Package audit keeps an append-only, hash-chained log of what people and programs did: sign-ins,
// key use, uploads, crawls, edits, publishing, rollbacks, role changes, backups and restores. PIPL,
// MLPS 2.0 and ISO 27001 ask for such a record and for tampering with it to be detectable.
//
// The log is a file of JSON lines, one [Entry] a line, written with O_APPEND, mode 0600, and
// fsynced before [Log.Append] returns. Each entry carries the hash of the one before it (Prev) and
// its own hash (Hash):
//
//	Hash = hex(sha256(Prev || canonical))
//
// where canonical is json.Marshal of the entry with Hash set to "" (the field is still written, as
// "hash":""). json.Marshal is deterministic for an Entry: struct fields come out in declaration
// order, the keys of the Detail map are sorted, times are written in RFC 3339 with nanoseconds, and
// strings are made valid UTF-8 before hashing. A stored line must be exactly the canonical encoding
// of the entry with its hash filled in, so no byte of a line can change without [Verify] noticing.
//
// Editing an entry breaks its hash; recomputing that hash breaks the Prev of the entry after it;
// deleting or reordering lines breaks the sequence numbers and the chain. What a chain alone cannot
// show is the loss of the newest entries cut off at a line boundary: for that, keep the head
// ([Log.Head]: the last sequence number and hash) somewhere else — in a backup manifest, a ticket or
// another system's log — and compare it with what Verify reports.
//
// One process owns a log file at a time; the Log serialises appends within it.
package audit
