// Package answer is the query side: it turns a question into an answer with citations and a
// confidence, a code into its troubleshooting path, and a query into hits with snippets, reading
// the graph (the source of truth) and the search index through small interfaces.
package answer
