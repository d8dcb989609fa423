// Package extract normalises text and finds what customer-service text names: error codes (E102,
// E-102, 故障码E1), part numbers and product models. Ingest uses it to link sections to entities, and
// search and answers use the same rules on questions, so both sides agree on what a code is.
package extract
