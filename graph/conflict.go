package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// Conflicts returns the fields of node id that documents of different departments give
// different values, as the context's principal may see them: only the contributions of
// documents it may read count and are listed. Each conflict lists every readable document's
// value of the field, with its department and document, departments in name order; a field
// that a published editorial document gives is settled (the editor's version wins for every
// reader) and lists the editor's value too. Identity fields (ids, codes, models, SKUs, URLs)
// and merged lists (compatible models) are never conflicts; stock levels have none.
func (g Guarded) Conflicts(ctx context.Context, id string) ([]fixgraph.Conflict, error) {
	if fixgraph.KindOf(id) == fixgraph.PrefixStock || fixgraph.KindOf(id) == fixgraph.PrefixDocument {
		return nil, nil
	}
	cs, ok := g.Store.(contributor)
	if !ok {
		return nil, fixgraph.Errorf(fixgraph.EINTERNAL, "the graph store does not keep contributions apart")
	}
	if _, err := g.Node(ctx, id); err != nil {
		return nil, err // missing, archived or not readable at all
	}
	contribs, err := cs.Contributions(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	docs, err := g.documents(ctx, docOwners(contribs[id]))
	if err != nil {
		return nil, err
	}
	p := fixgraph.PrincipalFrom(ctx)
	byField := map[string][]fixgraph.ConflictValue{}
	for _, c := range contribs[id] {
		d := docs[c.Owner]
		if d == nil || !p.CanRead(d) {
			continue // pushes hold stock, not text; unreadable documents are not shown
		}
		n, err := decode(id, []byte(c.Data))
		if err != nil {
			return nil, err
		}
		fields, err := fieldValues(n)
		if err != nil {
			return nil, err
		}
		for f, v := range fields {
			byField[f] = append(byField[f], fixgraph.ConflictValue{
				Department: d.Department, Document: d.ID, Title: d.Title, Source: d.Source,
				Visibility: cmp.Or(d.Visibility, fixgraph.VisibilityPublic), Editorial: fixgraph.IsEditorial(d.ID), Value: v,
			})
		}
	}
	var out []fixgraph.Conflict
	for f, vs := range byField {
		if !disagree(vs) {
			continue
		}
		c := fixgraph.Conflict{Field: f, Values: vs}
		for _, v := range vs {
			if v.Editorial && docs[v.Document].Status != fixgraph.StatusArchived {
				c.Settled = true
			}
		}
		slices.SortFunc(c.Values, func(a, b fixgraph.ConflictValue) int {
			if a.Editorial != b.Editorial {
				if a.Editorial {
					return 1
				}
				return -1
			}
			return cmp.Or(cmp.Compare(a.Department, b.Department), cmp.Compare(a.Document, b.Document))
		})
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b fixgraph.Conflict) int { return cmp.Compare(a.Field, b.Field) })
	return out, nil
}

// disagree reports whether two ingested documents of different departments give different values.
func disagree(vs []fixgraph.ConflictValue) bool {
	for i, a := range vs {
		for _, b := range vs[i+1:] {
			if !a.Editorial && !b.Editorial && a.Department != b.Department && a.Value != b.Value {
				return true
			}
		}
	}
	return false
}

// notConflicts are the JSON fields that identify a node or merge without conflict.
var notConflicts = map[string]bool{
	"id": true, "code": true, "product": true, "model": true, "sku": true, "url": true, "compatible": true,
	"sectionId": true, "documentId": true, "language": true, "warehouse": true,
}

// fieldValues returns a node's non-empty fields by JSON path ("symptom.zh", "severity"), lists
// joined by new lines, identity fields left out.
func fieldValues(n fixgraph.Node) (map[string]string, error) {
	raw, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				out[prefix] = s
			}
		case []any:
			var l []string
			for _, e := range v {
				if s := strings.TrimSpace(fmt.Sprint(e)); s != "" {
					l = append(l, s)
				}
			}
			if len(l) > 0 {
				out[prefix] = strings.Join(l, "\n")
			}
		case map[string]any:
			for k, e := range v {
				walk(prefix+"."+k, e)
			}
		case float64, bool:
			out[prefix] = fmt.Sprint(v)
		}
	}
	for k, v := range m {
		if !notConflicts[k] {
			walk(k, v)
		}
	}
	return out, nil
}
