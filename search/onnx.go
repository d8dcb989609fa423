package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/fixgraph/fixgraph"
)

// BGEQueryPrefix is the instruction bge-*-zh-v1.5 models want before a short query (not before
// passages) when retrieving passages.
const BGEQueryPrefix = "为这个句子生成表示以用于检索相关文章："

// ONNXOptions tunes OpenONNX. Zero values take the defaults.
type ONNXOptions struct {
	// MaxTokens is the most tokens of a text the model sees, [CLS] and [SEP] included; the rest is
	// cut. Default and maximum 512.
	MaxTokens int
	// BatchSize is how many texts share one session run, padded to the longest. Default 1; see ONNX
	// for why batching is off.
	BatchSize int
	// Threads is how many cores the embedder uses at most: with BatchSize 1, that many texts run at
	// once on one ONNX Runtime thread each; with bigger batches, one batch at a time on that many
	// intra-op threads. Default 2.
	Threads int
	// Model describes the model in the directory: its files, pooling and prefixes. The zero Model
	// means DefaultModel's description (bge-small-zh-v1.5).
	Model Model
}

const (
	onnxMaxTokens = 512 // the model's position embeddings
	onnxBatchSize = 1
	onnxThreads   = 2
)

func (o ONNXOptions) withDefaults() ONNXOptions {
	if o.MaxTokens <= 0 || o.MaxTokens > onnxMaxTokens {
		o.MaxTokens = onnxMaxTokens
	}
	o.MaxTokens = max(o.MaxTokens, 2)
	if o.BatchSize <= 0 {
		o.BatchSize = onnxBatchSize
	}
	if o.Threads <= 0 {
		o.Threads = onnxThreads
	}
	if o.Model.Name == "" {
		o.Model, _ = LookupModel(DefaultModel)
	}
	return o
}

// ONNX is the default embedder: a BERT-style model (bge-small-zh-v1.5, int8, unless ONNXOptions.Model
// names another of Models) in ONNX format run by ONNX Runtime on the CPU through
// github.com/yalue/onnxruntime_go, with the WordPiece tokenizer in Go. A vector is the hidden state of
// [CLS] (token 0) or the mean of the text's token states, as the model wants, scaled to unit length;
// query and passage texts get the model's prefixes first (BGEQueryPrefix before queries for
// bge-small-zh-v1.5).
//
// Texts are not batched by default. The int8 model quantizes its activations dynamically, with one
// scale for the whole input tensor, so in a batch a text's vector depends on its batch mates and on
// the padding: on 160 passages of the corpora, batches of 16 moved vectors to a median cosine of
// 0.995 (as low as 0.967) from the text's own vector and changed 5% of nearest neighbours. Speed
// does not make up for it (BenchmarkEmbed64 and BenchmarkEmbed256 on 2 cores): batches were about
// 14% faster at 64 tokens (about 318 against 278 texts/s) and slower at 256 (51 against 67). One
// text per run, two runs at once on one thread each, gives every text the vector it has alone,
// which is also what other runtimes give it.
//
// An ONNX is safe for concurrent use. All calls share one session and together use at most
// Threads cores: runs beyond that wait their turn, one run at a time, so a short query waits for
// at most a run of another call.
type ONNX struct {
	spec    Model
	tok     *WordPiece
	opts    ONNXOptions
	dim     int
	typeIDs bool // the model takes token_type_ids
	model   string
	slots   chan struct{} // one token per session run allowed at once

	mu      sync.RWMutex // guards session against Close
	session *ort.DynamicAdvancedSession
}

var _ Embedder = (*ONNX)(nil)

// The ONNX Runtime environment is process-global in onnxruntime_go: InitializeEnvironment loads the
// shared library and may run only once until DestroyEnvironment. ortEnv makes it happen once for
// all the ONNX values of the process: the first OpenONNX initialises it, later ones share it (they
// must name the same library), and Close of the last open ONNX destroys it, so a later OpenONNX
// starts afresh. A failed initialisation is not remembered, so a corrected path can be tried again.
// Nothing else in the process may call onnxruntime_go's InitializeEnvironment or DestroyEnvironment.
var ortEnv struct {
	mu   sync.Mutex
	refs int    // open ONNX values
	lib  string // the library loaded, while refs > 0
}

