package ingest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph/kv"

	"github.com/fixgraph/fixgraph"
)

// Review before publish: a department can require that what its uploads and crawls write is
// stored in review (fixgraph.StatusReview), which bots never read, and goes live only when a
// reviewer of the department approves it. The setting is kept in the State with the jobs; a job
// takes it when it is submitted (fixgraph.Job.Review), and its files' results say the status
// they were written with. Approving flips the status of the version the job wrote in the graph
// and in the search indexes (Pipeline.SetStatus); rejecting removes it (Pipeline.Remove).

// bucketDepartments holds one fixgraph.Department per department name.
var bucketDepartments = []byte("departments")

// MaxDepartmentName is the longest department name, in bytes, that settings are kept for.
const MaxDepartmentName = 100

// Department returns the settings of the department name; a department never set has the zero
// settings (it publishes at once).
func (s *State) Department(name string) (fixgraph.Department, error) {
	d := fixgraph.Department{Name: name}
	err := s.view(bucketDepartments, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(name)); v != nil {
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decoding the settings of department %q: %w", name, err)
			}
			d.Name = name
		}
		return nil
	})
	return d, err
}

// SetDepartment stores a department's settings, replacing what was there.
func (s *State) SetDepartment(d fixgraph.Department) error {
	d.Name = strings.TrimSpace(d.Name)
	switch {
	case d.Name == "":
		return fixgraph.Errorf(fixgraph.EINVALID, "a department's settings need its name")
	case len(d.Name) > MaxDepartmentName:
		return fixgraph.Errorf(fixgraph.EINVALID, "the department name %.40q… is over %d bytes", d.Name, MaxDepartmentName)
	}
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	err = s.update(bucketDepartments, func(b kv.Bucket) error { return b.Put([]byte(d.Name), v) })
	if err != nil {
		return fmt.Errorf("storing the settings of department %q: %w", d.Name, err)
	}
	return nil
}

