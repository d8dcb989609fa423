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
	Lexical  float64   `json:"lexical,omitempty"` // the section's BM25 score for the query, 0 when BM25 did not find it
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
	AnswerFollowUp     = "followup"     // the conversation's problem is not solved: the next step, the part, the service option
	AnswerHandoff      = "handoff"      // the customer asked for a person, or complained
	AnswerSafety       = "safety"       // the message tells of danger: the safety step, and a person
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
	ID         string        `json:"id,omitempty"`    // the ask's id in the analytics log, for feedback
	Handoff    Handoff       `json:"handoff"`
	Safety     *SafetyStep   `json:"safety,omitempty"` // what to do first, when the message or the code is dangerous
	Related    []Related     `json:"related,omitempty"`
	Hits       []Hit         `json:"-"` // the search hits the answer was chosen from
}

// Conversation is what came before a question in a chat: the earlier turns and what the app
// knows of the customer's device.
type Conversation struct {
	ID       string `json:"id,omitempty"`
	Turns    []Turn `json:"turns,omitempty"`
	Model    string `json:"model,omitempty"`    // the device's model (WF-8012D)
	Firmware string `json:"firmware,omitempty"` // the device's firmware version
}

// Turn roles.
const (
	RoleCustomer = "customer"
	RoleBot      = "bot"
)

// Turn is one message of a conversation. A bot turn may say what it answered about.
type Turn struct {
	Role      string `json:"role"`
	Text      string `json:"text"`
	ErrorCode string `json:"errorCode,omitempty"`
	Product   string `json:"product,omitempty"`
	Kind      string `json:"kind,omitempty"`
}

// Hand-off reasons.
const (
	HandoffAsked         = "customer_asked" // the customer asked for a person
	HandoffLowConfidence = "low_confidence" // nothing fits well enough
	HandoffUnresolved    = "unresolved"     // three turns without a solution
	HandoffNoAnswer      = "nothing_found"  // the knowledge does not cover it
	HandoffDanger        = "danger"         // the message tells of smoke, fire, gas, a shock, an injury…
	HandoffComplaint     = "complaint"      // the customer complains or is very angry
	HandoffDangerousCode = "dangerous_code" // the error code's severity is danger
)

// Handoff is the decision to pass a conversation to a human agent, with what the agent needs.
type Handoff struct {
	Recommended bool         `json:"recommended"`
	Reason      string       `json:"reason,omitempty"`
	Summary     string       `json:"summary,omitempty"`     // the conversation in a few lines
	Product     string       `json:"product,omitempty"`     // detected model
	ErrorCode   string       `json:"errorCode,omitempty"`   // detected code
	Suggested   []string     `json:"suggested,omitempty"`   // what the bot already suggested
	Suggestions []Suggestion `json:"suggestions,omitempty"` // the top candidate solutions, with citations
	Matched     []string     `json:"matched,omitempty"`     // what was recognised: the lexicon's terms, or the dangerous code
	Hazards     []string     `json:"hazards,omitempty"`     // the kinds of danger recognised: smoke, gas, shock…
}

// SafetyStep is what a customer in danger should do first: a sentence of the knowledge that tells
// how to make the hazard safe (unplug, close the gas valve, leave the room), with its citation, or
// the lexicon's generic sentence when the knowledge has none.
type SafetyStep struct {
	Hazard   string    `json:"hazard,omitempty"` // smoke, fire, gas, shock…; empty for a dangerous code
	Text     string    `json:"text"`
	Default  bool      `json:"default"` // the generic sentence, not from the documents
	Citation *Citation `json:"citation,omitempty"`
}

// Suggestion is a candidate solution for the agent.
type Suggestion struct {
	Title    string   `json:"title"`
	Kind     string   `json:"kind"`
	Score    float64  `json:"score"`
	Citation Citation `json:"citation"`
}

// Related is knowledge the graph infers next to an answer: another code that needs the same part,
// a firmware upgrade that fixes the code.
type Related struct {
	Kind      string `json:"kind"` // "same_part", "firmware"
	Text      string `json:"text"`
	ErrorCode string `json:"errorCode,omitempty"`
	Product   string `json:"product,omitempty"`
	Part      string `json:"part,omitempty"`
}
