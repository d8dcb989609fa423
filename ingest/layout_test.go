package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/browser"
)

// printPDF prints an HTML page to PDF with headless Chromium, the way many manuals are made. It
// skips the test when Chromium or pdftotext is missing, unless CI is set.
func printPDF(t *testing.T, page string) []byte {
	t.Helper()
	chromium, err := browser.ExecPath()
	if err == nil {
		_, err = exec.LookPath("pdftotext")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("printing a test PDF: %v", err)
		}
		t.Skipf("printing a test PDF: %v", err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "page.html"), filepath.Join(dir, "page.pdf")
	if err := os.WriteFile(in, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-pdf-header-footer", "--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+out, in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v: %s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parsedCodes parses a PDF and returns its error codes, and each code's guide steps.
func parsedCodes(t *testing.T, data []byte) (map[string]*fixgraph.ErrorCode, map[string][]string) {
	t.Helper()
	b, err := (&Pipeline{}).Parse(context.Background(), "manual.pdf", data)
	if err != nil {
		t.Fatal(err)
	}
	codes := make(map[string]*fixgraph.ErrorCode)
	steps := make(map[string][]string)
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.ErrorCode:
			codes[n.Code] = n
		case *fixgraph.RepairGuide:
			steps[n.Code] = n.Steps
		}
	}
	return codes, steps
}

const layoutStyle = `<style>body{font-family:sans-serif;font-size:10pt} h1{font-size:20pt} h2{font-size:15pt}
table{border-collapse:collapse;width:100%} td,th{padding:3px;vertical-align:middle;text-align:left}
.ruled td,.ruled th{border:1px solid #000}</style>`

// TestPDFLayouts prints tables shaped as real manuals' are and reads them back: a ruled table of
// forty rows over three pages with its header repeated, codes of many forms (E-01, F01-E wrapped
// at its dash, E.21, bare numbers), cells wrapped over several lines and centred against taller
// neighbours, and one code spanning three cause/remedy sub-rows; a borderless table; and codes
// that head their own sections, with numbered steps under them.
func TestPDFLayouts(t *testing.T) {
	codeOf := func(i int) string {
		return []string{fmt.Sprintf("E-%02d", i), fmt.Sprintf("F%02d-E", i), fmt.Sprintf("E.%d", 20+i), fmt.Sprint(i), fmt.Sprintf("C%d", i)}[i%5]
	}
	t.Run("ruled table over pages", func(t *testing.T) {
		var rows strings.Builder
		for i := 1; i <= 40; i++ {
			if i%7 == 0 {
				fmt.Fprintf(&rows, `<tr><td rowspan="3">%s</td><td rowspan="3">Pumpe blockiert Nummer %d</td><td>Filter verstopft</td><td>Filter reinigen</td></tr>
<tr><td>Schlauch geknickt</td><td>Schlauch gerade legen</td></tr><tr><td>Pumpe defekt</td><td>Pumpe ersetzen lassen</td></tr>`, codeOf(i), i)
				continue
			}
			fmt.Fprintf(&rows, `<tr><td>%s</td><td>Störung Nummer %d%s</td><td>Ursache %d</td><td>Abhilfe für Nummer %d</td></tr>`,
				codeOf(i), i, strings.Repeat(" mit einem langen Text, der in der Zelle umbricht", i%3), i, i)
		}
		codes, steps := parsedCodes(t, printPDF(t, `<html><head><meta charset="utf-8">`+layoutStyle+`</head><body>
<h1>Geschirrspüler GS-500 Service</h1><h2>Fehlerliste</h2>
<table class="ruled"><thead><tr><th>Code</th><th>Bedeutung</th><th>Ursache</th><th>Abhilfe</th></tr></thead><tbody>`+rows.String()+`</tbody></table>
<h2>Wartung</h2><p>Reinigen Sie den Filter jede Woche.</p></body></html>`))
		for i := 1; i <= 40; i++ {
			ec := codes[codeOf(i)]
			if ec == nil {
				t.Errorf("code %s missing", codeOf(i))
				continue
			}
			want := fmt.Sprintf("Störung Nummer %d", i)
			if i%7 == 0 {
				want = fmt.Sprintf("Pumpe blockiert Nummer %d", i)
			}
			if got := ec.Symptom.In("de"); !strings.HasPrefix(got, want) || strings.Contains(got, "Nummer "+fmt.Sprint(i+1)) {
				t.Errorf("%s means %q, want %q", codeOf(i), got, want)
			}
		}
		if len(codes) != 40 {
			t.Errorf("%d codes, want 40", len(codes))
		}
		if got := steps[codeOf(21)]; !slices.Equal(got, []string{"Filter reinigen", "Schlauch gerade legen", "Pumpe ersetzen lassen"}) {
			t.Errorf("%s steps %q, want the three sub-rows' remedies", codeOf(21), got)
		}
		if ec := codes[codeOf(21)]; ec == nil || ec.Cause.In("de") != "Filter verstopft; Schlauch geknickt; Pumpe defekt" {
			t.Errorf("%s: %+v, want three causes", codeOf(21), ec)
		}
	})
	t.Run("borderless table", func(t *testing.T) {
		codes, steps := parsedCodes(t, printPDF(t, `<html><head><meta charset="utf-8">`+layoutStyle+`</head><body>
<h1>Display C240 user manual</h1><h2>Error code definition</h2>
<table style="width:80%"><tr><th>Error</th><th>Explanation</th><th>Troubleshooting</th></tr>
<tr><td>03</td><td>Brakes enabled</td><td>Check whether a brake cable is stuck.</td></tr>
<tr><td>07</td><td>High voltage protection</td><td>Bring your bike to your dealer or to a specialist to have the error fixed.</td></tr>
<tr><td>10</td><td>The motor temperature reaches the maximum protection value</td><td>Stop for a rest.</td></tr>
<tr><td>21</td><td>Fault with the wheel speed detecting sensor inside the motor housing</td><td>Bring your bike to your dealer.</td></tr>
</table><p>Note: error 10 appears when climbing for a long time.</p></body></html>`))
		want := map[string]string{"03": "Brakes enabled", "07": "High voltage protection", "10": "The motor temperature reaches the maximum protection value", "21": "Fault with the wheel speed detecting sensor inside the motor housing"}
		for code, meaning := range want {
			if ec := codes[code]; ec == nil || ec.Symptom.In("en") != meaning {
				t.Errorf("code %s: %+v, want meaning %q", code, ec, meaning)
			}
		}
		if got := strings.Join(steps["07"], " "); got != "Bring your bike to your dealer or to a specialist to have the error fixed." {
			t.Errorf("07 steps %q", got)
		}
	})
	t.Run("a code per heading", func(t *testing.T) {
		codes, steps := parsedCodes(t, printPDF(t, `<html><head><meta charset="utf-8">`+layoutStyle+`</head><body>
<h1>Breeze washer guide</h1><h2>Troubleshooting</h2>
<h3>E21 – Drain fault</h3><p>1. Unplug the washer. 2. Clean the drain filter. 3. Restart the programme.</p>
<h3>E22 – Heater fault</h3><p>Call the service centre.</p>
<h2>Care</h2><p>Model WF-8012D holds 8 kg; use A4 sheets for notes.</p></body></html>`))
		if len(codes) != 2 || codes["E21"] == nil || codes["E21"].Symptom.In("en") != "Drain fault" || codes["E22"] == nil {
			t.Fatalf("codes %v", slices.Sorted(func(yield func(string) bool) {
				for k := range codes {
					if !yield(k) {
						return
					}
				}
			}))
		}
		if got := steps["E21"]; len(got) != 3 || got[1] != "Clean the drain filter." {
			t.Errorf("E21 steps %q", got)
		}
	})
}

