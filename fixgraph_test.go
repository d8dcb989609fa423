package fixgraph_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
)

func TestEditorialIDs(t *testing.T) {
	code := fixgraph.ErrorCodeID("wf-8012d", "e102")
	tests := []struct {
		name      string
		source    string
		wantID    string
		editorial bool
		entity    string
	}{
		{"error code", fixgraph.EditorialSource(code), "doc:editor:code:WF-8012D:E102", true, code},
		{"guide", fixgraph.EditorialSource("guide:ab12"), "doc:editor:guide:ab12", true, "guide:ab12"},
		{"file", "manuals/wf-8012d.html", fixgraph.HashID(fixgraph.PrefixDocument, "manuals/wf-8012d.html"), false, ""},
		// A source that only looks like an entity id is an ordinary one.
		{"not editorial", "code:WF-8012D:E102", fixgraph.HashID(fixgraph.PrefixDocument, "code:WF-8012D:E102"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fixgraph.DocumentID(tt.source)
			if id != tt.wantID {
				t.Errorf("DocumentID(%q) = %q, want %q", tt.source, id, tt.wantID)
			}
			if got := fixgraph.IsEditorial(id); got != tt.editorial {
				t.Errorf("IsEditorial(%q) = %v, want %v", id, got, tt.editorial)
			}
			if got := fixgraph.EditorialEntity(id); got != tt.entity {
				t.Errorf("EditorialEntity(%q) = %q, want %q", id, got, tt.entity)
			}
			if fixgraph.KindOf(id) != fixgraph.PrefixDocument {
				t.Errorf("KindOf(%q) = %q, want a document", id, fixgraph.KindOf(id))
			}
		})
	}
	if got := fixgraph.EditorialSource(code); got != "editor:"+code || !strings.HasPrefix(got, fixgraph.EditorialPrefix) {
		t.Errorf("EditorialSource(%q) = %q", code, got)
	}
	if fixgraph.IsEditorial("doc:editorial") || fixgraph.EditorialEntity("editor:"+code) != "" {
		t.Error("an id without the doc:editor: prefix counts as editorial")
	}
}

// TestDocumentDetachedRoundTrips: the edges an editorial document detaches are kept in its JSON,
// which is how the graph stores it, and an ingested document's JSON does not mention them.
func TestDocumentDetachedRoundTrips(t *testing.T) {
	e := fixgraph.Edge{From: fixgraph.ErrorCodeID("WF-8012D", "E102"), Rel: fixgraph.RelFixedBy, To: "guide:wrong"}
	d := fixgraph.Document{ID: fixgraph.DocumentID(fixgraph.EditorialSource(e.From)), Detached: []fixgraph.Edge{e}}
	v, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back fixgraph.Document
	if err := json.Unmarshal(v, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Detached, d.Detached) {
		t.Errorf("Detached after a round trip = %+v, want %+v", back.Detached, d.Detached)
	}
	v, _ = json.Marshal(fixgraph.Document{ID: "doc:x"})
	if strings.Contains(string(v), "detached") {
		t.Errorf("a document without detached edges encodes them: %s", v)
	}
}
