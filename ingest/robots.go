package ingest

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"time"
)

// maxRobotsSize is how much of a robots.txt is read; RFC 9309 asks crawlers to parse at least 500 KiB.
const maxRobotsSize = 512 << 10

// robots is what a host's robots.txt says to one user agent: the rules of the groups that name it
// (or of the "*" groups when none does), its crawl delay, and the sitemaps the file lists.
type robots struct {
	rules    []robotsRule
	delay    time.Duration
	sitemaps []string
}

// robotsRule is one Allow or Disallow line.
type robotsRule struct {
	allow   bool
	pattern string
}

// allowAll is the robots.txt of a host that has none.
var allowAll = &robots{}

// disallowAll is what a host whose robots.txt cannot be read allows (RFC 9309, section 2.3.1.4).
var disallowAll = &robots{rules: []robotsRule{{allow: false, pattern: "/"}}}

// robotsGroup is one User-agent group while parsing.
type robotsGroup struct {
	agents []string
	rules  []robotsRule
	delay  time.Duration
	hasDel bool
}

// parseRobots reads a robots.txt for userAgent, whose product token (the part before a slash) is
// matched case-insensitively against each group's User-agent lines. Groups naming the agent are
// merged; without one, the "*" groups apply. Unknown lines are ignored.
func parseRobots(data []byte, userAgent string) *robots {
	if len(data) > maxRobotsSize {
		data = data[:maxRobotsSize]
	}
	token := productToken(userAgent)
	r := &robots{}
	var groups []*robotsGroup
	var cur *robotsGroup
	inRules := false
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	sc.Buffer(make([]byte, 0, 64<<10), maxRobotsSize)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		switch key {
		case "user-agent", "useragent", "user agent":
			if cur == nil || inRules {
				cur = &robotsGroup{}
				groups = append(groups, cur)
				inRules = false
			}
			cur.agents = append(cur.agents, strings.ToLower(value))
		case "allow", "disallow":
			if cur == nil {
				continue
			}
			inRules = true
			if value == "" {
				continue // an empty Disallow allows everything; an empty Allow says nothing
			}
			cur.rules = append(cur.rules, robotsRule{allow: key == "allow", pattern: value})
		case "crawl-delay":
			if cur == nil {
				continue
			}
			inRules = true
			if secs, err := strconv.ParseFloat(value, 64); err == nil && secs >= 0 {
				cur.delay, cur.hasDel = time.Duration(secs*float64(time.Second)), true
			}
		case "sitemap":
			if value != "" {
				r.sitemaps = append(r.sitemaps, value)
			}
		}
	}
	for _, pass := range []func(agent string) bool{
		func(a string) bool { return a != "*" && a != "" && agentMatches(a, token) },
		func(a string) bool { return a == "*" },
	} {
		matched := false
		for _, g := range groups {
			for _, a := range g.agents {
				if pass(a) {
					matched = true
					r.rules = append(r.rules, g.rules...)
					if g.hasDel && g.delay > r.delay {
						r.delay = g.delay
					}
					break
				}
			}
		}
		if matched {
			break
		}
	}
	return r
}

// productToken returns the lower-cased name of a user agent without its version: "fixgraph-crawler"
// for "fixgraph-crawler/1.0".
func productToken(userAgent string) string {
	t := strings.ToLower(strings.TrimSpace(userAgent))
	if i := strings.IndexAny(t, "/ "); i >= 0 {
		t = t[:i]
	}
	return t
}

// agentMatches reports whether a User-agent line's value names the crawler whose product token is
// token: the same name, or a prefix of it ("fixgraph" names "fixgraph-crawler").
func agentMatches(value, token string) bool {
	value = productToken(value)
	return value != "" && strings.HasPrefix(token, value)
}

// allowed reports whether the path (with its query) may be fetched: the longest matching rule
// decides, and Allow wins a tie. /robots.txt itself is always allowed.
func (r *robots) allowed(pathQuery string) bool {
	if pathQuery == "" {
		pathQuery = "/"
	}
	if pathQuery == "/robots.txt" {
		return true
	}
	best, allow := -1, true
	for _, rule := range r.rules {
		if !robotsMatch(rule.pattern, pathQuery) {
			continue
		}
		if n := len(rule.pattern); n > best || n == best && rule.allow {
			best, allow = n, rule.allow
		}
	}
	return allow
}

// robotsMatch reports whether a robots.txt path pattern matches the path: the pattern matches a
// prefix of the path, "*" stands for any run of characters and a final "$" anchors at the end.
func robotsMatch(pattern, p string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	if anchored {
		pattern = pattern[:len(pattern)-1]
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(p, parts[0]) {
		return false
	}
	rest := p[len(parts[0]):]
	if len(parts) == 1 {
		return !anchored || rest == ""
	}
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	if anchored {
		return strings.HasSuffix(rest, last)
	}
	return strings.Contains(rest, last)
}