// acquireORT initialises the ONNX Runtime environment with the library at libPath, or shares the one
// already initialised from the same library.
func acquireORT(libPath string) error {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ortEnv.refs > 0 {
		if !sameFile(ortEnv.lib, libPath) {
			return fmt.Errorf("ONNX Runtime is already loaded from %q, not %q: one process uses one library", ortEnv.lib, libPath)
		}
		ortEnv.refs++
		return nil
	}
	ort.SetSharedLibraryPath(libPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("loading ONNX Runtime from %q: %w", libPath, err)
	}
	ortEnv.refs, ortEnv.lib = 1, libPath
	return nil
}

// releaseORT drops one reference to the environment and destroys it with the last one.
func releaseORT() error {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ortEnv.refs--; ortEnv.refs > 0 {
		return nil
	}
	ortEnv.refs, ortEnv.lib = 0, ""
	return ort.DestroyEnvironment()
}

func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// modelFiles are the places an ONNX model may have in a model directory, in order of preference,
// after the one its Model names.
var modelFiles = []string{"onnx/model_quantized.onnx", "model_quantized.onnx", "onnx/model.onnx", "model.onnx"}

// OpenONNX loads ONNX Runtime from libPath (libonnxruntime.so.1; empty means the dynamic loader's
// search path) and the model that opts.Model describes from modelDir, as scripts/fetch-model.sh
// lays it out: its File (else onnx/model_quantized.onnx, model_quantized.onnx, onnx/model.onnx or
// model.onnx) and its Tokenizer (else vocab.txt or tokenizer.json). The model must take input_ids
// and attention_mask (and may take token_type_ids) as int64 and give a [batch, tokens, dim] float
// output, preferably named last_hidden_state, of the Model's Dim. Close releases it.
func OpenONNX(modelDir, libPath string, opts ONNXOptions) (*ONNX, error) {
	opts = opts.withDefaults()
	spec := opts.Model
	if spec.Engine != "" && spec.Engine != "onnx" {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "model %q runs in %s, not on ONNX Runtime", spec.Name, spec.Engine)
	}
	if libPath == "" {
		libPath = "libonnxruntime.so.1"
	}
	var model string
	for _, f := range append([]string{spec.File}, modelFiles...) {
		if p := filepath.Join(modelDir, f); f != "" && fileExists(p) {
			model = p
			break
		}
	}
	if model == "" {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no ONNX model in %q (run scripts/fetch-model.sh %s)", modelDir, spec.Name)
	}
	var tokFile string
	for _, f := range []string{spec.Tokenizer, "vocab.txt", "tokenizer.json"} {
		if p := filepath.Join(modelDir, f); f != "" && fileExists(p) {
			tokFile = p
			break
		}
	}
	if tokFile == "" {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no vocab.txt or tokenizer.json in %q (run scripts/fetch-model.sh %s)", modelDir, spec.Name)
	}
	load := LoadWordPiece
	if filepath.Ext(tokFile) == ".json" {
		load = LoadTokenizerJSON
	}
	tok, err := load(tokFile)
	if err != nil {
		return nil, err
	}
	if err := acquireORT(libPath); err != nil {
		return nil, err
	}
	parallel, intra := opts.Threads, 1
	if opts.BatchSize > 1 {
		parallel, intra = 1, opts.Threads
	}
	e := &ONNX{spec: spec, tok: tok, opts: opts, model: model, slots: make(chan struct{}, parallel)}
	if err := e.open(intra); err != nil {
		releaseORT()
		return nil, err
	}
	return e, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// open checks the model's inputs and output and makes the session.
