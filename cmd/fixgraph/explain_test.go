package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph/ingest"
)

// TestIngestExplain runs `ingest --explain` on a PDF service manual, an HTML manual and a policy:
// it says each one's kind and why, names the role of each table column, and lists the codes with
// their meaning, remedy and page, without creating a data directory.
func TestIngestExplain(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out := MustRun(t, "ingest", "--data", data, "--explain", "--json",
		"../../fixtures/manuals/dw-6035-service-zh.pdf", "../../fixtures/manuals/wf-8012d-en.html", "../../fixtures/policy/warranty-zh.pdf")
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("explain made the data directory (%v)", err)
	}
	var exs []ingest.Explanation
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ex ingest.Explanation
		if err := json.Unmarshal([]byte(line), &ex); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		exs = append(exs, ex)
	}
	if len(exs) != 3 {
		t.Fatalf("%d explanations, want 3:\n%s", len(exs), out)
	}
	pdf, html, policy := exs[0], exs[1], exs[2]
	if pdf.Kind != "manual" || !strings.Contains(pdf.KindReason, "error codes") || len(pdf.Tables) != 1 {
		t.Fatalf("service manual: kind %s (%s), %d tables", pdf.Kind, pdf.KindReason, len(pdf.Tables))
	}
	var roles []string
	for _, c := range pdf.Tables[0].Columns {
		roles = append(roles, c.Role)
	}
	if got := strings.Join(roles, ","); got != "code,symptom,cause,remedy,part" {
		t.Errorf("column roles %s", got)
	}
	if len(pdf.Codes) != 6 || pdf.Codes[0].Code != "F4" || pdf.Codes[0].Page != 1 || len(pdf.Codes[0].Remedy) == 0 || pdf.Codes[0].Symptom == "" {
		t.Errorf("codes %+v", pdf.Codes)
	}
	if html.Kind != "manual" || len(html.Tables) == 0 || len(html.Codes) == 0 {
		t.Errorf("HTML manual: kind %s, %d tables, %d codes", html.Kind, len(html.Tables), len(html.Codes))
	}
	if policy.Kind != "policy" || !strings.Contains(policy.KindReason, "clauses") || len(policy.Codes) != 0 {
		t.Errorf("policy: kind %s (%s), %d codes", policy.Kind, policy.KindReason, len(policy.Codes))
	}

	text := MustRun(t, "ingest", "--explain", "../../fixtures/manuals/dw-6035-service-zh.pdf")
	for _, want := range []string{"kind manual", "→ code", "code F4 (page 1)", "remedy:"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}
