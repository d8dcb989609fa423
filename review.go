package fixgraph

import "time"

// Department is a department's settings, kept with the jobs in the ingest state.
type Department struct {
	Name string `json:"name"`
	// ReviewBeforePublish says that the documents the department's uploads and crawls write are
	// stored in review (StatusReview), which no bot reads, until a reviewer of the department
	// approves them.
	ReviewBeforePublish bool      `json:"reviewBeforePublish"`
	UpdatedAt           time.Time `json:"updatedAt,omitzero"`
	UpdatedBy           string    `json:"updatedBy,omitempty"`
}

// Review states of a document a job wrote, as its review lists it.
const (
	ReviewPending    = "pending"    // in review: no bot reads it until a reviewer approves
	ReviewApproved   = "approved"   // published
	ReviewRejected   = "rejected"   // removed from the graph and the index (kept in its history)
	ReviewSuperseded = "superseded" // a later upload or crawl wrote a newer version; its job reviews it
)

// ReviewItem is a document a job wrote where its department reviews before publishing, and
// where its review stands.
type ReviewItem struct {
	File     JobFile   `json:"file"`
	Document *Document `json:"document,omitempty"` // as stored now; nil once rejected
	State    string    `json:"state"`
}

// CanReview reports whether p may approve or reject what jobs of department wrote: an admin, or
// a reviewer of that department. Another department's reviewer may not.
func (p *Principal) CanReview(department string) bool {
	return p.Role == RoleAdmin || p.Role == RoleReviewer && department != "" && p.Department == department
}