// Departments returns the settings of every department that has any, by name.
func (s *State) Departments() ([]fixgraph.Department, error) {
	var out []fixgraph.Department
	err := s.view(bucketDepartments, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var d fixgraph.Department
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decoding the settings of department %q: %w", k, err)
			}
			d.Name = string(k)
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// reviewFirst reports whether the documents of a new job of department are stored in review.
// Jobs of no department publish at once: only a named department can ask for review.
func (js *Jobs) reviewFirst(department string) (bool, error) {
	if department == "" || js.State == nil {
		return false, nil
	}
	d, err := js.State.Department(department)
	return d.ReviewBeforePublish, err
}

// StatusSetter is a graph store that changes the status of a stored document version in place
// (graph.Bolt and graph.Neo4j), returning it as stored now with its sections.
type StatusSetter interface {
	SetStatus(ctx context.Context, docID string, version int, status fixgraph.Status) (*fixgraph.Document, []*fixgraph.Section, error)
}

// nodesReader is a graph store that reads nodes, as stored, by id, many at a time.
type nodesReader interface {
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
}

// SetStatus changes the status of the stored version of document docID (0: whatever version is
// stored) in the graph and then in the index, which keeps the status per section: how a reviewer
// publishes what a job stored in review. Writing the same status again repairs an index that
// missed the change. Failures are in the result.
func (p *Pipeline) SetStatus(ctx context.Context, docID string, version int, status fixgraph.Status) FileResult {
	res := FileResult{DocumentID: docID}
	fail := func(err error) FileResult {
		res.Outcome, res.Err, res.Error = Failed, err, fixgraph.MessageOf(err)
		return res
	}
	ss, ok := p.Graph.(StatusSetter)
	if !ok {
		return fail(fixgraph.Errorf(fixgraph.EUNSUPPORTED, "the graph store cannot change a document's status"))
	}
	doc, secs, err := ss.SetStatus(ctx, docID, version, status)
	if err != nil {
		return fail(err)
	}
	res.Source, res.Kind, res.Version, res.Sections = doc.Source, doc.Kind, doc.Version, len(secs)
	res.Outcome, res.Status = Updated, unpublished(doc.Status)
	if p.Index == nil {
		return res
	}
	if h, ok := p.Index.(holder); ok {
		if current, err := h.Holds(doc); err == nil && current {
			return res
		}
	}
	if err := p.Index.Update(ctx, doc, secs, nil); err != nil {
		return fail(fmt.Errorf("indexing %q: %w", doc.Source, err))
	}
	return res
}

// unpublished returns s, or "" when it is published.
func unpublished(s fixgraph.Status) fixgraph.Status {
	if s == fixgraph.StatusPublished {
		return ""
	}
	return s
}

// review prepares a batch about to be written for review before publish and says its status in
// res. A batch in review whose content, audience and owner a reviewer approved already (the same
// file uploaded again, a crawled page that did not change) stays published: only what changed
// waits for a reviewer.
func (p *Pipeline) review(ctx context.Context, b *fixgraph.Batch, res *FileResult) {
	doc := b.Document
	if doc.Status == fixgraph.StatusReview {
		if r, ok := p.Graph.(nodesReader); ok {
			if ns, err := r.Nodes(ctx, []string{doc.ID}); err == nil && len(ns) == 1 {
				if prev, ok := ns[0].(*fixgraph.Document); ok && prev.Status == fixgraph.StatusPublished &&
					prev.ContentHash == doc.ContentHash && prev.Visibility == doc.Visibility &&
					prev.Department == doc.Department && slices.Equal(prev.Detached, doc.Detached) {
					doc.Status = fixgraph.StatusPublished
				}
			}
		}
	}
	res.Status = unpublished(cmp.Or(doc.Status, fixgraph.StatusPublished))
}

// seesJob reports whether p may see a job of department: an admin any, others (uploaders,
// editors, reviewers) their own department's.
func seesJob(p *fixgraph.Principal, department string) bool {
	return p.Can("admin", "") || p.Can("upload", department) && department == p.Department
}

// Review returns a job and, when its department reviews before publishing, the documents it
// wrote in review with where the review of each stands, in the job's order. A job the principal
// of ctx may not see is not found.
func (js *Jobs) Review(ctx context.Context, jobID string) (*fixgraph.Job, []fixgraph.ReviewItem, error) {
	j, err := js.Get(ctx, jobID)
	if err == nil && !seesJob(fixgraph.PrincipalFrom(ctx), j.Department) {
		err = fixgraph.Errorf(fixgraph.ENOTFOUND, "no job %q", jobID) // another department's job is as good as missing
	}
	if err != nil {
		return nil, nil, err
	}
	items, err := js.reviewItems(ctx, j)
	return j, items, err
}

// reviewItems lists what j wrote in review, one item per document (its last file).
func (js *Jobs) reviewItems(ctx context.Context, j *fixgraph.Job) ([]fixgraph.ReviewItem, error) {
	if !j.Review {
		return nil, nil
	}
	files, err := js.Files(ctx, j.ID, "", 0, 0)
	if err != nil {
		return nil, err
	}
	var items []fixgraph.ReviewItem
	at := map[string]int{}
	for _, f := range files {
		if f.DocumentID == "" || f.Status != fixgraph.StatusReview || f.Outcome == Failed || f.Outcome == Removed {
			continue
		}
		if i, ok := at[f.DocumentID]; ok {
			items[i].File = f
			continue
		}
		at[f.DocumentID] = len(items)
		items = append(items, fixgraph.ReviewItem{File: f})
	}
	if len(items) == 0 {
		return nil, nil
	}
	r, ok := js.Pipeline.Graph.(nodesReader)
	if !ok {
		return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "the graph store cannot list documents in review")
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.File.DocumentID
	}
	nodes, err := r.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range items {
		d, _ := nodes[i].(*fixgraph.Document)
		items[i].Document = d
		switch {
		case d == nil || d.Status == fixgraph.StatusArchived:
			items[i].State = fixgraph.ReviewRejected
		case d.Version != items[i].File.Version:
			items[i].State = fixgraph.ReviewSuperseded
		case d.Status == fixgraph.StatusReview:
			items[i].State = fixgraph.ReviewPending
		case d.Status == fixgraph.StatusPublished || d.Status == "":
			items[i].State = fixgraph.ReviewApproved
		default:
			items[i].State = fixgraph.ReviewPending
		}
	}
	return items, nil
}

