package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// emailSpan is an e-mail address found in a text: its span and where its @ is.
type emailSpan struct {
	span
	at int
}

// findEmails returns the e-mail addresses in t (NFKC form) outside the protected spans.
func findEmails(t string, protected []span) []emailSpan {
	var out []emailSpan
	for off := 0; ; {
		i := strings.IndexByte(t[off:], '@')
		if i < 0 {
			return out
		}
		at := off + i
		off = at + 1
		if inSpans(protected, at) || len(out) > 0 && at < out[len(out)-1].end {
			continue
		}
		start := localStart(t, at, protected)
		if start == at {
			continue
		}
		end := domainEnd(t, at+1)
		if end < 0 || inSpans(protected, end-1) {
			continue
		}
		out = append(out, emailSpan{span{start, end}, at})
		off = end
	}
}

func inSpans(spans []span, i int) bool {
	for _, s := range spans {
		if s.start <= i && i < s.end {
			return true
		}
	}
	return false
}

// isLocalRune reports whether r may be part of an address's local part: the ASCII characters
// addresses use, and any script's letters, digits and marks.
func isLocalRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r) || strings.ContainsRune("._%+-", r)
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// isCJK reports whether r is a Chinese, Japanese or Korean letter, written without spaces
// between words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// localStart returns where the local part of an address whose @ is at at begins (at when there is
// none). Where CJK letters run into an ASCII local part, the ASCII part is the address: 邮箱bob@….
func localStart(t string, at int, protected []span) int {
	start := at
	for start > 0 {
		r, n := utf8.DecodeLastRuneInString(t[:start])
		if !isLocalRune(r) || inSpans(protected, start-n) {
			break
		}
		start -= n
	}
	cut := start
	var prev rune
	for i, r := range t[start:at] {
		if isASCIIAlnum(r) && isCJK(prev) {
			cut = start + i
		}
		prev = r
	}
	return cut
}

// isDomainRune reports whether r may be part of a domain label: ASCII letters, digits and '-', and
// any script's letters, digits and marks.
func isDomainRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r) || r == '-'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// domainEnd returns where the domain that starts at i ends, or -1 when there is none: at least
// two labels joined by dots, the last a top-level domain (see tldEnd).
func domainEnd(t string, i int) int {
	var labels []span
	for pos := i; ; {
		end := pos
		for end < len(t) {
			r, n := utf8.DecodeRuneInString(t[end:])
			if !isDomainRune(r) {
				break
			}
			end += n
		}
		if end == pos {
			break
		}
		labels = append(labels, span{pos, end})
		if end+1 < len(t) && t[end] == '.' {
			if r, _ := utf8.DecodeRuneInString(t[end+1:]); isDomainRune(r) {
				pos = end + 1
				continue
			}
		}
		break
	}
	for k := len(labels) - 1; k >= 1; k-- {
		end, ok := tldEnd(t[labels[k].start:labels[k].end])
		if !ok {
			continue
		}
		for _, l := range labels[:k] {
			if t[l.start] == '-' || t[l.end-1] == '-' {
				return -1
			}
		}
		return labels[k].start + end
	}
	return -1
}

// idnTLDs are Chinese top-level domains. A Chinese label must start with one of them to end an
// address, since Chinese text runs on after it without a space.
var idnTLDs = []string{"中国", "中國", "公司", "网络", "網絡", "香港", "台湾", "台灣", "新加坡", "在线", "网址",
	"商城", "集团", "手机", "我爱你", "中文网", "游戏", "网店", "商标", "世界", "政务", "公益", "信息", "八卦", "广东", "佛山"}

// tldEnd returns how much of label is a top-level domain, when it is one: ASCII letters (two or
// more; where other characters follow, the letters are the domain: example.com联系我), punycode
// (xn--…), a known Chinese one at its start, or letters of another script.
func tldEnd(label string) (int, bool) {
	if len(label) > 4 && strings.EqualFold(label[:4], "xn--") {
		for i := 4; i < len(label); i++ {
			if !isASCIIAlnum(rune(label[i])) && label[i] != '-' {
				return i, i > 4
			}
		}
		return len(label), true
	}
	n := 0
	for n < len(label) && isASCIILetter(rune(label[n])) {
		n++
	}
	if n >= 2 {
		return n, true
	}
	if n > 0 {
		return 0, false
	}
	best := 0
	for _, tld := range idnTLDs {
		if strings.HasPrefix(label, tld) && len(tld) > best {
			best = len(tld)
		}
	}
	if best > 0 {
		return best, true
	}
	letters := 0
	for _, r := range label {
		if isCJK(r) || !unicode.IsLetter(r) && !unicode.IsMark(r) {
			return 0, false
		}
		letters++
	}
	return len(label), letters >= 2
}
