package editor_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
)

// TestHTTPSetDocumentKind: a reviewer sets a manual's kind on its page, the page then says who set
// it, and ingest keeps the setting; an editor sees the kind and its reason but no form, and a
// reviewer of another department may not set it.
func TestHTTPSetDocumentKind(t *testing.T) {
	s := newSite(t)
	id := fixgraph.DocumentID("manuals/wf-8012d-zh.html")
	rev := s.signedIn(t, "rev")
	r := rev.page("/editor/entity?id=" + url.QueryEscape(id))
	d := r.doc(t)
	if got := d.Find("#kind-now").Text(); got != "manual" {
		t.Fatalf("the manual's page says it is read as %q\n%s", got, r.body)
	}
	action, v := form(t, r, "#doc-kind form")
	v.Set("kind", "policy")
	if r := rev.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("setting the kind: %d\n%s", r.status, r.body)
	}
	o, ok, err := s.kinds.KindOverride(id)
	if err != nil || !ok || o.Kind != fixgraph.KindPolicy || o.By != "rev" {
		t.Fatalf("kind kept: %+v %v %v", o, ok, err)
	}
	if got := rev.page("/editor/entity?id=" + url.QueryEscape(id)).doc(t).Find("#kind-set").Text(); !strings.Contains(got, "policy") || !strings.Contains(got, "rev") {
		t.Errorf("the page shows the setting as %q", got)
	}

	ed := s.signedIn(t, "ed")
	if d := ed.page("/editor/entity?id=" + url.QueryEscape(id)).doc(t); d.Find("#kind-now").Length() != 1 || d.Find("#doc-kind form").Length() != 0 {
		t.Error("an editor should see the kind and no form to set it")
	}
	sal := s.signedIn(t, "sal")
	if r := sal.post("/editor/kind", url.Values{"id": {id}, "kind": {"faq"}, "csrf": {sal.csrf}}); r.status != http.StatusForbidden {
		t.Errorf("a reviewer of sales setting a public manual's kind: %d", r.status)
	}
	if o, _, _ := s.kinds.KindOverride(id); o.Kind != fixgraph.KindPolicy {
		t.Errorf("after the refused setting the kind is %q", o.Kind)
	}
}
