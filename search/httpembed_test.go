package search_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/search"
)

// embeddingsServer answers /v1/embeddings as OpenAI-compatible servers do, with vectors from the
// hashing embedder, in reverse order to check that the index field is honoured.
func embeddingsServer(t *testing.T, requests *atomic.Int32, inputs *[]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		requests.Add(1)
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "bge" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		*inputs = append(*inputs, req.Input...)
		vecs, _ := hashEmbedder{16}.Embed(r.Context(), req.Input, false)
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i := len(vecs) - 1; i >= 0; i-- {
			v := vecs[i]
			for j := range v {
				v[j] *= 3 // not normalised by the server
			}
			data = append(data, item{i, v})
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
}

func TestHTTPEmbedder(t *testing.T) {
	var n atomic.Int32
	var inputs []string
	srv := embeddingsServer(t, &n, &inputs)
	defer srv.Close()
	e := &search.HTTPEmbedder{URL: srv.URL, Model: "bge", APIKey: "k", QueryPrefix: "Q: ", BatchSize: 2}
	texts := []string{"排水泵", "drain pump", "门锁"}
	vecs, err := e.Embed(context.Background(), texts, false)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hashEmbedder{16}.Embed(context.Background(), texts, false)
	for i := range texts {
		var norm float64
		for j, f := range vecs[i] {
			norm += float64(f) * float64(f)
			if math.Abs(float64(f-want[i][j])) > 1e-6 {
				t.Fatalf("vector %d differs from the server's (order or normalisation)", i)
			}
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Errorf("vector %d has norm %f", i, norm)
		}
	}
	if n.Load() != 2 || e.Dim() != 16 {
		t.Errorf("%d requests, dim %d; want 2 batches and a learned dimension of 16", n.Load(), e.Dim())
	}
	if _, err := e.Embed(context.Background(), []string{"门锁坏了"}, true); err != nil || inputs[len(inputs)-1] != "Q: 门锁坏了" {
		t.Errorf("query prefix: %v, sent %q", err, inputs[len(inputs)-1])
	}

	bad := &search.HTTPEmbedder{URL: srv.URL, Model: "bge", APIKey: "wrong"}
	if err := bad.Probe(context.Background()); fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong key: %v", err)
	}
	srv.Close()
	if _, err := e.Embed(context.Background(), []string{"x"}, false); fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("server down: %v", err)
	}
}

// TestHTTPEmbedderInputType sends the kind of text for servers that prefix it themselves, and
// nothing of the kind otherwise.
func TestHTTPEmbedderInputType(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		kind, _ := req["input_type"].(string)
		got = append(got, kind)
		json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{{"index": 0, "embedding": []float32{1, 0}}}})
	}))
	defer srv.Close()
	for _, c := range []struct {
		inputType bool
		want      []string
	}{{true, []string{"query", "passage"}}, {false, []string{"", ""}}} {
		got = nil
		e := &search.HTTPEmbedder{URL: srv.URL, InputType: c.inputType}
		for _, query := range []bool{true, false} {
			if _, err := e.Embed(context.Background(), []string{"x"}, query); err != nil {
				t.Fatal(err)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("InputType %v: input_type %q, want %q", c.inputType, got, c.want)
		}
	}
}