func (e *ONNX) open(threads int) error {
	ins, outs, err := ort.GetInputOutputInfo(e.model)
	if err != nil {
		return fmt.Errorf("reading model %q: %w", e.model, err)
	}
	inputs := []string{"input_ids", "attention_mask"}
	for _, name := range inputs {
		i := slices.IndexFunc(ins, func(in ort.InputOutputInfo) bool { return in.Name == name })
		if i < 0 || ins[i].DataType != ort.TensorElementDataTypeInt64 {
			return fmt.Errorf("model %q has no int64 input %q", e.model, name)
		}
	}
	for _, in := range ins {
		switch in.Name {
		case "input_ids", "attention_mask":
		case "token_type_ids":
			e.typeIDs = true
			inputs = append(inputs, in.Name)
		default:
			return fmt.Errorf("model %q has an input %q that BERT models do not have", e.model, in.Name)
		}
	}
	// The output: last_hidden_state if there is one, else the first [batch, tokens, dim] float output.
	out := -1
	for i, o := range outs {
		if o.DataType == ort.TensorElementDataTypeFloat && len(o.Dimensions) == 3 && o.Dimensions[2] > 0 &&
			(out < 0 || o.Name == "last_hidden_state") {
			out = i
		}
	}
	if out < 0 {
		return fmt.Errorf("model %q has no [batch, tokens, dim] float output", e.model)
	}
	e.dim = int(outs[out].Dimensions[2])
	if e.spec.Dim > 0 && e.dim != e.spec.Dim {
		return fmt.Errorf("model %q gives %d dimensions, not the %d of %s", e.model, e.dim, e.spec.Dim, e.spec.Name)
	}

	so, err := ort.NewSessionOptions()
	if err != nil {
		return fmt.Errorf("making ONNX session options: %w", err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		return fmt.Errorf("setting ONNX Runtime threads: %w", err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return fmt.Errorf("setting ONNX Runtime threads: %w", err)
	}
	// Idle intra-op threads (with more than one) would otherwise spin for a while after every run,
	// taking the cores from the rest of the server.
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		return fmt.Errorf("configuring ONNX Runtime: %w", err)
	}
	s, err := ort.NewDynamicAdvancedSession(e.model, inputs, []string{outs[out].Name}, so)
	if err != nil {
		return fmt.Errorf("loading model %q: %w", e.model, err)
	}
	e.session = s
	return nil
}

// Dim returns the dimension of the vectors, 512 for bge-small-zh-v1.5.
func (e *ONNX) Dim() int { return e.dim }

// Model returns the description of the model it runs.
func (e *ONNX) Model() Model { return e.spec }

// ModelName returns the model's name, which the vector index records beside its vectors.
func (e *ONNX) ModelName() string { return e.spec.Name }

// Tokenizer returns the model's WordPiece tokenizer.
func (e *ONNX) Tokenizer() *WordPiece { return e.tok }

// String names the embedder in logs.
func (e *ONNX) String() string { return fmt.Sprintf("onnx embedder %s (%s)", e.spec.Name, e.model) }

// Close releases the session and, with the last open ONNX, the ONNX Runtime environment. It waits
// for calls in progress. Embed after Close fails.
func (e *ONNX) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.session == nil {
		return nil
	}
	err := e.session.Destroy()
	e.session = nil
	return errors.Join(err, releaseORT())
}

