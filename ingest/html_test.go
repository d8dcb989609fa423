package ingest

import (
	"context"
	"testing"
)

func TestHTMLSectionsAndInlineWhiteSpace(t *testing.T) {
	page := `<html lang="en"><head><title>Phone manual</title></head><body><nav><a href="/">Home</a></nav>
<h2 id="c1">
 Camera
</h2>
<p>
 From Camera, tap
 <a href="x.html">
  Settings
 </a>
 .
</p>
<h3 id="c1-1">Videos</h3><ul><li>HDR10+ video</li><li>High efficiency video</li></ul>
<h2 id="c2">Battery</h2><p>Charge it.</p></body></html>`
	b, err := (&Pipeline{}).Parse(context.Background(), "phone.html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	secs := b.Sections()
	if len(secs) != 3 {
		t.Fatalf("%d sections, want 3", len(secs))
	}
	tests := []struct {
		heading, anchor, text string
		path                  []string
	}{
		{"Camera", "c1", "From Camera, tap Settings .", []string{"Camera"}},
		{"Videos", "c1-1", "HDR10+ video\nHigh efficiency video", []string{"Camera", "Videos"}},
		{"Battery", "c2", "Charge it.", []string{"Battery"}},
	}
	for i, tt := range tests {
		s := secs[i]
		if s.Heading != tt.heading || s.Anchor != tt.anchor || s.Text != tt.text || len(s.HeadingPath) != len(tt.path) || s.HeadingPath[len(s.HeadingPath)-1] != tt.heading {
			t.Errorf("section %d = %q %q %q %q; want %q %q %q %q", i, s.Heading, s.Anchor, s.Text, s.HeadingPath, tt.heading, tt.anchor, tt.text, tt.path)
		}
	}
	if b.Document.Title != "Phone manual" || b.Document.Language != "en" {
		t.Errorf("document = %+v", b.Document)
	}
}
