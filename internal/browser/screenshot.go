package browser

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/chromedp"
)

// Screenshot saves a full-page PNG of the tab of ctx as the test artefact <ArtifactDir>/<name>.png
// and logs its path. Characters of name other than letters, digits, '.', '-' and '_' become '_'.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	path, err := saveScreenshot(ctx, name)
	if err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	t.Logf("browser: screenshot %s", path)
}

// ArtifactDir is where Screenshot writes: $FIXGRAPH_ARTIFACTS, else .cache/artifacts in the
// repository (the nearest directory above the working directory holding go.mod).
func ArtifactDir() (string, error) {
	if dir := os.Getenv("FIXGRAPH_ARTIFACTS"); dir != "" {
		return filepath.Abs(dir)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "artifacts"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; set FIXGRAPH_ARTIFACTS")
		}
		dir = parent
	}
}

func saveScreenshot(ctx context.Context, name string) (string, error) {
	dir, err := ArtifactDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Chromium now and then refuses a capture while it lays the page out ("Cannot take
	// screenshot with 0 width"), more often on a busy machine: try again a few times.
	var png []byte
	for try := 0; try < 5; try++ {
		if png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil { // quality 100 means PNG
			break
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fileName(name)+".png")
	return path, os.WriteFile(path, png, 0o644)
}

// saveFailure keeps a screenshot of a failed test's tab; a failure to take it is only logged.
func saveFailure(t testing.TB, tab context.Context) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if path, err := saveScreenshot(ctx, t.Name()+"-failed"); err != nil {
		t.Logf("browser: no screenshot of the failed test: %v", err)
	} else {
		t.Logf("browser: screenshot of the failed test: %s", path)
	}
}

func fileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if name == "" || strings.Trim(name, ".") == "" {
		name = "screenshot" + name
	}
	return name
}
