package search

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// tokenizerJSON is the part of a Hugging Face tokenizer.json that a BERT WordPiece tokenizer needs.
type tokenizerJSON struct {
	Normalizer *struct {
		Type      string `json:"type"`
		Lowercase *bool  `json:"lowercase"`
	} `json:"normalizer"`
	Model struct {
		Type                    string           `json:"type"`
		UnkToken                string           `json:"unk_token"`
		ContinuingSubwordPrefix string           `json:"continuing_subword_prefix"`
		Vocab                   map[string]int64 `json:"vocab"`
	} `json:"model"`
}

// LoadTokenizerJSON reads the WordPiece tokenizer of a BERT model from a Hugging Face tokenizer.json
// at path: the vocabulary of its WordPiece model and whether its BertNormalizer lower-cases. Other
// tokenizer models (Unigram, BPE) are refused with an error naming them.
func LoadTokenizerJSON(path string) (*WordPiece, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening tokenizer: %w", err)
	}
	defer f.Close()
	w, err := NewTokenizerJSON(f)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer %q: %w", path, err)
	}
	return w, nil
}

// NewTokenizerJSON reads a tokenizer.json from r; see LoadTokenizerJSON.
func NewTokenizerJSON(r io.Reader) (*WordPiece, error) {
	var t tokenizerJSON
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, err
	}
	if t.Model.Type != "WordPiece" {
		return nil, fmt.Errorf("tokenizer model %q is not WordPiece", t.Model.Type)
	}
	if p := t.Model.ContinuingSubwordPrefix; p != "" && p != "##" {
		return nil, fmt.Errorf("WordPiece continuation prefix %q is not ##", p)
	}
	if u := t.Model.UnkToken; u != "" && u != tokUnk {
		return nil, fmt.Errorf("WordPiece unknown token %q is not %s", u, tokUnk)
	}
	if len(t.Model.Vocab) == 0 {
		return nil, fmt.Errorf("WordPiece model has no vocabulary")
	}
	n := int64(0)
	for _, id := range t.Model.Vocab {
		if id < 0 || id >= 1<<24 {
			return nil, fmt.Errorf("vocabulary id %d out of range", id)
		}
		n = max(n, id+1)
	}
	tokens := make([]string, n)
	for tok, id := range t.Model.Vocab {
		if tokens[id] != "" {
			return nil, fmt.Errorf("vocabulary id %d given to both %q and %q", id, tokens[id], tok)
		}
		tokens[id] = tok
	}
	lower := false
	if nz := t.Normalizer; nz != nil && nz.Type == "BertNormalizer" && nz.Lowercase != nil {
		lower = *nz.Lowercase
	}
	return newWordPiece(tokens, lower)
}
