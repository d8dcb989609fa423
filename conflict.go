package fixgraph

// Conflict is a field of a shared node that documents of different departments give different
// values: both are kept, each department's readers see their own, and a reviewer settles it by
// publishing an editorial version of the node, which wins for everyone.
type Conflict struct {
	Field   string          `json:"field"`   // the field's JSON path, e.g. "symptom.zh", "severity", "name.en"
	Values  []ConflictValue `json:"values"`  // every readable contribution's value of the field, by department and document
	Settled bool            `json:"settled"` // a published editorial document gives the field
}

// ConflictValue is what one document says of a conflicting field.
type ConflictValue struct {
	Department string     `json:"department"`
	Document   string     `json:"document"` // the contributing document's id
	Title      string     `json:"title,omitempty"`
	Source     string     `json:"source,omitempty"`
	Visibility Visibility `json:"visibility"`
	Editorial  bool       `json:"editorial,omitempty"` // the editor's version, which wins
	Value      string     `json:"value"`
}
