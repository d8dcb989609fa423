package analytics

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph/kv"

	"golang.org/x/text/unicode/norm"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/bolt"
)

var (
	bucketEvents = []byte("events") // event key (16 bytes) → Event JSON
	bucketIndex  = []byte("index")  // dimension byte, value, 0x00, event key → nothing
)

// The dimensions kept in the index.
const (
	dimCode    byte = 'c'
	dimProduct byte = 'p'
)

// Limits on what one event may hold. Longer questions and comments are cut at a character
// boundary; a longer code or product is refused.
const (
	MaxText = 2000 // characters of a question or a comment
	MaxKey  = 128  // bytes of a code, a product, a language or a kind
	MaxID   = 256  // bytes of a conversation or principal id
)

// ClusterThreshold is the token-set Jaccard similarity at or above which [Store.Unanswered]
// puts a phrasing in the group of an earlier, more frequent one.
const ClusterThreshold = 0.5

// MaxGroupPhrasings is how many distinct phrasings a [Group] lists.
const MaxGroupPhrasings = 10

// MaxGroupEvents is how many ask ids a [Group] lists: the latest; Count has them all.
const MaxGroupEvents = 100

// exampleSample is how many of a code's or product's most recent asks [Store.Top] reads to pick
// its representative question.
const exampleSample = 50

// maxBuckets bounds the points of one [Store.Series] and the windows of one [Store.Surges].
const maxBuckets = 100_000

// Event is one question a bot asked fixgraph, with what fixgraph answered.
type Event struct {
	ID           string    `json:"id"`                     // assigned by Record: sortable by time, unique
	Time         time.Time `json:"time"`                   // assigned by Record when zero (Store.Now)
	Question     string    `json:"question"`               // already masked by the caller
	Language     string    `json:"language"`               // "zh" or "en"; guessed from the question when empty
	Product      string    `json:"product,omitempty"`      // model, e.g. WF-8012D
	Code         string    `json:"code,omitempty"`         // error code, e.g. E102
	Kind         string    `json:"kind"`                   // troubleshoot, faq, policy, section, followup, none
	Confidence   float64   `json:"confidence"`             // the answer's confidence
	Answered     bool      `json:"answered"`               // false when nothing fitted or confidence was under the hand-off threshold
	Handoff      bool      `json:"handoff"`                // the question went to a person
	Conversation string    `json:"conversation,omitempty"` // a caller's conversation id
	Principal    string    `json:"principal,omitempty"`    // who asked (key id)
	Helpful      *bool     `json:"helpful,omitempty"`      // set by Feedback
	Comment      string    `json:"comment,omitempty"`      // set by Feedback
}

// unanswered reports whether e belongs in [Store.Unanswered]: not answered, handed off, or
// marked unhelpful.
func (e *Event) unanswered() bool {
	return !e.Answered || e.Handoff || (e.Helpful != nil && !*e.Helpful)
}

// Count is one row of [Store.Top].
type Count struct {
	Key     string `json:"key"`
	Count   int    `json:"count"`
	Example string `json:"example"` // a representative question
}

// Point is one bucket of [Store.Series].
type Point struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
}

// Group is a set of similar questions that went unanswered, from [Store.Unanswered].
type Group struct {
	Question  string    `json:"question"`  // the most common phrasing
	Count     int       `json:"count"`     // asks in the group
	Questions []string  `json:"questions"` // distinct phrasings, most common first, at most MaxGroupPhrasings
	Events    []string  `json:"events"`    // ids, oldest first, at most MaxGroupEvents (the latest)
	Last      time.Time `json:"last"`      // the latest ask
	Unhelpful int       `json:"unhelpful"` // asks marked unhelpful
	Handoffs  int       `json:"handoffs"`  // asks handed off
}

// SurgeOptions tune [Store.Surges]; zero values take the defaults.
type SurgeOptions struct {
	Window   time.Duration // 0 = 1h
	Baseline time.Duration // 0 = 7 days
	MinCount int           // 0 = 10: fewer asks in the window never alert
	Factor   float64       // 0 = 3: window count over expected
	Sigma    float64       // 0 = 4: how many spreads above expected the window count must be
}

// Surge is an error code or product asked about well above its baseline.
type Surge struct {
	By       string    `json:"by"`       // "code" or "product"
	Key      string    `json:"key"`      // the code or product
	Count    int       `json:"count"`    // asks in the window
	Expected float64   `json:"expected"` // mean asks per window over the baseline (0 for a new key)
	Usual    float64   `json:"usual"`    // mean asks in the same window of the day on the baseline's days
	Spread   float64   `json:"spread"`   // the noise per window: max(√E, the baseline's standard deviation)
	Ratio    float64   `json:"ratio"`    // Count / E, where E = max(Expected, Usual, 1)
	Since    time.Time `json:"since"`    // the first ask of the earliest window in the run of surging windows

	noise float64 // the baseline's standard deviation per window
}

