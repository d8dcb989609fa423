package fixgraph

import "time"

// File outcomes: what ingesting one file did.
const (
	FileAdded     = "added"
	FileUpdated   = "updated"
	FileUnchanged = "unchanged"
	FileRemoved   = "removed" // its source is gone; the document left the graph, kept in history
	FileFailed    = "failed"
)

// FileResult is what happened to one file, page or archive entry.
type FileResult struct {
	Source     string  `json:"source"`
	DocumentID string  `json:"documentId,omitempty"`
	Kind       DocKind `json:"kind,omitempty"`
	KindReason string  `json:"kindReason,omitempty"` // why the file was read as Kind
	Outcome    string  `json:"outcome"`
	Version    int     `json:"version,omitempty"`
	Sections   int     `json:"sections"`
	Err        error   `json:"-"`
	Error      string  `json:"error,omitempty"`
	// Status is the document's status when it was written other than published: review means
	// it awaits a reviewer of its department (Department.ReviewBeforePublish).
	Status Status `json:"status,omitempty"`
}

// Job kinds.
const (
	JobUpload = "upload" // files sent over HTTP or GraphQL, kept in the spool until done
	JobPaths  = "paths"  // files, directories and archives on the server's disk
	JobCrawl  = "crawl"  // a crawl of a site
)

// Job states.
const (
	JobQueued      = "queued"
	JobRunning     = "running"
	JobDone        = "done"        // every file has an outcome, failed ones included
	JobFailed      = "failed"      // the job itself could not run (see Error)
	JobInterrupted = "interrupted" // stopped by a restart and not resumable (see Error)
	JobCancelled   = "cancelled"   // stopped on request; what it did before is kept
)

// Job is a background ingest: an upload, a set of paths or a crawl, with per-file outcomes.
type Job struct {
	ID         string       `json:"id"`
	Kind       string       `json:"kind"`
	Department string       `json:"department"`
	Visibility Visibility   `json:"visibility"`
	State      string       `json:"state"`
	Error      string       `json:"error,omitempty"`
	CreatedAt  time.Time    `json:"createdAt"`
	StartedAt  time.Time    `json:"startedAt,omitzero"`
	FinishedAt time.Time    `json:"finishedAt,omitzero"`
	Resumed    int          `json:"resumed,omitempty"` // times a restart picked it up again
	Total      int          `json:"total"`             // files known so far
	Processed  int          `json:"processed"`         // files with an outcome
	Counts     JobCounts    `json:"counts"`
	Inputs     []JobInput   `json:"inputs,omitempty"`
	Crawl      *CrawlConfig `json:"crawl,omitempty"`
	Crawled    *CrawlStats  `json:"crawled,omitempty"` // what a finished crawl did besides writing files
	// Review says that the job's department reviews before publishing: the documents the job
	// writes are in review until a reviewer approves them (Department.ReviewBeforePublish).
	Review bool `json:"review,omitempty"`
}

// CrawlStats counts what a crawl did besides the files it wrote, removed or failed.
type CrawlStats struct {
	Requests    int      `json:"requests"`    // HTTP requests, robots.txt and sitemaps included
	Fetched     int      `json:"fetched"`     // pages answered with a body
	NotModified int      `json:"notModified"` // pages answered 304 to a conditional request
	Unchanged   int      `json:"unchanged"`   // pages whose bytes equal the last crawl's
	Skipped     int      `json:"skipped"`     // disallowed by robots.txt, of another type, redirected to a page seen, or another department's
	Duplicates  int      `json:"duplicates"`  // the same bytes or canonical URL as a page written
	Unvisited   int      `json:"unvisited"`   // left when the page, byte or time limit was reached
	Bytes       int64    `json:"bytes"`       // of answers read, robots.txt and sitemaps included
	Warnings    []string `json:"warnings,omitempty"`
}

// Finished reports whether the job will not change any more.
func (j *Job) Finished() bool {
	return j.State == JobDone || j.State == JobFailed || j.State == JobInterrupted || j.State == JobCancelled
}

// JobCounts counts a job's files by outcome.
type JobCounts struct {
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed"`
	Failed    int `json:"failed"`
}

// Add counts one file with the outcome.
func (c *JobCounts) Add(outcome string) {
	switch outcome {
	case FileAdded:
		c.Added++
	case FileUpdated:
		c.Updated++
	case FileUnchanged:
		c.Unchanged++
	case FileRemoved:
		c.Removed++
	case FileFailed:
		c.Failed++
	}
}

// JobInput is one thing a job was given: an uploaded file in the spool, or a path.
type JobInput struct {
	Name  string `json:"name"`            // as the uploader named it, or the path given
	Path  string `json:"path,omitempty"`  // where it is on disk (a paths job, or an upload spooled before spools)
	// Spooled says the file waits in the job's spool, numbered by its place in Inputs.
	Spooled bool `json:"spooled,omitempty"`
	Size  int64  `json:"size,omitempty"`  // bytes received
	Error string `json:"error,omitempty"` // why it was not accepted (over a limit)
	Code  string `json:"code,omitempty"`
}

// JobFile is the outcome of one file of a job.
type JobFile struct {
	Seq  int    `json:"seq"`
	Name string `json:"name"` // the file's name in the upload, archive or crawl
	FileResult
	Code string `json:"code,omitempty"` // the error's code when it failed
}

// JobSpec is what a new job applies to the documents it writes.
type JobSpec struct {
	Department string
	Visibility Visibility
}

// CrawlConfig says where a crawl goes and how hard it pushes.
type CrawlConfig struct {
	Seeds       []string      `json:"seeds"`                 // start URLs (http/https)
	Scope       string        `json:"scope,omitempty"`       // URL prefix pages must start with; "" = each seed's directory
	MaxDepth    int           `json:"maxDepth,omitempty"`    // link hops from a seed; 0 = the crawler's default
	MaxPages    int           `json:"maxPages,omitempty"`    // fetches at most; 0 = the crawler's default
	MaxBytes    int64         `json:"maxBytes,omitempty"`    // bytes read at most; 0 = the crawler's default
	MaxTime     time.Duration `json:"maxTime,omitempty"`     // how long it may run; 0 = the crawler's default
	Rate        float64       `json:"rate,omitempty"`        // requests per second per host; 0 = the crawler's default
	Concurrency int           `json:"concurrency,omitempty"` // parallel fetches; 0 = the crawler's default
	UserAgent   string        `json:"userAgent,omitempty"`   // "" = the crawler's default
}
