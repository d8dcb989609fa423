package gql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/gql"
)

// TestJobsOfOtherDepartments: an editor lists and reads its own department's jobs only, and
// one without a department only jobs of no department; an admin sees every one.
func TestJobsOfOtherDepartments(t *testing.T) {
	c, js := mustJobsClient(t)
	ids := map[string]string{}
	for _, dept := range []string{"support", "legal", ""} {
		j, err := js.SubmitCrawl(fixgraph.JobSpec{Department: dept}, fixgraph.CrawlConfig{Seeds: []string{"https://example.com/help/"}})
		if err != nil {
			t.Fatal(err)
		}
		ids[dept] = j.ID
	}
	supportEd := as(&fixgraph.Principal{ID: "user:li", Role: fixgraph.RoleEditor, Department: "support"})
	plainEd := as(&fixgraph.Principal{ID: "user:ma", Role: fixgraph.RoleReviewer})
	for _, tc := range []struct {
		name  string
		query string
		opt   client.Option
		want  []string // departments listed
	}{
		{"editor, no department asked", `{ jobs { department } }`, supportEd, []string{"support"}},
		{"reviewer without a department", `{ jobs { department } }`, plainEd, []string{""}},
		{"admin", `{ jobs { department } }`, admin, []string{"", "legal", "support"}},
		{"admin, one department", `{ jobs(department: "legal") { department } }`, admin, []string{"legal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out struct{ Jobs []struct{ Department string } }
			if err := c.Post(tc.query, &out, tc.opt); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, j := range out.Jobs {
				got = append(got, j.Department)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("listed the jobs of %q; want %q", got, tc.want)
			}
		})
	}
	var out map[string]any
	if err := c.Post(`{ jobs(department: "legal") { id } }`, &out, supportEd); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("an editor asking for another department's jobs: %v; want forbidden", err)
	}
	var one struct{ Job *struct{ ID string } }
	if err := c.Post(`query($id: ID!) { job(id: $id) { id } }`, &one, client.Var("id", ids["legal"]), supportEd); err != nil || one.Job != nil {
		t.Errorf("an editor reading another department's job: %+v, %v; want none", one.Job, err)
	}
	if err := c.Post(`query($id: ID!) { job(id: $id) { id } }`, &one, client.Var("id", ids["support"]), supportEd); err != nil || one.Job == nil {
		t.Errorf("an editor reading its department's job: %+v, %v", one.Job, err)
	}

	// GET /jobs/ID, as scripts and the editor's uploads page read it.
	h := gql.JobHandler(js, nil)
	for _, tc := range []struct {
		id   string
		p    *fixgraph.Principal
		want int
	}{
		{ids["legal"], &fixgraph.Principal{ID: "user:li", Role: fixgraph.RoleEditor, Department: "support"}, http.StatusNotFound},
		{ids["support"], &fixgraph.Principal{ID: "user:li", Role: fixgraph.RoleEditor, Department: "support"}, http.StatusOK},
		{ids["legal"], &fixgraph.Principal{ID: "user:root", Role: fixgraph.RoleAdmin}, http.StatusOK},
	} {
		req := httptest.NewRequestWithContext(fixgraph.WithPrincipal(context.Background(), tc.p), http.MethodGet, "/jobs/"+tc.id, nil)
		req.SetPathValue("id", tc.id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("GET /jobs/%s as %s: %d; want %d", tc.id, tc.p.ID, rec.Code, tc.want)
		}
	}
}

// TestUploadNamesAndPaths: a file name too long for any file system is refused with a clear
// invalid (not a 500), over HTTP and GraphQL; and what /upload and /jobs/ID answer names no path
// on the server.
func TestUploadNamesAndPaths(t *testing.T) {
	_, js := mustJobsClient(t)
	jobs := jobRunner{js}
	upload := gql.UploadHandler(jobs, 1<<20, nil, nil)
	post := func(name string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(fixgraph.WithPrincipal(context.Background(), fixgraph.Local), http.MethodPost,
			"/upload?name="+name, strings.NewReader("<html><h1>Manual</h1><p>text</p></html>"))
		rec := httptest.NewRecorder()
		upload.ServeHTTP(rec, req)
		return rec
	}
	long := strings.Repeat("长", 100) + ".html" // 305 bytes
	if rec := post(long); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"invalid"`) {
		t.Errorf("a name of %d bytes over HTTP: %d %s; want 400 invalid", len(long), rec.Code, rec.Body)
	}
	rec := post("manual.html")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	spool := js.Spool
	if strings.Contains(rec.Body.String(), spool) || strings.Contains(rec.Body.String(), `"path"`) {
		t.Errorf("the upload's answer shows the server's paths: %s", rec.Body)
	}
	var job struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &job)
	req := httptest.NewRequestWithContext(fixgraph.WithPrincipal(context.Background(), fixgraph.Local), http.MethodGet, "/jobs/"+job.ID, nil)
	req.SetPathValue("id", job.ID)
	got := httptest.NewRecorder()
	gql.JobHandler(js, nil).ServeHTTP(got, req)
	if got.Code != http.StatusOK || strings.Contains(got.Body.String(), spool) || strings.Contains(got.Body.String(), `"path"`) {
		t.Errorf("GET /jobs/ID shows the server's paths: %d %s", got.Code, got.Body)
	}

	// The same name through the GraphQL multipart upload.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("operations", `{"query":"mutation($f: [Upload!]!) { upload(files: $f) { id } }","variables":{"f":[null]}}`)
	mw.WriteField("map", `{"0":["variables.f.0"]}`)
	fw, _ := mw.CreateFormFile("0", long)
	fw.Write([]byte("<html><h1>Manual</h1></html>"))
	mw.Close()
	r := &gql.Resolver{Jobs: jobs, JobLog: js}
	h := gql.NewHandler(r, gql.Options{MaxUploadSize: 1 << 20})
	greq := httptest.NewRequestWithContext(fixgraph.WithPrincipal(context.Background(), fixgraph.Local), http.MethodPost, "/graphql", &body)
	greq.Header.Set("Content-Type", mw.FormDataContentType())
	grec := httptest.NewRecorder()
	h.ServeHTTP(grec, greq)
	if !strings.Contains(grec.Body.String(), `"invalid"`) {
		t.Errorf("a name of %d bytes over GraphQL: %s; want invalid", len(long), grec.Body)
	}
}

// TestIntrospectionOff: with introspection off, a query for the schema is refused with a
// forbidden that says why, not an internal error; __typename still works.
func TestIntrospectionOff(t *testing.T) {
	c := client.New(gql.NewHandler(&gql.Resolver{Answers: &cannedAnswers{}}, gql.Options{}))
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`{ __type(name: "Query") { name } }`,
		`query { ...f } fragment f on Query { __schema { types { name } } }`,
	} {
		resp, err := c.RawPost(q)
		if err != nil {
			t.Fatal(err)
		}
		var errs []struct {
			Message    string
			Extensions map[string]any
		}
		json.Unmarshal(resp.Errors, &errs)
		if len(errs) != 1 || errs[0].Extensions["code"] != fixgraph.EFORBIDDEN || !strings.Contains(errs[0].Message, "introspection") {
			t.Errorf("%s: %s; want one forbidden error about introspection", q, resp.Errors)
		}
	}
	var out struct {
		Typename string `json:"__typename"`
	}
	if err := c.Post(`{ __typename }`, &out); err != nil || out.Typename != "Query" {
		t.Errorf("__typename: %+v %v", out, err)
	}
}