// Summary is how a period's asks went, from [Store.Summarize].
type Summary struct {
	Asks           int            `json:"asks"`
	Answered       int            `json:"answered"`
	Handoffs       int            `json:"handoffs"`
	Helpful        int            `json:"helpful"`
	Unhelpful      int            `json:"unhelpful"`
	Kinds          map[string]int `json:"kinds"`
	Languages      map[string]int `json:"languages"`
	MeanConfidence float64        `json:"meanConfidence"`
}

// Store keeps analytics events in a bbolt file in the data directory. It is safe for
// concurrent use; set Now and Tokens before using it.
type Store struct {
	db kv.DB

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tokens splits a question into terms for grouping similar questions; nil means
	// [DefaultTokens].
	Tokens func(string) []string
}

// Open opens or creates the store at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, "analytics store", bucketEvents, bucketIndex)
	if err != nil {
		return nil, err
	}
	return New(db), nil
}

// New returns the store kept in db (a bbolt file, or the shared state on PostgreSQL).
func New(db kv.DB) *Store { return &Store{db: db} }

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the store to w, taken in one read transaction while
// writes go on, and returns the number of bytes written.
func (s *Store) Backup(w io.Writer) (int64, error) {
	return kv.Backup(s.db, w)
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) tokens(q string) []string {
	if s.Tokens != nil {
		return s.Tokens(q)
	}
	return DefaultTokens(q)
}

// Keys and times.

var maxTime = time.Unix(0, math.MaxInt64)

