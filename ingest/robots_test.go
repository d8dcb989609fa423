package ingest

import (
	"net/url"
	"testing"
	"time"
)

func TestRobots(t *testing.T) {
	const file = `# comments are ignored
User-agent: *
Disallow: /private/
Disallow: /*.cgi$
Allow: /private/public-*
Crawl-delay: 1

User-agent: OtherBot
User-agent: fixgraph
Disallow: /no-fixgraph/
Allow: /no-fixgraph/but-this$
Disallow: /tmp
Crawl-delay: 2.5

User-agent: evilbot
Disallow: /

Sitemap: https://example.com/sitemap-a.xml
`
	r := parseRobots([]byte(file), "fixgraph-crawler/1.0")
	if r.delay != 2500*time.Millisecond {
		t.Errorf("delay = %v, want the fixgraph group's 2.5s", r.delay)
	}
	if len(r.sitemaps) != 1 || r.sitemaps[0] != "https://example.com/sitemap-a.xml" {
		t.Errorf("sitemaps = %q", r.sitemaps)
	}
	star := parseRobots([]byte(file), "SomeoneElse/2.0")
	tests := []struct {
		r    *robots
		path string
		want bool
	}{
		// The fixgraph group applies, and only it: /private/ is open to us.
		{r, "/private/x.html", true},
		{r, "/no-fixgraph/page.html", false},
		{r, "/no-fixgraph/but-this", true},
		{r, "/no-fixgraph/but-this-not", false},
		{r, "/tmp", false},
		{r, "/tmpfile.html", false},
		{r, "/robots.txt", true},
		{r, "/", true},
		// Anyone else gets the * group: longest match wins, Allow wins ties, $ anchors.
		{star, "/private/x.html", false},
		{star, "/private/public-faq.html", true},
		{star, "/bin/run.cgi", false},
		{star, "/bin/run.cgi?x=1", true},
		{star, "/no-fixgraph/page.html", true},
		// An empty robots.txt, or none, allows all; an unreadable one allows nothing.
		{allowAll, "/anything", true},
		{disallowAll, "/anything", false},
		{disallowAll, "/robots.txt", true},
	}
	for _, tt := range tests {
		if got := tt.r.allowed(tt.path); got != tt.want {
			t.Errorf("allowed(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestRobotsMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/a", true},
		{"/a", "/abc", true},
		{"/a$", "/abc", false},
		{"/a$", "/a", true},
		{"/*.pdf$", "/x/y.pdf", true},
		{"/*.pdf$", "/x/y.pdf?dl=1", false},
		{"/*/private/*.html", "/en/private/a.html", true},
		{"/*/private/*.html", "/en/public/a.html", false},
		{"*.php", "/index.php?a=1", true},
		{"/a*b*c$", "/a-b-b-c", true},
		{"/a*b*c$", "/a-c-b", false},
	}
	for _, tt := range tests {
		if got := robotsMatch(tt.pattern, tt.path); got != tt.want {
			t.Errorf("robotsMatch(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		base, ref, want string
	}{
		{"", "HTTP://Example.COM:80", "http://example.com/"},
		{"", "https://example.com:443/a/./b/../c.html#top", "https://example.com/a/c.html"},
		{"", "http://example.com:8080/a/", "http://example.com:8080/a/"},
		{"http://example.com/docs/a/page.html", "../b/other.html?x=1#s", "http://example.com/docs/b/other.html?x=1"},
		{"http://example.com/docs/", "/../../etc", "http://example.com/etc"},
		{"http://example.com/docs/", "mailto:help@example.com", ""},
		{"http://example.com/docs/", "javascript:void(0)", ""},
		{"http://example.com/docs/", "tel:+4912345", ""},
		{"", "ftp://example.com/file", ""},
	}
	for _, tt := range tests {
		var got string
		var err error
		if tt.base == "" {
			got, err = normalizeURL(nil, tt.ref)
		} else {
			got, err = normalizeURL(mustURL(t, tt.base), tt.ref)
		}
		if tt.want == "" {
			if err == nil {
				t.Errorf("normalizeURL(%q, %q) = %q, want an error", tt.base, tt.ref, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeURL(%q, %q) = %q, %v; want %q", tt.base, tt.ref, got, err, tt.want)
		}
	}
}

func TestParseSitemap(t *testing.T) {
	pages, subs, err := parseSitemap([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc> https://example.com/a.html </loc><lastmod>2024-01-01</lastmod></url>
  <url><loc>https://example.com/b.pdf</loc></url>
</urlset>`), 1<<20)
	if err != nil || len(subs) != 0 || len(pages) != 2 || pages[0] != "https://example.com/a.html" || pages[1] != "https://example.com/b.pdf" {
		t.Errorf("urlset = %q, %q, %v", pages, subs, err)
	}
	pages, subs, err = parseSitemap([]byte(`<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.com/s1.xml</loc></sitemap>
</sitemapindex>`), 1<<20)
	if err != nil || len(pages) != 0 || len(subs) != 1 || subs[0] != "https://example.com/s1.xml" {
		t.Errorf("sitemapindex = %q, %q, %v", pages, subs, err)
	}
	if _, _, err := parseSitemap([]byte(`<html><body>not a sitemap</body></html>`), 1<<20); err == nil {
		t.Error("an HTML page was read as a sitemap")
	}
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
