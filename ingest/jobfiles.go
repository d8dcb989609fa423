package ingest

// A job's files: what each input of an upload or paths job expands to (files under a
// directory, entries of a zip archive, uploaded files in the spool), read lazily one at a time,
// and ingested with retries while a store is unavailable.

import (
	"cmp"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
)

// item is one file of a job: read lazily, so a job holds one file in memory at a time.
type item struct {
	name, source string
	read         func() ([]byte, error)
	err          error // refused before reading
	close        func()
}

// files ingests an upload or a paths job: each input, each file under a directory input and each
// entry of a zip archive, in a fixed order, so a resumed job knows which it has done.
func (js *Jobs) files(ctx context.Context, p *Pipeline, j *fixgraph.Job, emit func(fixgraph.JobFile) error) error {
	done, err := js.done(j.ID)
	if err != nil {
		return err
	}
	var items []item
	defer func() {
		for _, it := range items {
			if it.close != nil {
				it.close()
			}
		}
	}()
	for seq, in := range j.Inputs {
		if in.Spooled {
			items = append(items, js.expandSpooled(p, j, seq, in)...)
		} else {
			items = append(items, js.expand(p, j, in)...)
		}
	}
	j.Total = len(items)
	for seq, it := range items {
		if done[seq] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		res := js.ingestItem(ctx, p, it)
		if ctx.Err() != nil && res.Outcome == Failed {
			return ctx.Err() // not this file's fault: leave it for the resumed job
		}
		if res.Outcome == Failed && fixgraph.CodeOf(res.Err) == fixgraph.EUNAVAILABLE {
			// Not this file's fault either: a store is down. Leave it for when it is back.
			return res.Err
		}
		if err := emit(fixgraph.JobFile{Seq: seq, Name: it.name, FileResult: res}); err != nil {
			return err
		}
	}
	return nil
}

// unavailableRetries are the waits before trying again a file whose store (the graph, the
// index, the spool) was unavailable: a server restarting comes back within them.
var unavailableRetries = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// ingestItem reads and ingests one file, trying again while a store is unavailable. A write to
// the graph is one transaction, so a failed attempt left nothing half-written.
func (js *Jobs) ingestItem(ctx context.Context, p *Pipeline, it item) FileResult {
	for i := 0; ; i++ {
		res := FileResult{Source: it.source}
		err := it.err
		var data []byte
		if err == nil {
			data, err = it.read()
		}
		if err == nil {
			res = p.IngestFile(ctx, it.source, data)
		} else {
			res.Outcome, res.Err, res.Error = Failed, err, fixgraph.MessageOf(err)
		}
		if res.Outcome != Failed || fixgraph.CodeOf(res.Err) != fixgraph.EUNAVAILABLE || i == len(unavailableRetries) {
			return res
		}
		js.Log.Warn("a store is unavailable; trying the file again", "file", it.name, "in", unavailableRetries[i], "err", res.Err)
		select {
		case <-ctx.Done():
			return res
		case <-time.After(unavailableRetries[i]):
		}
	}
}

// sourceOf names the document a job's file becomes. Uploads are named by department and file
// name, so uploading a file again, alone or in an archive, makes a new version of one document.
func sourceOf(j *fixgraph.Job, in fixgraph.JobInput, name string) string {
	if j.Kind == fixgraph.JobUpload {
		return "upload:" + cmp.Or(j.Department, "default") + "/" + name
	}
	return name
}

func (js *Jobs) expand(p *Pipeline, j *fixgraph.Job, in fixgraph.JobInput) []item {
	refuse := func(name string, err error) []item {
		return []item{{name: name, source: sourceOf(j, in, name), err: err}}
	}
	if in.Error != "" {
		return refuse(in.Name, &fixgraph.Error{Code: cmp.Or(in.Code, fixgraph.EINVALID), Message: in.Error})
	}
	st, err := os.Stat(in.Path)
	if err != nil {
		if j.Kind == fixgraph.JobUpload {
			return refuse(in.Name, fixgraph.Errorf(fixgraph.ENOTFOUND, "the uploaded file is gone from the spool (was the data directory cleaned?)"))
		}
		return refuse(in.Name, fixgraph.WrapError(fixgraph.EINVALID, err, "cannot read %s", in.Name))
	}
	if st.IsDir() {
		var out []item
		filepath.WalkDir(in.Path, func(name string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				out = append(out, refuse(name, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "cannot read %s", name))...)
				return nil
			case strings.HasPrefix(d.Name(), ".") && name != in.Path:
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			case d.IsDir():
				return nil
			}
			out = append(out, js.expand(p, j, fixgraph.JobInput{Name: name, Path: name})...)
			return nil
		})
		return out
	}
	name := in.Name
	if j.Kind == fixgraph.JobPaths {
		name = in.Path
	}
	if !IsZip(in.Name, head(in.Path)) {
		return []item{{name: name, source: sourceOf(j, in, name), read: func() ([]byte, error) { return readFileLimited(p, in.Path) }}}
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return refuse(name, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "cannot open %s", name))
	}
	return expandZip(p, j, in, name, sizedFile{f, st.Size()})
}

