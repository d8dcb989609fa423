// Package ingest turns files into the knowledge graph: it detects what a file is, parses HTML
// manuals (sections by heading, troubleshooting tables into error codes, repair guides, videos and
// parts), FAQ pages (schema.org FAQPage, dl/dt/dd, question headings), PDFs (sections with page
// numbers, table rows rebuilt from positioned text, error-code tables, pdftotext for garbled
// fonts) and stock feeds, and writes each file through the graph and then the search index.
//
// Around the pipeline: zip archives read one entry at a time under limits (archive.go), a
// crawler that keeps a site's pages current (crawl.go), background jobs for uploads, paths and
// crawls that survive a restart (jobs.go, kept in the State file), and a stock feed poller
// (stockfeed.go).
package ingest
