package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fixgraph/fixgraph/kv"
)

var (
	// bucketCrawlPages holds one CrawlRecord per department and normalised URL, under the key
	// department \x00 URL: each department's crawls keep their own state.
	bucketCrawlPages = []byte("crawlpages")
	// bucketCrawl holds the records of crawls made before state was kept per department, keyed
	// by URL alone. A department's crawl adopts those whose document it owns (AdoptCrawlRecords).
	bucketCrawl = []byte("crawl")
)

// CrawlRecord is what the state remembers of one URL a department's crawl fetched and wrote (or
// found to duplicate a document already written).
type CrawlRecord struct {
	Department   string    `json:"-"` // part of the key: the department whose crawl it is
	URL          string    `json:"-"` // part of the key: the normalised URL
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	Hash         string    `json:"hash"`   // sha256 of the body as fetched, hex
	Source       string    `json:"source"` // the document it went into: the URL, its canonical URL, or the page it duplicates
	CrawledAt    time.Time `json:"crawledAt"`
	Depth        int       `json:"depth"`           // link hops from a seed when it was found
	Scope        string    `json:"scope,omitempty"` // the scope of the crawl that found it
}

// crawlKey returns the key of url in department's state.
func crawlKey(department, url string) []byte {
	return []byte(department + "\x00" + url)
}

// CrawlRecord returns department's record of url, or nil when its crawls do not know it.
func (s *State) CrawlRecord(department, url string) (*CrawlRecord, error) {
	var rec *CrawlRecord
	err := s.view(bucketCrawlPages, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		v := b.Get(crawlKey(department, url))
		if v == nil {
			return nil
		}
		var err error
		rec, err = decodeCrawlRecord(department, url, v)
		return err
	})
	return rec, err
}

// PutCrawlRecord stores rec under its department and URL, replacing what was there.
func (s *State) PutCrawlRecord(rec *CrawlRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding crawl record %q: %w", rec.URL, err)
	}
	err = s.update(bucketCrawlPages, func(b kv.Bucket) error { return b.Put(crawlKey(rec.Department, rec.URL), v) })
	if err != nil {
		return fmt.Errorf("storing crawl record %q: %w", rec.URL, err)
	}
	return nil
}

// ForgetCrawlRecord deletes department's record of url and reports, in the same transaction,
// whether another of the department's records still names source as its document: when one does,
// the document is still served at another URL and must not be removed.
func (s *State) ForgetCrawlRecord(department, url, source string) (shared bool, err error) {
	err = s.update(bucketCrawlPages, func(b kv.Bucket) error {
		if err := b.Delete(crawlKey(department, url)); err != nil {
			return err
		}
		c := b.Cursor()
		p := crawlKey(department, "")
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			rec, err := decodeCrawlRecord(department, string(k[len(p):]), v)
			if err != nil {
				return err
			}
			if rec.Source == source {
				shared = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("forgetting crawl record %q: %w", url, err)
	}
	return shared, nil
}

// CrawlRecords returns department's records of the URLs that start with prefix, in URL order.
func (s *State) CrawlRecords(department, prefix string) ([]*CrawlRecord, error) {
	var out []*CrawlRecord
	err := s.view(bucketCrawlPages, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		c := b.Cursor()
		d := crawlKey(department, "")
		p := crawlKey(department, prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			rec, err := decodeCrawlRecord(department, string(k[len(d):]), v)
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// AdoptCrawlRecords moves the records of crawls made before state was kept per department, of the
// URLs that start with prefix, into department's state when owns says the department owns the
// record's document. Records it does not own stay for their department's crawl to adopt. It
// returns the number of records adopted.
func (s *State) AdoptCrawlRecords(department, prefix string, owns func(rec *CrawlRecord) (bool, error)) (int, error) {
	var legacy []*CrawlRecord
	err := s.view(bucketCrawl, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		c := b.Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			rec, err := decodeCrawlRecord(department, string(k), v)
			if err != nil {
				return err
			}
			legacy = append(legacy, rec)
		}
		return nil
	})
	if err != nil || len(legacy) == 0 {
		return 0, err
	}
	var mine []*CrawlRecord
	for _, rec := range legacy {
		ok, err := owns(rec)
		if err != nil {
			return 0, err
		}
		if ok {
			mine = append(mine, rec)
		}
	}
	if len(mine) == 0 {
		return 0, nil
	}
	err = s.db.Update(func(tx kv.Tx) error {
		old := tx.Bucket(bucketCrawl)
		pages := tx.Bucket(bucketCrawlPages)
		for _, rec := range mine {
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := pages.Put(crawlKey(department, rec.URL), v); err != nil {
				return err
			}
			if err := old.Delete([]byte(rec.URL)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("adopting crawl records under %q: %w", prefix, err)
	}
	return len(mine), nil
}

func decodeCrawlRecord(department, url string, v []byte) (*CrawlRecord, error) {
	rec := &CrawlRecord{Department: department, URL: url}
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("decoding crawl record %q: %w", url, err)
	}
	return rec, nil
}

// deptName names a department in messages; "" is the default department.
func deptName(department string) string {
	if department == "" {
		return "the default department"
	}
	return fmt.Sprintf("department %q", department)
}