// Embed returns one unit vector per text, in order. Texts are cut to MaxTokens tokens.
func (e *ONNX) Embed(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	enc := make([][]int64, len(texts))
	for i, t := range texts {
		if query {
			t = e.spec.QueryPrefix + t
		} else {
			t = e.spec.PassagePrefix + t
		}
		enc[i] = e.tok.Encode(t, e.opts.MaxTokens)
	}
	// Batches of similar length keep padding, and so wasted work, small.
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	if e.opts.BatchSize > 1 {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(enc[a]), len(enc[b])) })
	}
	var batches [][]int
	for start := 0; start < len(order); start += e.opts.BatchSize {
		batches = append(batches, order[start:min(start+e.opts.BatchSize, len(order))])
	}

	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.session == nil {
		return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "the ONNX embedder is closed")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	work := func() {
		defer wg.Done()
		for {
			b := int(next.Add(1) - 1)
			if b >= len(batches) || ctx.Err() != nil {
				return
			}
			seqs := make([][]int64, len(batches[b]))
			for j, i := range batches[b] {
				seqs[j] = enc[i]
			}
			vecs, err := e.runBatch(ctx, seqs)
			if err != nil {
				cancel(err)
				return
			}
			for j, i := range batches[b] {
				out[i] = vecs[j]
			}
		}
	}
	workers := min(cap(e.slots), len(batches))
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work()
	wg.Wait()
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return out, nil
}

// runBatch runs the model on token sequences padded to the longest, returning the pooled unit vectors.
func (e *ONNX) runBatch(ctx context.Context, seqs [][]int64) ([][]float32, error) {
	n, width := len(seqs), 0
	for _, s := range seqs {
		width = max(width, len(s))
	}
	ids := make([]int64, n*width)
	mask := make([]int64, n*width)
	pad := e.tok.PadID()
	for i, s := range seqs {
		row := ids[i*width : (i+1)*width]
		copy(row, s)
		for j := len(s); j < width; j++ {
			row[j] = pad
		}
		for j := range s {
			mask[i*width+j] = 1
		}
	}
	shape := ort.NewShape(int64(n), int64(width))
	var values []ort.Value
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	add := func(data []int64) error {
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			return fmt.Errorf("making an input tensor: %w", err)
		}
		values = append(values, t)
		return nil
	}
	if err := add(ids); err != nil {
		return nil, err
	}
	if err := add(mask); err != nil {
		return nil, err
	}
	if e.typeIDs {
		if err := add(make([]int64, n*width)); err != nil {
			return nil, err
		}
	}
	hidden, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(n), int64(width), int64(e.dim)))
	if err != nil {
		return nil, fmt.Errorf("making the output tensor: %w", err)
	}
	inputs := values
	values = append(values, hidden)

	if err := e.runSession(ctx, inputs, hidden); err != nil {
		return nil, err
	}
	data := hidden.GetData()
	vecs := make([][]float32, n)
	for i := range vecs {
		row := data[i*width*e.dim : (i+1)*width*e.dim]
		if e.spec.Pooling == PoolMean {
			vecs[i] = unit(meanPool(row, e.dim, len(seqs[i])))
		} else {
			vecs[i] = unit(slices.Clone(row[:e.dim])) // token 0, [CLS]
		}
	}
	return vecs, nil
}

// runSession runs the session once, when a slot is free; ctx's end stops the run.
func (e *ONNX) runSession(ctx context.Context, inputs []ort.Value, output ort.Value) error {
	ro, err := ort.NewRunOptions()
	if err != nil {
		return fmt.Errorf("making ONNX run options: %w", err)
	}
	var roMu sync.Mutex // Terminate must not race Destroy
	stop := context.AfterFunc(ctx, func() {
		roMu.Lock()
		defer roMu.Unlock()
		if ro != nil {
			ro.Terminate()
		}
	})
	defer func() {
		stop()
		roMu.Lock()
		ro.Destroy()
		ro = nil
		roMu.Unlock()
	}()

	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	if err := e.session.RunWithOptions(inputs, []ort.Value{output}, ro); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fixgraph.WrapError(fixgraph.EINTERNAL, err, "running the embedding model")
	}
	return nil
}

// meanPool averages the first n token states of row, a [tokens, dim] matrix: the text's own tokens,
// without the padding after them.
func meanPool(row []float32, dim, n int) []float32 {
	sum := make([]float64, dim)
	for t := range n {
		for d, x := range row[t*dim : (t+1)*dim] {
			sum[d] += float64(x)
		}
	}
	out := make([]float32, dim)
	for d, x := range sum {
		out[d] = float32(x / float64(max(n, 1)))
	}
	return out
}
