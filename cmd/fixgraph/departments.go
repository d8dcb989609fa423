package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/ingest"
)

// Both graph stores settle reviews: the pipeline flips a reviewed version's status through them.
var (
	_ ingest.StatusSetter = (*graph.Bolt)(nil)
	_ ingest.StatusSetter = (*graph.Neo4j)(nil)
)

const departmentsUsage = `usage:
  fixgraph departments list [--json]
  fixgraph departments set DEPT --review-before-publish=true|false`

// runDepartments shows and changes departments' settings, through the running server when one
// holds the data directory.
func runDepartments(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, departmentsUsage)
		return exitError{2}
	}
	cmd, rest := args[0], args[1:]
	var name string
	if cmd == "set" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:] // the department comes before its flags
	}
	var cfg config
	fs := newFlags("departments "+cmd, stderr, &cfg)
	review := fs.Bool("review-before-publish", false, "store the department's uploads and crawls in review until a reviewer of the department approves them")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	cfg.embedder = "none"
	switch cmd {
	case "list":
		q, err := openQuerier(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer q.Close()
		var out struct {
			Departments []struct {
				Name                string `json:"name"`
				ReviewBeforePublish bool   `json:"reviewBeforePublish"`
				UpdatedBy           string `json:"updatedBy"`
			}
		}
		if err := q.query(ctx, `{ departments { name reviewBeforePublish updatedBy } }`, nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(out.Departments)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DEPARTMENT\tREVIEW BEFORE PUBLISH\tSET BY")
		for _, d := range out.Departments {
			fmt.Fprintf(tw, "%s\t%v\t%s\n", d.Name, d.ReviewBeforePublish, d.UpdatedBy)
		}
		return tw.Flush()
	case "set":
		if name == "" {
			fmt.Fprintln(stderr, departmentsUsage)
			return exitError{2}
		}
		q, err := openQuerier(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer q.Close()
		var out struct {
			SetDepartment struct {
				Name                string
				ReviewBeforePublish bool
			}
		}
		err = q.query(ctx, `mutation($name: String!, $review: Boolean!) {
  setDepartment(name: $name, reviewBeforePublish: $review) { name reviewBeforePublish } }`, map[string]any{"name": name, "review": *review}, &out)
		if err != nil {
			return err
		}
		if out.SetDepartment.ReviewBeforePublish {
			fmt.Fprintf(stdout, "department %s: uploads and crawls wait in review until a reviewer of %s approves them\n", out.SetDepartment.Name, out.SetDepartment.Name)
		} else {
			fmt.Fprintf(stdout, "department %s: uploads and crawls are published at once\n", out.SetDepartment.Name)
		}
		return nil
	}
	fmt.Fprintln(stderr, departmentsUsage)
	return exitError{2}
}
