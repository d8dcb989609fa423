package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fixgraph/fixgraph/ingest"
)

// explainFiles prints, for each file under paths, what ingest recognises in it (see
// ingest.Pipeline.Explain), without opening or writing any store. It fails when a file cannot be
// read at all; files ingest would refuse are explained with their error.
func explainFiles(ctx context.Context, paths []string, asJSON bool, stdout io.Writer) error {
	p := &ingest.Pipeline{}
	var files []string
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading %q: %w", root, err)
		}
	}
	enc := json.NewEncoder(stdout)
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := os.Stat(name)
		if err != nil {
			return err
		}
		if info.Size() > ingest.DefaultMaxFileSize {
			fmt.Fprintf(stdout, "%s: %d bytes, over the limit of %d bytes\n", name, info.Size(), ingest.DefaultMaxFileSize)
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		ex := p.Explain(ctx, name, data)
		if asJSON {
			if err := enc.Encode(ex); err != nil {
				return err
			}
			continue
		}
		printExplanation(stdout, ex)
	}
	return nil
}

func printExplanation(w io.Writer, ex *ingest.Explanation) {
	if ex.Error != "" {
		fmt.Fprintf(w, "%s: not ingested: %s\n\n", ex.Source, ex.Error)
		return
	}
	fmt.Fprintf(w, "%s\n  kind %s: %s\n  title %q, language %s", ex.Source, ex.Kind, ex.KindReason, ex.Title, ex.Language)
	if ex.Pages > 0 {
		fmt.Fprintf(w, ", %d pages", ex.Pages)
	}
	fmt.Fprintf(w, ", %d sections\n", ex.Sections)
	for _, t := range ex.Tables {
		var cols []string
		for _, c := range t.Columns {
			cols = append(cols, fmt.Sprintf("%s → %s", c.Header, c.Role))
		}
		where := ""
		if t.Page > 0 {
			where = fmt.Sprintf(" on page %d", t.Page)
		}
		fmt.Fprintf(w, "  table%s: %s; %d rows, %d codes\n", where, strings.Join(cols, " | "), t.Rows, t.Codes)
	}
	for _, c := range ex.Codes {
		fmt.Fprintf(w, "  code %s", c.Code)
		if c.Page > 0 {
			fmt.Fprintf(w, " (page %d)", c.Page)
		}
		fmt.Fprintf(w, ": %s", strings.TrimSpace(c.Symptom+" "+c.Cause))
		if len(c.Remedy) > 0 {
			fmt.Fprintf(w, "\n      remedy: %s", strings.Join(c.Remedy, " / "))
		}
		fmt.Fprintln(w)
	}
	if len(ex.Codes) == 0 {
		fmt.Fprintln(w, "  no error codes")
	}
	fmt.Fprintln(w)
}