// nanos returns t as unsigned nanoseconds since 1970, clamped to what a key can hold.
func nanos(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(maxTime):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// span returns [from, to) as key nanos: a zero from is the beginning, a zero to the end.
func span(from, to time.Time) (lo, hi uint64) {
	lo, hi = 0, math.MaxUint64
	if !from.IsZero() {
		lo = nanos(from)
	}
	if !to.IsZero() {
		hi = nanos(to)
	}
	return lo, hi
}

func be(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// eventKey is the 16-byte key of an event: big-endian unix nanos, then a big-endian sequence
// number that makes keys of the same nanosecond unique.
func eventKey(t time.Time, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(be(uint64(t.UnixNano())), seq)
}

func keyNanos(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

func keyOf(id string) ([]byte, bool) {
	k, err := hex.DecodeString(id)
	return k, err == nil && len(k) == 16
}

func indexPrefix(dim byte, value string) []byte {
	p := make([]byte, 0, len(value)+2)
	p = append(p, dim)
	p = append(p, value...)
	return append(p, 0)
}

func indexKey(dim byte, value string, ek []byte) []byte {
	return append(indexPrefix(dim, value), ek...)
}

func dimOf(by string) (byte, bool) {
	switch by {
	case "code":
		return dimCode, true
	case "product":
		return dimProduct, true
	}
	return 0, false
}

func dimName(d byte) string {
	if d == dimCode {
		return "code"
	}
	return "product"
}

// Recording.

// Record stores e and returns it as stored: with its ID, its Time (Now when zero, in UTC), its
// language guessed when empty ("zh" when the question holds Han characters, else "en"), kind
// "none" when empty, its code upper-cased and its code and product NFKC-normalised and trimmed.
// A caller's ID is replaced. Questions are stored as given, cut to MaxText characters; mask
// personal data before calling. Each call is one transaction (one fsync): use [Store.RecordAll]
// for many.
func (s *Store) Record(e Event) (Event, error) {
	out, err := s.write([]Event{e})
	if err != nil {
		return Event{}, err
	}
	return out[0], nil
}

// RecordAll stores events in one transaction, all or none, and returns them as stored.
func (s *Store) RecordAll(events []Event) ([]Event, error) {
	return s.write(events)
}

func (s *Store) write(events []Event) ([]Event, error) {
	out := make([]Event, len(events))
	for i, e := range events {
		c, err := s.clean(e)
		if err != nil {
			if len(events) > 1 {
				return nil, fmt.Errorf("event %d: %w", i, err)
			}
			return nil, err
		}
		out[i] = c
	}
	err := s.db.Update(func(tx kv.Tx) error {
		b, ix := tx.Bucket(bucketEvents), tx.Bucket(bucketIndex)
		for i := range out {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			k := eventKey(out[i].Time, seq)
			out[i].ID = hex.EncodeToString(k)
			data, err := json.Marshal(&out[i])
			if err != nil {
				return fmt.Errorf("encoding event %q: %w", out[i].ID, err)
			}
			if err := b.Put(k, data); err != nil {
				return err
			}
			if err := putIndex(ix, &out[i], k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording analytics events: %w", err)
	}
	return out, nil
}

func putIndex(ix kv.Bucket, e *Event, k []byte) error {
	if e.Code != "" {
		if err := ix.Put(indexKey(dimCode, e.Code, k), nil); err != nil {
			return err
		}
	}
	if e.Product != "" {
		if err := ix.Put(indexKey(dimProduct, e.Product, k), nil); err != nil {
			return err
		}
	}
	return nil
}

// clean checks e and normalises its fields for storage.
func (s *Store) clean(e Event) (Event, error) {
	e.ID = ""
	e.Question = clip(strings.TrimSpace(e.Question), MaxText)
	if e.Question == "" {
		return e, fixgraph.Errorf(fixgraph.EINVALID, "an analytics event needs a question")
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC()
	if e.Time.Before(time.Unix(0, 0)) || e.Time.After(maxTime) {
		return e, fixgraph.Errorf(fixgraph.EINVALID, "event time %s is out of range", e.Time.Format(time.RFC3339))
	}
	e.Language = strings.ToLower(cleanKey(e.Language))
	if e.Language == "" {
		e.Language = guessLanguage(e.Question)
	}
	e.Kind = strings.ToLower(cleanKey(e.Kind))
	if e.Kind == "" {
		e.Kind = "none"
	}
	e.Code = strings.ToUpper(cleanKey(e.Code))
	e.Product = cleanKey(e.Product)
	for _, f := range []struct{ name, v string }{
		{"code", e.Code}, {"product", e.Product}, {"language", e.Language}, {"kind", e.Kind},
	} {
		if len(f.v) > MaxKey {
			return e, fixgraph.Errorf(fixgraph.EINVALID, "%s %.20q… is longer than %d bytes", f.name, f.v, MaxKey)
		}
	}
	if math.IsNaN(e.Confidence) || math.IsInf(e.Confidence, 0) {
		return e, fixgraph.Errorf(fixgraph.EINVALID, "confidence must be a finite number")
	}
	e.Conversation = clipBytes(strings.TrimSpace(e.Conversation), MaxID)
	e.Principal = clipBytes(strings.TrimSpace(e.Principal), MaxID)
	e.Comment = clip(strings.TrimSpace(e.Comment), MaxText)
	return e, nil
}

// cleanKey NFKC-normalises s, drops control characters (so no NUL reaches an index key) and
// collapses white space.
func cleanKey(s string) string {
	s = norm.NFKC.String(strings.ToValidUTF8(s, ""))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// clip cuts s to at most n characters and makes it valid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// clipBytes cuts s to at most n bytes at a character boundary.
func clipBytes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func guessLanguage(q string) string {
	for _, r := range q {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
	}
	return "en"
}

// Feedback records whether the asker found the answer to event id helpful, with an optional
// comment, and returns the event. Feedback given again overwrites the earlier one. An unknown id
// is ENOTFOUND.
func (s *Store) Feedback(id string, helpful bool, comment string) (Event, error) {
	var e Event
	k, ok := keyOf(id)
	if !ok {
		return e, fixgraph.Errorf(fixgraph.ENOTFOUND, "no analytics event %q", id)
	}
	err := s.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketEvents)
		data := b.Get(k)
		if data == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no analytics event %q", id)
		}
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("decoding event %q: %w", id, err)
		}
		e.Helpful = &helpful
		e.Comment = clip(strings.TrimSpace(comment), MaxText)
		data, err := json.Marshal(&e)
		if err != nil {
			return fmt.Errorf("encoding event %q: %w", id, err)
		}
		return b.Put(k, data)
	})
	if err != nil {
		if fixgraph.CodeOf(err) == fixgraph.ENOTFOUND {
			return Event{}, err
		}
		return Event{}, fmt.Errorf("recording feedback on event %q: %w", id, err)
	}
	return e, nil
}

// Get returns event id; an unknown id is ENOTFOUND.
func (s *Store) Get(id string) (Event, error) {
	var e Event
	k, ok := keyOf(id)
	if !ok {
		return e, fixgraph.Errorf(fixgraph.ENOTFOUND, "no analytics event %q", id)
	}
	err := s.db.View(func(tx kv.Tx) error {
		data := tx.Bucket(bucketEvents).Get(k)
		if data == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no analytics event %q", id)
		}
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("decoding event %q: %w", id, err)
		}
		return nil
	})
	return e, err
}

// Scan calls fn with each event in [from, to), oldest first, until fn returns an error, which
// Scan returns. A zero from means from the first event, a zero to up to the last. fn runs inside
// a read transaction and must not write to the store.
func (s *Store) Scan(from, to time.Time, fn func(Event) error) error {
	return s.db.View(func(tx kv.Tx) error { return scan(tx, from, to, fn) })
}

func scan(tx kv.Tx, from, to time.Time, fn func(Event) error) error {
	lo, hi := span(from, to)
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.Seek(be(lo)); k != nil && keyNanos(k) < hi; k, v = c.Next() {
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decoding event %q: %w", hex.EncodeToString(k), err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Prune deletes the events before before and returns how many it deleted. It works in
// transactions of a few thousand events, so a large prune does not hold the write lock long.
func (s *Store) Prune(before time.Time) (int, error) {
	const chunk = 5000
	hi := nanos(before)
	total := 0
	for {
		n := 0
		err := s.db.Update(func(tx kv.Tx) error {
			b, ix := tx.Bucket(bucketEvents), tx.Bucket(bucketIndex)
			type victim struct {
				k             []byte
				code, product string
			}
			var victims []victim
			c := b.Cursor()
			for k, v := c.First(); k != nil && keyNanos(k) < hi && len(victims) < chunk; k, v = c.Next() {
				var e struct{ Code, Product string }
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decoding event %q: %w", hex.EncodeToString(k), err)
				}
				victims = append(victims, victim{slices.Clone(k), e.Code, e.Product})
			}
			for _, v := range victims {
				if err := b.Delete(v.k); err != nil {
					return err
				}
				if v.code != "" {
					if err := ix.Delete(indexKey(dimCode, v.code, v.k)); err != nil {
						return err
					}
				}
				if v.product != "" {
					if err := ix.Delete(indexKey(dimProduct, v.product, v.k)); err != nil {
						return err
					}
				}
			}
			n = len(victims)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("pruning analytics events before %s: %w", before.Format(time.RFC3339), err)
		}
		total += n
		if n < chunk {
			return total, nil
		}
	}
}

// Index scans.

// eachValue calls fn with each distinct value of dimension dim in the index, in byte order.
func eachValue(ix kv.Bucket, dim byte, fn func(value string) error) error {
	c := ix.Cursor()
	k, _ := c.Seek([]byte{dim})
	for k != nil && k[0] == dim {
		i := bytes.IndexByte(k[1:], 0)
		if i < 0 { // not written by this package
			k, _ = c.Next()
			continue
		}
		value := string(k[1 : 1+i])
		if err := fn(value); err != nil {
			return err
		}
		next := append([]byte{dim}, value...)
		k, _ = c.Seek(append(next, 1))
	}
	return nil
}

// eachIndexed calls fn with the event key of each ask of dim/value in [lo, hi), oldest first,
// while fn returns true.
func eachIndexed(ix kv.Bucket, dim byte, value string, lo, hi uint64, fn func(ek []byte) bool) {
	prefix := indexPrefix(dim, value)
	c := ix.Cursor()
	for k, _ := c.Seek(append(slices.Clip(prefix), be(lo)...)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ek := k[len(prefix):]
		if len(ek) != 16 {
			continue
		}
		if keyNanos(ek) >= hi || !fn(ek) {
			return
		}
	}
}

// eachIndexedDesc is eachIndexed newest first.
func eachIndexedDesc(ix kv.Bucket, dim byte, value string, lo, hi uint64, fn func(ek []byte) bool) {
	prefix := indexPrefix(dim, value)
	c := ix.Cursor()
	var k []byte
	if hi > math.MaxInt64 {
		k, _ = c.Seek(append(slices.Clip(prefix), 0xff))
	} else {
		k, _ = c.Seek(append(slices.Clip(prefix), be(hi)...))
	}
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		ek := k[len(prefix):]
		if len(ek) != 16 || keyNanos(ek) >= hi {
			continue
		}
		if keyNanos(ek) < lo || !fn(ek) {
			return
		}
	}
}

// Questions and phrasings.

// phrasings tallies questions by their normalised text.
type phrasings struct {
	byNorm map[string]*phrasing
}

// phrasing is one normalised question text and the asks that had it.
type phrasing struct {
	norm      string
	count     int
	originals map[string]int
	last      time.Time
	events    []string
	unhelpful int
	handoffs  int
}

func newPhrasings() *phrasings { return &phrasings{byNorm: map[string]*phrasing{}} }

func (ps *phrasings) add(e *Event) *phrasing {
	n := Normalize(e.Question)
	p := ps.byNorm[n]
	if p == nil {
		p = &phrasing{norm: n, originals: map[string]int{}}
		ps.byNorm[n] = p
	}
	p.count++
	p.originals[e.Question]++
	if e.Time.After(p.last) {
		p.last = e.Time
	}
	return p
}

// sorted returns the phrasings most asked first, then most recent, then by text.
func (ps *phrasings) sorted() []*phrasing {
	out := make([]*phrasing, 0, len(ps.byNorm))
	for _, p := range ps.byNorm {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.count != b.count {
			return a.count > b.count
		}
		if !a.last.Equal(b.last) {
			return a.last.After(b.last)
		}
		return a.norm < b.norm
	})
	return out
}

// text returns the phrasing's most common original wording.
func (p *phrasing) text() string {
	best, bn := "", 0
	for q, n := range p.originals {
		if n > bn || (n == bn && q < best) {
			best, bn = q, n
		}
	}
	return best
}

// Top counts questions (grouped by their [Normalize]d text), error codes or products (by is
// "question", "code" or "product") asked in [from, to), most first (ties by key), at most limit
// (limit <= 0: all). A zero from means from the first event, a zero to up to the last. For
// questions, Key is the normalised text and Example its most common wording; for codes and
// products, Example is the most common question among their latest asks in the period.
func (s *Store) Top(by string, from, to time.Time, limit int) ([]Count, error) {
	var out []Count
	var err error
	switch by {
	case "question":
		out, err = s.topQuestions(from, to)
	case "code", "product":
		dim, _ := dimOf(by)
		out, err = s.topDim(dim, from, to, limit)
	default:
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "top by %q: want question, code or product", by)
	}
	if err != nil {
		return nil, fmt.Errorf("counting top %ss: %w", by, err)
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func sortCounts(cs []Count) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Count != cs[j].Count {
			return cs[i].Count > cs[j].Count
		}
		return cs[i].Key < cs[j].Key
	})
}

