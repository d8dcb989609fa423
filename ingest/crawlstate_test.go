package ingest

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/fixgraph/fixgraph/kv"
)

// TestCrawlStateIsPerDepartment: departments' records of one URL are apart, listing and forgetting
// see one department's only, and the records of crawls made before state was kept per department
// go to the department that owns their document, the others staying where they were.
func TestCrawlStateIsPerDepartment(t *testing.T) {
	s, err := OpenState(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const u = "https://example.com/help/a.html"
	for _, rec := range []*CrawlRecord{
		{Department: "a", URL: u, Hash: "ha", Source: u},
		{Department: "b", URL: u, Hash: "hb", Source: u},
		{Department: "b", URL: u + "?print", Hash: "hb", Source: u},
	} {
		if err := s.PutCrawlRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	if rec, err := s.CrawlRecord("a", u); err != nil || rec == nil || rec.Hash != "ha" || rec.Department != "a" {
		t.Errorf("a's record: %+v, %v", rec, err)
	}
	if recs, err := s.CrawlRecords("b", "https://example.com/"); err != nil || len(recs) != 2 || recs[0].URL != u {
		t.Errorf("b's records: %+v, %v; want its two", recs, err)
	}
	if rec, err := s.CrawlRecord("c", u); err != nil || rec != nil {
		t.Errorf("c's record: %+v, %v; want none", rec, err)
	}
	// b still serves the document at ?print; a's forgetting its URL is a's alone.
	if shared, err := s.ForgetCrawlRecord("b", u, u); err != nil || !shared {
		t.Errorf("forgetting b's record: shared %v, %v; want shared with b's other URL", shared, err)
	}
	if shared, err := s.ForgetCrawlRecord("a", u, u); err != nil || shared {
		t.Errorf("forgetting a's record: shared %v, %v; want not shared (b's records are not a's)", shared, err)
	}

	// Records of the layout before departments, keyed by URL alone.
	legacy := map[string]string{ // URL → source
		"https://old.example/x.html": "https://old.example/x.html",
		"https://old.example/y.html": "https://old.example/y.html",
		"https://other.example/z":    "https://other.example/z",
	}
	err = s.update(bucketCrawl, func(b kv.Bucket) error {
		for k, src := range legacy {
			v, _ := json.Marshal(&CrawlRecord{Hash: "h", Source: src})
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	owns := func(rec *CrawlRecord) (bool, error) { return rec.Source == "https://old.example/x.html", nil }
	if n, err := s.AdoptCrawlRecords("b", "https://old.example/", owns); err != nil || n != 1 {
		t.Fatalf("adopting: %d, %v; want 1", n, err)
	}
	if rec, err := s.CrawlRecord("b", "https://old.example/x.html"); err != nil || rec == nil || rec.Source != "https://old.example/x.html" {
		t.Errorf("the adopted record: %+v, %v", rec, err)
	}
	left := 0
	s.view(bucketCrawl, func(b kv.Bucket) error { left = b.Len(); return nil })
	if left != 2 {
		t.Errorf("%d records of the old layout left; want the 2 b does not own", left)
	}
	if n, err := s.AdoptCrawlRecords("a", "https://old.example/", owns); err != nil || n != 0 {
		t.Errorf("adopting again: %d, %v; want none left to adopt", n, err)
	}
}