// Pending returns how many documents of a job await review; 0 for a job that reviews nothing.
func (js *Jobs) Pending(ctx context.Context, j *fixgraph.Job) (int, error) {
	items, err := js.reviewItems(ctx, j)
	n := 0
	for _, it := range items {
		if it.State == fixgraph.ReviewPending {
			n++
		}
	}
	return n, err
}

// Settle approves (publishes) or rejects (removes from the graph and the indexes, keeping the
// version in the document's history) documents a job wrote in review: those of docIDs, or every
// one still pending when docIDs is empty (a bulk approve of a whole upload). Only an admin or a
// reviewer of the job's department may (fixgraph.Principal.CanReview); to whoever may not see the
// job it is not found. Settling a document settled the same way already changes nothing; one a
// newer version replaced, or settled the other way, is a conflict. It returns the items settled
// now, in the job's order; on an error, those settled before it.
func (js *Jobs) Settle(ctx context.Context, jobID string, docIDs []string, approve bool) ([]fixgraph.ReviewItem, error) {
	p := fixgraph.PrincipalFrom(ctx)
	j, items, err := js.Review(ctx, jobID)
	if err != nil {
		return nil, err
	}
	if !p.CanReview(j.Department) {
		return nil, fixgraph.Errorf(fixgraph.EFORBIDDEN, "only an admin or a reviewer of department %q may approve or reject what its jobs wrote", j.Department)
	}
	want := map[string]bool{}
	for _, id := range docIDs {
		want[id] = true
	}
	for _, it := range items {
		delete(want, it.File.DocumentID)
	}
	for id := range want {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "job %q wrote no document %q in review", jobID, id)
	}
	done := fixgraph.ReviewApproved
	if !approve {
		done = fixgraph.ReviewRejected
	}
	var out []fixgraph.ReviewItem
	for _, it := range items {
		if len(docIDs) > 0 && !slices.Contains(docIDs, it.File.DocumentID) {
			continue
		}
		switch {
		case it.State == done:
			continue
		case it.State != fixgraph.ReviewPending:
			if len(docIDs) == 0 {
				continue // a bulk approve settles what is pending
			}
			return out, fixgraph.Errorf(fixgraph.ECONFLICT, "%s is %s already, not pending", it.File.Name, it.State)
		}
		var res FileResult
		if approve {
			res = js.Pipeline.SetStatus(ctx, it.File.DocumentID, it.File.Version, fixgraph.StatusPublished)
		} else {
			res = js.Pipeline.Remove(ctx, it.Document.Source)
		}
		if res.Err != nil {
			return out, fmt.Errorf("settling the review of %q: %w", it.File.Name, res.Err)
		}
		it.State = done
		if approve {
			d := *it.Document
			d.Status = fixgraph.StatusPublished
			it.Document = &d
		}
		out = append(out, it)
	}
	if len(out) > 0 {
		js.mu.Lock()
		js.init()
		js.notifyLocked()
		js.mu.Unlock()
	}
	return out, nil
}

// stampReview records on a new job whether its department reviews before publishing.
func (js *Jobs) stampReview(j *fixgraph.Job) error {
	review, err := js.reviewFirst(j.Department)
	if err != nil {
		return err
	}
	j.Review = review
	return nil
}
