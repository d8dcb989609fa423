// Package fixgraph holds the domain of the fixgraph knowledge graph: documents and their sections,
// products, error codes, repair guides, videos, parts, warehouses and stock, FAQs and policy clauses,
// the relations between them, and the application error type. It uses the standard library only;
// the stores, parsers and APIs in the sub-packages import it and never each other.
package fixgraph
