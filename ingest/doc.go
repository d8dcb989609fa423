// Package ingest turns files into the knowledge graph: it detects what a file is, parses HTML
// manuals (sections by heading, troubleshooting tables into error codes, repair guides, videos and
// parts), FAQ pages (schema.org FAQPage, dl/dt/dd, question headings), policy PDFs (sections with
// page numbers, table rows rebuilt from positioned text, pdftotext for garbled fonts) and stock
// feeds, and writes each file through the graph and then the search index.
package ingest
