package fixgraph

// SearchFilter narrows a search. Empty fields do not filter.
type SearchFilter struct {
	Kinds      []DocKind
	Languages  []string
	Statuses   []Status
	Visibility []Visibility
	// Products keeps sections about one of these models, and sections tied to no product
	// (a delivery FAQ, a returns policy), which hold for every model.
	Products []string
}

// Hit is a section that matched a search, with the document it belongs to.
type Hit struct {
	Section  *Section  `json:"section"`
	Document *Document `json:"document"`
	Score    float64   `json:"score"`
	Snippet  string    `json:"snippet"`
}

// Citation points to where an answer came from.
type Citation struct {
	SectionID   string   `json:"sectionId"`
	DocumentID  string   `json:"documentId"`
	Document    string   `json:"document"` // the document's title
	Source      string   `json:"source"`   // path or URL of the document
	URL         string   `json:"url"`      // source with the section's anchor, when it has one
	Heading     string   `json:"heading"`
	HeadingPath []string `json:"headingPath"`
	Page        int      `json:"page,omitempty"`
}

// Answer kinds.
const (
	AnswerTroubleshoot = "troubleshoot" // an error code with its repair guide
	AnswerFAQ          = "faq"          // a FAQ entry's answer
	AnswerPolicy       = "policy"       // a policy clause
	AnswerSection      = "section"      // a passage of a manual
	AnswerNone         = "none"         // nothing good enough was found
)

// Answer is the reply to a customer's question.
type Answer struct {
	Question   string        `json:"question"`
	Language   string        `json:"language"`
	Kind       string        `json:"kind"`
	Text       string        `json:"text"` // the answer in prose: a FAQ answer, a clause, a passage or a guide's title
	Product    *Product      `json:"product,omitempty"`
	ErrorCode  *ErrorCode    `json:"errorCode,omitempty"`
	Guide      *RepairGuide  `json:"guide,omitempty"`
	FAQ        *FAQ          `json:"faq,omitempty"`
	Clause     *PolicyClause `json:"clause,omitempty"`
	Citations  []Citation    `json:"citations"`
	Confidence float64       `json:"confidence"`      // in [0,1]
	Notes      []string      `json:"notes,omitempty"` // what the customer should know besides, such as stale stock
	Hits       []Hit         `json:"-"`               // the search hits the answer was chosen from
}