func (s *Store) topQuestions(from, to time.Time) ([]Count, error) {
	ps := newPhrasings()
	err := s.Scan(from, to, func(e Event) error { ps.add(&e); return nil })
	if err != nil {
		return nil, err
	}
	out := make([]Count, 0, len(ps.byNorm))
	for _, p := range ps.byNorm {
		out = append(out, Count{Key: p.norm, Count: p.count, Example: p.text()})
	}
	sortCounts(out)
	return out, nil
}

func (s *Store) topDim(dim byte, from, to time.Time, limit int) ([]Count, error) {
	lo, hi := span(from, to)
	var out []Count
	err := s.db.View(func(tx kv.Tx) error {
		ix := tx.Bucket(bucketIndex)
		err := eachValue(ix, dim, func(value string) error {
			n := 0
			eachIndexed(ix, dim, value, lo, hi, func([]byte) bool { n++; return true })
			if n > 0 {
				out = append(out, Count{Key: value, Count: n})
			}
			return nil
		})
		if err != nil {
			return err
		}
		sortCounts(out)
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		b := tx.Bucket(bucketEvents)
		for i := range out {
			ps := newPhrasings()
			var derr error
			eachIndexedDesc(ix, dim, out[i].Key, lo, hi, func(ek []byte) bool {
				var e Event
				if v := b.Get(ek); v != nil {
					if derr = json.Unmarshal(v, &e); derr != nil {
						derr = fmt.Errorf("decoding event %q: %w", hex.EncodeToString(ek), derr)
						return false
					}
					ps.add(&e)
				}
				return ps.total() < exampleSample
			})
			if derr != nil {
				return derr
			}
			if sorted := ps.sorted(); len(sorted) > 0 {
				out[i].Example = sorted[0].text()
			}
		}
		return nil
	})
	return out, err
}