// TestPDFCodeColumnByContent reads a table whose code column has a header no header word names:
// its cells, codes on their own, say what it is.
func TestPDFCodeColumnByContent(t *testing.T) {
	codes, steps := parsedCodes(t, printPDF(t, `<html><head><meta charset="utf-8">`+layoutStyle+`</head><body>
<h1>Aircon AC-3 user manual</h1><h2>Indicator lamps</h2>
<table class="ruled"><tr><th>Indicator</th><th>Meaning</th><th>What to do</th></tr>
<tr><td>P1</td><td>Outdoor unit protection</td><td>Wait ten minutes.</td></tr>
<tr><td>dF</td><td>Defrosting</td><td>Nothing; heating resumes by itself.</td></tr>
<tr><td>88</td><td>Display board fault</td><td>Call the service centre.</td></tr>
</table></body></html>`))
	for code, meaning := range map[string]string{"P1": "Outdoor unit protection", "dF": "Defrosting", "88": "Display board fault"} {
		if ec := codes[code]; ec == nil || ec.Symptom.In("en") != meaning {
			t.Errorf("code %s: %+v, want %q", code, ec, meaning)
		}
	}
	if got := steps["88"]; len(got) != 1 || got[0] != "Call the service centre." {
		t.Errorf("88 steps %q", got)
	}
}

// TestPDFTablesSideBySide reads two code tables printed side by side under one header line.
func TestPDFTablesSideBySide(t *testing.T) {
	codes, _ := parsedCodes(t, printPDF(t, `<html><head><meta charset="utf-8">`+layoutStyle+`</head><body>
<h1>Oven OV-7 quick guide</h1><h2>Display codes</h2>
<table class="ruled"><tr><th>Code</th><th>Meaning</th><th>Code</th><th>Meaning</th></tr>
<tr><td>E1</td><td>Oven too hot</td><td>E4</td><td>Door lock fault</td></tr>
<tr><td>E2</td><td>Temperature sensor open</td><td>E5</td><td>Fan does not turn</td></tr>
<tr><td>E3</td><td>Heating element fault</td><td>E6</td><td>Keypad stuck, a key is held down</td></tr>
</table></body></html>`))
	want := map[string]string{"E1": "Oven too hot", "E2": "Temperature sensor open", "E3": "Heating element fault",
		"E4": "Door lock fault", "E5": "Fan does not turn", "E6": "Keypad stuck, a key is held down"}
	for code, meaning := range want {
		if ec := codes[code]; ec == nil || ec.Symptom.In("en") != meaning {
			t.Errorf("code %s: %+v, want %q", code, ec, meaning)
		}
	}
	if len(codes) != len(want) {
		t.Errorf("%d codes, want %d", len(codes), len(want))
	}
}
