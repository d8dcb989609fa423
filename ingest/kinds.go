package ingest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fixgraph/fixgraph/kv"

	"github.com/fixgraph/fixgraph"
)

// A department can correct the kind ingest gave a document (a manual read as a policy, a FAQ page
// read as a manual). The correction is kept apart from the document, in the pipeline's state, so
// it holds for every later version: each re-upload or re-crawl is read as the kind it was set to.

// KindOverrides tells the kind a document was set to, if any.
type KindOverrides interface {
	KindOverride(docID string) (KindOverride, bool, error)
}

// KindOverride is a document kind someone set.
type KindOverride struct {
	Kind fixgraph.DocKind `json:"kind"`
	By   string           `json:"by"`
	At   time.Time        `json:"at"`
}

var bucketKinds = []byte("kinds")

// Settable kinds: what a document can be read as.
var settableKinds = map[fixgraph.DocKind]bool{fixgraph.KindManual: true, fixgraph.KindPolicy: true, fixgraph.KindFAQ: true}

// SetKind records that the document docID is to be read as kind from now on; an empty kind
// removes the correction, so ingest decides again.
func (s *State) SetKind(docID string, kind fixgraph.DocKind, by string, at time.Time) error {
	if kind != "" && !settableKinds[kind] {
		return fixgraph.Errorf(fixgraph.EINVALID, "a document can be set to manual, policy or faq, not %q", kind)
	}
	return s.update(bucketKinds, func(b kv.Bucket) error {
		if kind == "" {
			return b.Delete([]byte(docID))
		}
		v, err := json.Marshal(KindOverride{Kind: kind, By: by, At: at.UTC()})
		if err != nil {
			return err
		}
		return b.Put([]byte(docID), v)
	})
}

// KindOverride returns the kind the document docID was set to.
func (s *State) KindOverride(docID string) (KindOverride, bool, error) {
	var o KindOverride
	found := false
	err := s.view(bucketKinds, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		v := b.Get([]byte(docID))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &o)
	})
	if err != nil {
		return KindOverride{}, false, fmt.Errorf("reading the kind set for %q: %w", docID, err)
	}
	return o, found, nil
}

var _ KindOverrides = (*State)(nil)