func (ps *phrasings) total() int {
	n := 0
	for _, p := range ps.byNorm {
		n += p.count
	}
	return n
}

// Series.

// Series counts asks per day or per week (bucket "day" or "week"; weeks start on Monday) in loc
// (nil: UTC) over [from, to), for one code or product (by "code" or "product" and its key) or for
// all asks (by ""). Points run from the bucket that holds from to the one that holds the last
// instant before to, with zero counts included; the first and last buckets count only the asks
// inside [from, to). Days follow loc's calendar, so a day across a daylight-saving change is 23
// or 25 hours long.
func (s *Store) Series(by, key, bucket string, from, to time.Time, loc *time.Location) ([]Point, error) {
	if loc == nil {
		loc = time.UTC
	}
	if bucket != "day" && bucket != "week" {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "series bucket %q: want day or week", bucket)
	}
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "a series needs a period with from before to")
	}
	var dim byte
	if by != "" {
		d, ok := dimOf(by)
		if !ok {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "series by %q: want code, product or nothing", by)
		}
		dim = d
		key = cleanKey(key)
		if d == dimCode {
			key = strings.ToUpper(key)
		}
		if key == "" {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "a series by %s needs a key", by)
		}
	}
	var points []Point
	var starts []int64
	for t := bucketStart(from, bucket, loc); t.Before(to); t = nextBucket(t, bucket, loc) {
		if len(points) == maxBuckets {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "a series of more than %d %ss", maxBuckets, bucket)
		}
		points = append(points, Point{Start: t})
		starts = append(starts, t.UnixNano())
	}
	add := func(ek []byte) bool {
		n := int64(keyNanos(ek))
		i := sort.Search(len(starts), func(i int) bool { return starts[i] > n }) - 1
		if i >= 0 {
			points[i].Count++
		}
		return true
	}
	lo, hi := span(from, to)
	err := s.db.View(func(tx kv.Tx) error {
		if by != "" {
			eachIndexed(tx.Bucket(bucketIndex), dim, key, lo, hi, add)
			return nil
		}
		c := tx.Bucket(bucketEvents).Cursor()
		for k, _ := c.Seek(be(lo)); k != nil && keyNanos(k) < hi; k, _ = c.Next() {
			add(k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting a series by %q %q: %w", by, key, err)
	}
	return points, nil
}

// bucketStart returns the start of the day or week (from Monday) that holds t in loc.
func bucketStart(t time.Time, bucket string, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if bucket == "week" {
		back := (int(day.Weekday()) + 6) % 7
		y, m, d = day.AddDate(0, 0, -back).Date()
		day = time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	return day
}

func nextBucket(t time.Time, bucket string, loc *time.Location) time.Time {
	days := 1
	if bucket == "week" {
		days = 7
	}
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, loc)
}

// Unanswered questions.

// Unanswered groups the questions asked in [from, to) that were not answered, were handed off, or
// were marked unhelpful, largest group first (then the most recent), at most limit groups (limit
// <= 0: all). A zero from means from the first event, a zero to up to the last.
//
// Grouping has two steps. Questions with the same [Normalize]d text are one phrasing. Phrasings
// are then clustered greedily, most asked first: each joins the existing group whose first (most
// asked) phrasing is most similar to it, when that similarity is at least [ClusterThreshold], and
// otherwise starts a group. Similarity is the Jaccard index of the two token sets from s.Tokens
// (|A∩B| / |A∪B|). Comparing with a group's first phrasing rather than any member (single link)
// keeps groups from drifting, one shared word at a time, into unrelated questions. A phrasing
// with no tokens only groups with its own exact text.
func (s *Store) Unanswered(from, to time.Time, limit int) ([]Group, error) {
	ps := newPhrasings()
	err := s.Scan(from, to, func(e Event) error {
		if !e.unanswered() {
			return nil
		}
		p := ps.add(&e)
		p.events = append(p.events, e.ID)
		if e.Helpful != nil && !*e.Helpful {
			p.unhelpful++
		}
		if e.Handoff {
			p.handoffs++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing unanswered questions: %w", err)
	}

	type cluster struct {
		leader  map[string]bool
		members []*phrasing
	}
	var clusters []*cluster
	byToken := map[string][]int{} // a leader's token → its clusters
	for _, p := range ps.sorted() {
		set := tokenSet(s.tokens(p.text()))
		best, bestSim := -1, 0.0
		seen := map[int]bool{}
		for t := range set {
			for _, ci := range byToken[t] {
				if seen[ci] {
					continue
				}
				seen[ci] = true
				if sim := jaccard(set, clusters[ci].leader); sim >= ClusterThreshold && (sim > bestSim || (sim == bestSim && ci < best)) {
					best, bestSim = ci, sim
				}
			}
		}
		if best >= 0 {
			clusters[best].members = append(clusters[best].members, p)
			continue
		}
		clusters = append(clusters, &cluster{leader: set, members: []*phrasing{p}})
		for t := range set {
			byToken[t] = append(byToken[t], len(clusters)-1)
		}
	}

	groups := make([]Group, 0, len(clusters))
	for _, c := range clusters {
		var g Group
		for i, p := range c.members { // most asked first
			if i < MaxGroupPhrasings {
				g.Questions = append(g.Questions, p.text())
			}
			g.Count += p.count
			g.Events = append(g.Events, p.events...)
			if p.last.After(g.Last) {
				g.Last = p.last
			}
			g.Unhelpful += p.unhelpful
			g.Handoffs += p.handoffs
		}
		g.Question = c.members[0].text()
		slices.Sort(g.Events) // ids sort by time
		if len(g.Events) > MaxGroupEvents {
			g.Events = g.Events[len(g.Events)-MaxGroupEvents:] // the latest
		}
		groups = append(groups, g)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].Count != groups[j].Count {
			return groups[i].Count > groups[j].Count
		}
		return groups[i].Last.After(groups[j].Last)
	})
	if limit > 0 && len(groups) > limit {
		groups = groups[:limit]
	}
	return groups, nil
}

func tokenSet(tokens []string) map[string]bool {
	set := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		set[t] = true
	}
	return set
}

// jaccard returns |a∩b| / |a∪b|, and 0 when both are empty.
func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// Surges.

// Surges reports the error codes and products whose asks in the window [now-Window, now) are well
// above their baseline, the Baseline period just before the window, highest ratio first. A zero
// now means s.Now.
//
// The baseline is cut into n = Baseline/Window windows of the same length (whole ones only) and
// counted per window. Expected is their mean, baseline asks / n. When a day is a whole number of
// windows, Usual is the mean of the baseline windows at the same time of day as the current one
// (the same hour on each of the last seven days, by default), so a key's routine busy hours are
// measured against their own level rather than the week's average. Against
//
//	E = max(Expected, Usual, 1)
//
// — a floor of one ask per window, so a new key with no history can alert once MinCount and Factor
// agree — a key surges when its window count c passes all of
//
//	c >= MinCount                       a handful of asks is never news
//	c >= Factor·E                       the ratio the team sees
//	P(X >= c) <= P(Z > Sigma)           X Poisson with mean E, Z standard normal
//	c > E + Sigma·SD                    SD the baseline's standard deviation per window
//
// The third is the exact form of c > E + Sigma·√E: at small means a Poisson count's upper tail is
// much heavier than a normal one's, and 12 asks against 4 expected, which happen about once in
// 1,100 windows, pass the normal approximation (4 + 4·√4 = 12). The fourth covers keys noisier
// than Poisson. Spread reports max(√E, SD); Ratio is c / E.
//
// Sigma defaults to 4 (P(Z > 4) ≈ 3·10⁻⁵) rather than 3 because Surges tests every key in every
// window: a hundred keys checked hourly are 2,400 tests a day, and at 3 sigma several would fail by
// chance every day. With the defaults, MinCount decides below about 1.6 asks expected per window,
// the Poisson test up to about 7, and Factor above.
//
// Only baseline windows that start at or after the store's first event count, so a young store
// does not read its normal traffic as a surge; with no history before the window at all, Surges
// reports nothing. Since walks back from the window over the earlier windows that pass the same
// test against the same E and Spread, and is the first ask of the earliest of them.
func (s *Store) Surges(now time.Time, opt SurgeOptions) ([]Surge, error) {
	if now.IsZero() {
		now = s.now()
	}
	if opt.Window == 0 {
		opt.Window = time.Hour
	}
	if opt.Baseline == 0 {
		opt.Baseline = 7 * 24 * time.Hour
	}
	if opt.MinCount == 0 {
		opt.MinCount = 10
	}
	if opt.Factor == 0 {
		opt.Factor = 3
	}
	if opt.Sigma == 0 {
		opt.Sigma = 4
	}
	switch {
	case opt.Window < 0 || opt.Baseline < opt.Window:
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "surge window %s and baseline %s: want 0 < window <= baseline", opt.Window, opt.Baseline)
	case opt.Baseline/opt.Window > maxBuckets:
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "a surge baseline of more than %d windows", maxBuckets)
	case opt.MinCount < 0 || opt.Factor < 0 || opt.Sigma < 0 || math.IsNaN(opt.Factor) || math.IsNaN(opt.Sigma):
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "surge options must not be negative")
	}
	n := int(opt.Baseline / opt.Window)
	w := uint64(opt.Window)
	end := nanos(now)
	if end < uint64(n+1)*w {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "surge baseline reaches before 1970")
	}
	start := end - uint64(n+1)*w // windows 0..n-1 are the baseline, n the current one
	period := 0
	if day := 24 * time.Hour; day%opt.Window == 0 {
		period = int(day / opt.Window)
	}

	var out []Surge
	err := s.db.View(func(tx kv.Tx) error {
		k, _ := tx.Bucket(bucketEvents).Cursor().First()
		if k == nil {
			return nil
		}
		first := keyNanos(k)
		skip := 0 // baseline windows that start before the store's first event
		if first > start {
			skip = int((first - start + w - 1) / w)
		}
		if skip >= n {
			return nil
		}
		ix := tx.Bucket(bucketIndex)
		counts := make([]int, n+1)
		firsts := make([]uint64, n+1)
		for _, dim := range []byte{dimCode, dimProduct} {
			err := eachValue(ix, dim, func(value string) error {
				clear(counts)
				eachIndexed(ix, dim, value, start, end, func(ek []byte) bool {
					t := keyNanos(ek)
					i := int((t - start) / w)
					if counts[i] == 0 {
						firsts[i] = t
					}
					counts[i]++
					return true
				})
				if counts[n] < opt.MinCount {
					return nil
				}
				su := judge(counts[skip:n], counts[n], period, opt)
				if su == nil {
					return nil
				}
				su.By, su.Key = dimName(dim), value
				since := n
				for i := n - 1; i >= skip && su.alerts(counts[i], opt); i-- {
					since = i
				}
				su.Since = time.Unix(0, int64(firsts[since])).UTC()
				out = append(out, *su)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for surges at %s: %w", now.Format(time.RFC3339), err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Ratio != b.Ratio {
			return a.Ratio > b.Ratio
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.By != b.By {
			return a.By < b.By
		}
		return a.Key < b.Key
	})
	return out, nil
}

// judge returns the surge of a key whose window holds count asks after the given baseline
// windows, or nil when the count is within the baseline's noise. period is the number of windows
// in a day when a day is a whole number of windows, else 0; the windows a whole number of days
// before the current one give Usual. opt must have its defaults.
func judge(baseline []int, count, period int, opt SurgeOptions) *Surge {
	total := 0
	for _, c := range baseline {
		total += c
	}
	su := &Surge{Count: count}
	if len(baseline) > 0 {
		su.Expected = float64(total) / float64(len(baseline))
	}
	if period > 0 {
		same, days := 0, 0
		for i := len(baseline) - period; i >= 0; i -= period {
			same += baseline[i]
			days++
		}
		if days > 0 {
			su.Usual = float64(same) / float64(days)
		}
	}
	su.noise = stddev(baseline, su.Expected)
	su.Spread = max(math.Sqrt(su.expected()), su.noise)
	su.Ratio = float64(count) / su.expected()
	if !su.alerts(count, opt) {
		return nil
	}
	return su
}

// expected is what a surge is measured against: the larger of Expected, Usual and 1.
func (su *Surge) expected() float64 { return max(su.Expected, su.Usual, 1) }

// alerts reports whether a window with count asks is a surge against su's expectation.
func (su *Surge) alerts(count int, opt SurgeOptions) bool {
	e := su.expected()
	c := float64(count)
	return count >= opt.MinCount && c >= opt.Factor*e && c > e+opt.Sigma*su.noise &&
		poissonTail(count, e) <= normalTail(opt.Sigma)
}

// normalTail returns P(Z > z) for a standard normal Z.
func normalTail(z float64) float64 { return math.Erfc(z/math.Sqrt2) / 2 }

// poissonTail returns P(X >= c) for X Poisson with mean lambda > 0.
func poissonTail(c int, lambda float64) float64 {
	if c <= 0 {
		return 1
	}
	logPMF := func(k int) float64 {
		lg, _ := math.Lgamma(float64(k) + 1)
		return float64(k)*math.Log(lambda) - lambda - lg
	}
	if float64(c) <= lambda { // the tail is most of the mass: 1 - P(X < c)
		var head float64
		for k := 0; k < c; k++ {
			head += math.Exp(logPMF(k))
		}
		return max(0, 1-head)
	}
	var tail float64
	for k := c; k < c+100_000; k++ { // terms fall at least geometrically from here
		t := math.Exp(logPMF(k))
		tail += t
		if t <= tail*1e-17 {
			break
		}
	}
	return min(tail, 1)
}

// stddev returns the population standard deviation of xs around mean.
func stddev(xs []int, mean float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var ss float64
	for _, x := range xs {
		d := float64(x) - mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)))
}

