package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketCrawl holds one CrawlRecord per normalised URL.
var bucketCrawl = []byte("crawl")

// CrawlRecord is what the state remembers of one URL a crawl fetched and wrote (or found to
// duplicate a document already written).
type CrawlRecord struct {
	URL          string    `json:"-"` // the key: the normalised URL
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	Hash         string    `json:"hash"`   // sha256 of the body as fetched, hex
	Source       string    `json:"source"` // the document it went into: the URL, its canonical URL, or the page it duplicates
	CrawledAt    time.Time `json:"crawledAt"`
	Depth        int       `json:"depth"`           // link hops from a seed when it was found
	Scope        string    `json:"scope,omitempty"` // the scope of the crawl that found it
}

// CrawlRecord returns the record of url, or nil when the state does not know it.
func (s *State) CrawlRecord(url string) (*CrawlRecord, error) {
	var rec *CrawlRecord
	err := s.view(bucketCrawl, func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		v := b.Get([]byte(url))
		if v == nil {
			return nil
		}
		var err error
		rec, err = decodeCrawlRecord(url, v)
		return err
	})
	return rec, err
}

// PutCrawlRecord stores rec under rec.URL, replacing what was there.
func (s *State) PutCrawlRecord(rec *CrawlRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding crawl record %q: %w", rec.URL, err)
	}
	err = s.update(bucketCrawl, func(b *bolt.Bucket) error { return b.Put([]byte(rec.URL), v) })
	if err != nil {
		return fmt.Errorf("storing crawl record %q: %w", rec.URL, err)
	}
	return nil
}

// ForgetCrawlRecord deletes the record of url and reports, in the same transaction, whether
// another record still names source as its document: when one does, the document is still served
// at another URL and must not be removed.
func (s *State) ForgetCrawlRecord(url, source string) (shared bool, err error) {
	err = s.update(bucketCrawl, func(b *bolt.Bucket) error {
		if err := b.Delete([]byte(url)); err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			if shared {
				return nil
			}
			rec, err := decodeCrawlRecord(string(k), v)
			if err != nil {
				return err
			}
			shared = rec.Source == source
			return nil
		})
	})
	if err != nil {
		return false, fmt.Errorf("forgetting crawl record %q: %w", url, err)
	}
	return shared, nil
}

// CrawlRecords returns the records of the URLs that start with prefix, in URL order.
func (s *State) CrawlRecords(prefix string) ([]*CrawlRecord, error) {
	var out []*CrawlRecord
	err := s.view(bucketCrawl, func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		c := b.Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			rec, err := decodeCrawlRecord(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

func decodeCrawlRecord(url string, v []byte) (*CrawlRecord, error) {
	rec := &CrawlRecord{URL: url}
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("decoding crawl record %q: %w", url, err)
	}
	return rec, nil
}