// expandSpooled is expand for an uploaded file in the spool, number seq of the job.
func (js *Jobs) expandSpooled(p *Pipeline, j *fixgraph.Job, seq int, in fixgraph.JobInput) []item {
	refuse := func(err error) []item {
		return []item{{name: in.Name, source: sourceOf(j, in, in.Name), err: err}}
	}
	if in.Error != "" {
		return refuse(&fixgraph.Error{Code: cmp.Or(in.Code, fixgraph.EINVALID), Message: in.Error})
	}
	f, err := js.spool().Open(j.ID, seq)
	if errors.Is(err, os.ErrNotExist) {
		return refuse(fixgraph.Errorf(fixgraph.ENOTFOUND, "the uploaded file is gone from the spool"))
	}
	if err != nil {
		return refuse(fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "cannot read the uploaded file from the spool"))
	}
	hdr := make([]byte, 8)
	n, _ := f.ReadAt(hdr, 0)
	if IsZip(in.Name, hdr[:n]) {
		return expandZip(p, j, in, in.Name, f)
	}
	f.Close()
	read := func() ([]byte, error) {
		max := int64(cmp.Or(p.MaxFileSize, DefaultMaxFileSize))
		f, err := js.spool().Open(j.ID, seq)
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "cannot read the uploaded file from the spool")
		}
		defer f.Close()
		if f.Size() > max {
			return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "file is %d bytes, over the limit of %d bytes", f.Size(), max)
		}
		data := make([]byte, f.Size())
		if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "cannot read the uploaded file from the spool")
		}
		return data, nil
	}
	return []item{{name: in.Name, source: sourceOf(j, in, in.Name), read: read}}
}

// expandZip lists the entries of the archive f, which the items close once done.
func expandZip(p *Pipeline, j *fixgraph.Job, in fixgraph.JobInput, name string, f SpooledFile) []item {
	refuse := func(err error) []item {
		return []item{{name: name, source: sourceOf(j, in, name), err: err}}
	}
	z, err := p.OpenZip(f, f.Size())
	if err != nil {
		f.Close()
		return refuse(err)
	}
	var out []item
	for _, e := range z.Entries {
		entryName := zipSource(name, e.Name)
		src := entryName
		if j.Kind == fixgraph.JobUpload {
			src = sourceOf(j, in, e.Name)
		}
		out = append(out, item{name: entryName, source: src, err: asErr(e.Err), read: func() ([]byte, error) { return z.Read(e) }})
	}
	if len(out) == 0 {
		f.Close()
		return refuse(fixgraph.Errorf(fixgraph.EUNREADABLE, "zip archive has no files"))
	}
	out[0].close = func() { f.Close() }
	return out
}

// asErr returns e as an error, nil when e is nil (a nil *Error in an error is not nil).
func asErr(e *fixgraph.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// head returns the first bytes of a file, for sniffing its type.
func head(name string) []byte {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 8)
	n, _ := io.ReadFull(f, b)
	return b[:n]
}

// readFileLimited reads a file, refusing it without reading when it is over the size limit.
func readFileLimited(p *Pipeline, name string) ([]byte, error) {
	max := int64(cmp.Or(p.MaxFileSize, DefaultMaxFileSize))
	f, err := os.Open(name)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "cannot open file")
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "file is %d bytes, over the limit of %d bytes", st.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "cannot read file")
	}
	if int64(len(data)) > max {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "file is over the limit of %d bytes", max)
	}
	return data, nil
}