// Summarize counts how the asks in [from, to) went: answered, handed off, feedback, by kind and
// by language, and their mean confidence. A zero from means from the first event, a zero to up
// to the last.
func (s *Store) Summarize(from, to time.Time) (Summary, error) {
	sum := Summary{Kinds: map[string]int{}, Languages: map[string]int{}}
	var conf float64
	err := s.Scan(from, to, func(e Event) error {
		sum.Asks++
		if e.Answered {
			sum.Answered++
		}
		if e.Handoff {
			sum.Handoffs++
		}
		if e.Helpful != nil {
			if *e.Helpful {
				sum.Helpful++
			} else {
				sum.Unhelpful++
			}
		}
		sum.Kinds[e.Kind]++
		sum.Languages[e.Language]++
		conf += e.Confidence
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("summarising analytics: %w", err)
	}
	if sum.Asks > 0 {
		sum.MeanConfidence = conf / float64(sum.Asks)
	}
	return sum, nil
}

// Text.

// Normalize returns the text questions are grouped by: NFKC (full-width letters, digits and
// punctuation become their ASCII forms), lower case, punctuation and symbols dropped, and white
// space removed except for single spaces between two words of a script other than CJK, so
// "洗衣机 怎么除垢？" and "洗衣机怎么除垢?" are one question, and "How do I  descale?" and
// "how do i descale" another.
func Normalize(q string) string {
	q = strings.ToLower(norm.NFKC.String(q))
	rs := make([]rune, 0, len(q))
	for _, r := range q {
		if !wordRune(r) {
			r = ' '
		}
		if r == ' ' && (len(rs) == 0 || rs[len(rs)-1] == ' ') {
			continue
		}
		rs = append(rs, r)
	}
	var b strings.Builder
	for i, r := range rs {
		if r == ' ' {
			if i == 0 || i == len(rs)-1 || cjk(rs[i-1]) || cjk(rs[i+1]) {
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func cjk(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// enStop are English words that say nothing about what a question is about.
var enStop = map[string]bool{}

// zhStop are Chinese question and function words. They split a run of CJK characters before it
// is cut into bigrams, so "洗衣机怎么除垢" and "洗衣机如何除垢" both become 洗衣 衣机 除垢.
var zhStop []string

func init() {
	for _, w := range strings.Fields(`a an the i me my mine you your we our us it its is are was were be been
		am do does did doing how what why when where which who whom to of in on at for with from by about
		can could should would will shall may might must please pls hi hello thanks thank and or but if
		so s t this that these those there here get got any some just`) {
		enStop[w] = true
	}
	zhStop = strings.Fields(`为什么 怎么办 怎么样 能不能 可不可以 是不是 怎么 怎样 如何 为何 什么 请问 一下 可以 能否
		是否 应该 需要 我的 我们 你们 您好 你好 这个 那个 一个 咋 吗 呢 吧 啊 呀 嘛 的 了 着 我 你 您 请 给 把 该`)
	// Longest first, so 怎么办 wins over 怎么.
	sort.SliceStable(zhStop, func(i, j int) bool { return utf8.RuneCountInString(zhStop[i]) > utf8.RuneCountInString(zhStop[j]) })
}

// DefaultTokens splits a question into terms for grouping: NFKC and lower case; runs of letters
// and digits outside CJK are words (English stop words dropped, "e102" kept whole); runs of CJK
// characters are split at common Chinese question and function words (怎么, 如何, 吗, 的, …)
// and each piece becomes its character bigrams, or itself when one character long.
func DefaultTokens(q string) []string {
	q = strings.ToLower(norm.NFKC.String(q))
	var out []string
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case cjk(r):
			j := i
			for j < len(rs) && cjk(rs[j]) {
				j++
			}
			out = appendCJK(out, rs[i:j])
			i = j
		case wordRune(r):
			j := i
			for j < len(rs) && wordRune(rs[j]) && !cjk(rs[j]) {
				j++
			}
			if w := string(rs[i:j]); !enStop[w] {
				out = append(out, w)
			}
			i = j
		default:
			i++
		}
	}
	return out
}

// appendCJK appends the bigrams of run, split at Chinese stop words.
func appendCJK(out []string, run []rune) []string {
	piece := func(p []rune) {
		switch len(p) {
		case 0:
		case 1:
			out = append(out, string(p))
		default:
			for i := 0; i+1 < len(p); i++ {
				out = append(out, string(p[i:i+2]))
			}
		}
	}
	start := 0
	for i := 0; i < len(run); {
		stop := 0
		for _, w := range zhStop {
			wr := []rune(w)
			if i+len(wr) <= len(run) && string(run[i:i+len(wr)]) == w {
				stop = len(wr)
				break
			}
		}
		if stop == 0 {
			i++
			continue
		}
		piece(run[start:i])
		i += stop
		start = i
	}
	piece(run[start:])
	return out
}
