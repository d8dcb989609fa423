// Package ingest turns files into the knowledge graph: it detects what a file is, parses HTML
// manuals (sections by heading, troubleshooting tables into error codes, repair guides, videos and
// parts), FAQ pages (schema.org FAQPage, dl/dt/dd, question headings), PDFs (sections with page
// numbers, table rows rebuilt from positioned text, error-code tables, pdftotext for garbled
// fonts) and stock feeds, and writes each file through the graph and then the search index.
//
// Word documents (docx.go), Markdown (markdown.go) and plain text (text.go) become an HTML page
// that the HTML reader splits as it splits a manual or a FAQ page (blocks.go); Excel workbooks
// (xlsx.go) are FAQ import sheets, or tables on such a page. Word and Excel files are read under
// zip and XML limits (office.go).
//
// Around the pipeline: zip archives read one entry at a time under limits (archive.go), a
// crawler that keeps a site's pages current (crawl.go), background jobs for uploads, paths and
// crawls that survive a restart (jobs.go, kept in the State file), and a stock feed poller
// (stockfeed.go).
package ingest
