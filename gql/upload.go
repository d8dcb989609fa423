package gql

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// UploadHandler serves the plain HTTP upload endpoint for scripts:
//
//	curl -F file=@manual.pdf -F file=@faq.zip 'http://HOST/upload?department=support'
//	curl --data-binary @docs.zip 'http://HOST/upload?name=docs.zip&department=support'
//
// The body is multipart/form-data with one or more files, or the bytes of one file named by
// ?name=. ?department= and ?visibility= apply to the job. Files are spooled to disk as they
// arrive, never held whole in memory. A file over its own limit is refused alone (its job entry
// says which limit); a body over maxBody is refused whole with 413 and nothing is queued. The
// answer is 202 with the job as JSON; GET /jobs/ID (JobHandler) or the GraphQL job query follow it.
func UploadHandler(jobs Jobs, maxBody int64, log *slog.Logger, audit AuditFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, log, fixgraph.Errorf(fixgraph.EINVALID, "use POST to upload"), http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		spec, err := jobSpec(optString(q.Get("department")), optString(q.Get("visibility")))
		if err != nil {
			writeError(w, log, err, 0)
			return
		}
		spec = forPrincipal(r.Context(), spec)
		if err := require(r.Context(), "upload", spec.Department); err != nil {
			writeError(w, log, err, 0)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		up, err := jobs.NewUpload(spec)
		if err != nil {
			writeError(w, log, err, 0)
			return
		}
		if err := receive(r, up); err != nil {
			up.Discard()
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				err = fixgraph.Errorf(fixgraph.ETOOLARGE, "upload is over the limit of %d bytes; nothing was queued", maxBody)
			}
			writeError(w, log, err, 0)
			return
		}
		job, err := up.Submit()
		if err != nil {
			writeError(w, log, err, 0)
			return
		}
		if audit != nil {
			audit(r.Context(), "upload", job.ID, map[string]string{"files": strconv.Itoa(len(job.Inputs)), "department": job.Department})
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/jobs/"+job.ID)
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(viewJob(job, nil))
	})
}

// receive spools the files of r into up.
func receive(r *http.Request, up Spool) error {
	add := func(name string, body io.Reader) error {
		if err := checkFileName(name); err != nil {
			return err
		}
		if err := up.Add(name, body); err != nil && fixgraph.CodeOf(err) != fixgraph.ETOOLARGE {
			return err
		}
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		name := r.URL.Query().Get("name")
		if name == "" {
			return fixgraph.Errorf(fixgraph.EINVALID, "name the file with ?name=FILE, or send multipart/form-data")
		}
		return add(name, r.Body)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return fixgraph.WrapError(fixgraph.EINVALID, err, "malformed multipart body")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return err
			}
			return fixgraph.WrapError(fixgraph.EINVALID, err, "malformed multipart body")
		}
		if part.FileName() == "" {
			part.Close()
			continue
		}
		err = add(part.FileName(), part)
		part.Close()
		if err != nil {
			return err
		}
	}
	if up.Files() == 0 {
		return fixgraph.Errorf(fixgraph.EINVALID, "the upload has no files (send them as multipart/form-data file fields)")
	}
	return nil
}

// JobHandler serves GET /jobs/ID: a job with its per-file outcomes, as JSON.
func JobHandler(jobs JobReader, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.PathValue("id"), "/")
		job, err := jobs.Get(r.Context(), id)
		if err == nil && !seesJobsOf(fixgraph.PrincipalFrom(r.Context()), job.Department) {
			err = fixgraph.Errorf(fixgraph.ENOTFOUND, "no job %q", id) // another department's job is as good as missing
		}
		if err != nil {
			writeError(w, log, err, 0)
			return
		}
		files, err := jobs.Files(r.Context(), id, r.URL.Query().Get("outcome"), 0, 0)
		if err != nil {
			writeError(w, log, err, 0)
			return
		}
		if files == nil {
			files = []fixgraph.JobFile{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(viewJob(job, files))
	})
}

// jobView is a job as the HTTP endpoints show it: its inputs by name, without where the server
// keeps them, and its per-file outcomes when asked for.
type jobView struct {
	*fixgraph.Job
	Inputs []inputView        `json:"inputs,omitempty"` // hides Job.Inputs
	Files  []fixgraph.JobFile `json:"files,omitzero"`   // nil for the answer to an upload
}

// inputView is a fixgraph.JobInput without its path on the server's disk.
type inputView struct {
	Name  string `json:"name"`
	Size  int64  `json:"size,omitempty"`
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
}

func viewJob(j *fixgraph.Job, files []fixgraph.JobFile) jobView {
	v := jobView{Job: j, Files: files}
	for _, in := range j.Inputs {
		name := in.Name
		if j.Kind == fixgraph.JobPaths {
			name = filepath.Base(name) // a path given on the server's command line
		}
		v.Inputs = append(v.Inputs, inputView{Name: name, Size: in.Size, Error: in.Error, Code: in.Code})
	}
	return v
}

// writeError answers with err as JSON {"error": {"code", "message"}}, with status when not 0 and
// else the code's status. Internal errors are logged and their details withheld.
func writeError(w http.ResponseWriter, log *slog.Logger, err error, status int) {
	code := fixgraph.CodeOf(err)
	if status == 0 {
		status = fixgraph.HTTPStatus(code)
	}
	if code == fixgraph.EINTERNAL && log != nil {
		log.Error("http", "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": fixgraph.MessageOf(err)}})
}
