// Package graph stores the knowledge graph, the source of truth: documents, their sections and the
// entities and relations read from them. Bolt is the embedded store on a bbolt file.
//
// Every node and edge records the documents that contributed it. Writing a new version of a document
// replaces exactly what the older version brought; nodes shared with other documents (a product, a
// part) keep the other documents' contributions, merged by fixgraph.MergeNodes.
package graph
