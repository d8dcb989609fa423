// Package editor will hold the content team's web editor, served by the same binary at /editor:
// search, entity pages with their graph neighbourhood, editing, review and publishing, revision
// history and the queue of questions bots could not answer. Nothing is built here yet.
package editor
