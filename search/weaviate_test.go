package search_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/search"
)

func mustWeaviate(t *testing.T, emb search.Embedder) *search.Weaviate {
	t.Helper()
	addr := servertest.WeaviateURL(t, search.WeaviateClasses...)
	w, err := search.OpenWeaviate(context.Background(), addr, emb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestWeaviateMatchesEmbedded writes the same documents to Weaviate and to the embedded indexes
// and checks that both rank alike, filter alike, and forget removed sections alike.
func TestWeaviateMatchesEmbedded(t *testing.T) {
	ctx := context.Background()
	w := mustWeaviate(t, hashEmbedder{32})
	emb := &search.Hybrid{Text: mustText(t, t.TempDir()), Vectors: mustVectors(t, t.TempDir(), 32)}

	manual := doc("washer.html", 1)
	faq := doc("faq.html", 1)
	faq.Kind = fixgraph.KindFAQ
	draft := doc("draft.html", 1)
	draft.Status = fixgraph.StatusDraft
	drain := section(manual, "E-102 排水泵堵塞", "洗涤结束后不排水。Clean the drain pump filter DC31-00178A.")
	drain.Products = []string{"WF-8012D"}
	door := section(manual, "门锁故障", "The door lock does not engage; 显示 E104。")
	door.Products = []string{"WF-8012D"}
	invoice := section(faq, "发票怎么开", "下单后在订单页申请电子发票。")
	pump := section(faq, "排水泵多久清理一次", "建议每月清理一次排水泵过滤器。")
	secret := section(draft, "排水泵草稿", "排水泵的草稿说明。")
	writes := []struct {
		d    *fixgraph.Document
		secs []*fixgraph.Section
	}{{manual, []*fixgraph.Section{drain, door}}, {faq, []*fixgraph.Section{invoice, pump}}, {draft, []*fixgraph.Section{secret}}}
	for _, wr := range writes {
		for _, ix := range []interface {
			Update(context.Context, *fixgraph.Document, []*fixgraph.Section, []string) error
		}{w, emb} {
			if err := ix.Update(ctx, wr.d, wr.secs, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	published := fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished}}
	queries := []string{"E102", "排水泵", "洗衣机显示E102怎么办", "door lock", "发票", "cleaning filters", "WF-8012D 排水"}
	for _, mode := range []search.Mode{search.ModeBM25, search.ModeHybrid} {
		wm, _ := w.WithMode(mode)
		em, _ := emb.WithMode(mode)
		for _, q := range queries {
			got, err := wm.Search(ctx, q, 5, published)
			if err != nil {
				t.Fatalf("%s %q: %v", mode, q, err)
			}
			want, _ := em.Search(ctx, q, 5, published)
			if len(got) == 0 || len(want) == 0 || got[0].Section.ID != want[0].Section.ID || len(got) != len(want) {
				t.Errorf("%s %q: weaviate %v, embedded %v", mode, q, ids(got), ids(want))
			}
			if slices.Contains(ids(got), secret.ID) {
				t.Errorf("%s %q: a draft section came back under the published filter", mode, q)
			}
		}
	}
	// Membership is checked on BM25 alone: the vector ranking always returns its nearest.
	w, _ = w.WithMode(search.ModeBM25)
	faqs := fixgraph.SearchFilter{Kinds: []fixgraph.DocKind{fixgraph.KindFAQ}}
	if got, _ := w.Search(ctx, "排水泵", 5, faqs); !slices.Equal(ids(got), []string{pump.ID}) {
		t.Errorf("kind filter: %v", ids(got))
	}

	// A new version without the door section: it is gone from Weaviate, and writing the same
	// version again changes nothing.
	manual.Version = 2
	for range 2 {
		if err := w.Update(ctx, manual, []*fixgraph.Section{drain}, []string{door.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := w.Search(ctx, "door lock", 5, published); slices.Contains(ids(got), door.ID) {
		t.Errorf("removed section still found: %v", ids(got))
	}
	if got, _ := w.Search(ctx, "排水泵", 10, fixgraph.SearchFilter{}); len(got) != 3 {
		t.Errorf("after the update, 排水泵 finds %v; want drain, pump and the draft once each", ids(got))
	}
	if s, err := w.Stamp(manual.ID); err != nil || s == "" {
		t.Errorf("Stamp = %q, %v", s, err)
	}
	if s, err := w.Stamp("doc:none"); err != nil || s != "" {
		t.Errorf("Stamp of an unknown document = %q, %v; want empty", s, err)
	}
	if err := w.Remove(ctx, faq.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.Search(ctx, "发票", 5, fixgraph.SearchFilter{}); len(got) != 0 {
		t.Errorf("removed document still found: %v", ids(got))
	}
}

// TestWeaviateUpdatesBM25 opens a sections class made with other BM25 parameters (by an older
// fixgraph) and checks that it gets the embedded index's, so both deployments score alike.
func TestWeaviateUpdatesBM25(t *testing.T) {
	addr := servertest.WeaviateURL(t, search.WeaviateClasses...)
	base := strings.SplitN(addr, "?", 2)[0]
	class := search.WeaviateClasses[0]
	old := `{"class":"` + class + `","vectorizer":"none","invertedIndexConfig":{"bm25":{"k1":1.2,"b":0.75}},` +
		`"properties":[{"name":"tokens","dataType":["text"],"tokenization":"whitespace"}]}`
	resp, err := http.Post(base+"/v1/schema", "application/json", strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("creating the old class: %s", resp.Status)
	}
	w, err := search.OpenWeaviate(context.Background(), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	resp, err = http.Get(base + "/v1/schema/" + class)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		InvertedIndexConfig struct {
			BM25 struct{ K1, B float64 } `json:"bm25"`
		} `json:"invertedIndexConfig"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if b := got.InvertedIndexConfig.BM25; math.Abs(b.K1-search.BM25K1) > 1e-6 || math.Abs(b.B-search.BM25B) > 1e-6 {
		t.Errorf("BM25 parameters after opening: k1 %v b %v, want %v and %v", b.K1, b.B, search.BM25K1, search.BM25B)
	}
}

// TestWeaviateUnreachable checks the error for a server that does not answer.
func TestWeaviateUnreachable(t *testing.T) {
	_, err := search.OpenWeaviate(context.Background(), "http://127.0.0.1:1?grpc=127.0.0.1:2", nil)
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Fatalf("OpenWeaviate(closed port) = %v, want unavailable", err)
	}
	if _, err := search.OpenWeaviate(context.Background(), "bolt://x", nil); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("OpenWeaviate(bolt URL) = %v, want invalid", err)
	}
}

// TestWeaviateReplicas opens the index on the two-node test cluster with the replicas
// parameter: the classes are created once with that factor and found again through either
// node, a factor the cluster cannot hold or that differs from the classes' is refused.
func TestWeaviateReplicas(t *testing.T) {
	node1, node2 := servertest.WeaviateClusterURLs(t, search.WeaviateClasses...)
	ctx := context.Background()
	with := func(addr, replicas string) string { return addr + "&replicas=" + replicas }
	for _, tc := range []struct {
		name, addr string
		code       string // "" for success
		replicas   int
	}{
		{"too many for the cluster", with(node1, "3"), fixgraph.EINVALID, 0},
		{"not a number", with(node1, "two"), fixgraph.EINVALID, 0},
		{"zero", with(node1, "0"), fixgraph.EINVALID, 0},
		{"created on two nodes", with(node1, "2"), "", 2},
		{"again, through node2", with(node2, "2"), "", 2},
		{"without the parameter", node1, "", 2},
		{"a different factor", with(node2, "1"), fixgraph.EINVALID, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := search.OpenWeaviate(ctx, tc.addr, nil)
			if tc.code != "" {
				if fixgraph.CodeOf(err) != tc.code {
					t.Fatalf("OpenWeaviate(%s) = %v, want %s", tc.addr, err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if w.Replicas() != tc.replicas {
				t.Errorf("replicas %d, want %d", w.Replicas(), tc.replicas)
			}
		})
	}
}
