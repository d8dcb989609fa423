// Package editor is the content team's web editor, served by the same binary at /editor/: search,
// entity pages with their graph neighbourhood, editing as drafts, review and publishing, revision
// history and rollback, the queue of questions bots could not answer, uploads and their progress.
// Drafts and revisions are kept in a kv store (Store); published changes go through the ingest
// pipeline into the graph like every other write (Service).
package editor
