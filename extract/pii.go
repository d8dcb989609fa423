package extract

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// PIIKind names a kind of personal data that MaskPII finds.
type PIIKind string

// Kinds of personal data.
const (
	PIIPhone    PIIKind = "phone"     // mainland mobile and landline numbers
	PIIEmail    PIIKind = "email"     // e-mail addresses
	PIIIDCard   PIIKind = "id_card"   // PRC resident identity card numbers (18 characters)
	PIIBankCard PIIKind = "bank_card" // payment card numbers
	PIIName     PIIKind = "name"      // people's names, where a field names them: ?name=, ?full_name=, ?姓名=
	PIIAddress  PIIKind = "address"   // postal addresses, where a field names them: ?address=, ?地址=
)

// PIIKinds lists every kind of personal data, in the order MaskPII gives them precedence when one
// number could be read as two (e-mail addresses are found first, then the numbers).
var PIIKinds = []PIIKind{PIIEmail, PIIIDCard, PIIBankCard, PIIPhone, PIIName, PIIAddress}

// ParsePIIKinds reads a comma-separated list of kinds such as "phone,email"; an empty list means
// every kind.
func ParsePIIKinds(list string) ([]PIIKind, error) {
	var out []PIIKind
	for _, f := range strings.Split(list, ",") {
		k := PIIKind(strings.ToLower(strings.TrimSpace(f)))
		if k == "" {
			continue
		}
		if !slices.Contains(PIIKinds, k) {
			known := make([]string, len(PIIKinds))
			for i, k := range PIIKinds {
				known[i] = string(k)
			}
			return nil, fmt.Errorf("unknown kind of personal data %q (known: %s)", k, strings.Join(known, ", "))
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// PIIOptions says what MaskPII masks.
type PIIOptions struct {
	Disabled bool      // mask nothing
	Kinds    []PIIKind // the kinds to mask; empty means all
	// KeepEmailDomains lists domains whose addresses stay as written, such as a company's own
	// support@ address. A domain covers its subdomains; case does not matter.
	KeepEmailDomains []string
}

func (o PIIOptions) masks(k PIIKind) bool {
	return !o.Disabled && (len(o.Kinds) == 0 || slices.Contains(o.Kinds, k))
}

func (o PIIOptions) keepsDomain(domain string) bool {
	domain = strings.ToLower(domain)
	for _, d := range o.KeepEmailDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(norm.NFKC.String(d)), "@"))
		if d != "" && (domain == d || strings.HasSuffix(domain, "."+d)) {
			return true
		}
	}
	return false
}

// MaskPII masks personal data in s, which may be Chinese, English or both, and returns the masked
// text and how many items of each kind it masked (nil when none). The forms:
//
//	phone, mobile     13812345678 → 138****5678, +86 138-1234-5678 → +86 138-****-5678,
//	                  138.0013.8000 → 138.****.8000, 138–0013–8000 → 138–****–8000
//	phone, landline   010-12345678 → 010-****5678, (0571) 8765 4321 → (0571) **** 4321
//	e-mail            alice.wang@example.com → a***@example.com, 小红@例子.中国 → 小***@例子.中国
//	ID card           11010519491231002X → 11010519491231****
//	bank card         6222 0212 3456 7894 → **** **** **** 7894, 622202-1234567894 → ******-******7894
//	URL query         https://x.cn/p?id=7&email=bob%40x.cn&name=张三 → https://x.cn/p?id=7&email=b***%40x.cn&name=张*
//
// Digits become '*' one for one, so grouping and length stay and the text still reads as a
// phone or card number; the local part of an e-mail address becomes its first character and
// three stars, whatever its length. Everything else stays as written: the text is matched in
// NFKC form, character by character, so full-width digits, ＋, ＠ and ．are read as their ASCII
// forms, but the characters around what is masked keep their width.
//
// What counts:
//   - A number is a run of digits that may be grouped by spaces or dashes (ASCII, Unicode's
//     hyphens, en and em dashes, the minus sign, full-width), and may start with +86, 0086 or 86,
//     or with an area code in parentheses. A match is made of whole digit runs: never part of a
//     longer run, nor of a token glued to ASCII letters (WF-8012D, DC31-00178A, E102), nor of a path
//     (files/123). Groups joined by single dots are read whole and only as a phone number in its
//     written shape (138.0013.8000, 010.6512.3456), so versions, prices, dates and IP addresses
//     (10.0.13812345678, 13800.00, 2024.11.23, 192.168.10.100) are not.
//     So 电话13812345678联系 is found and the digits of 订单号202611230001234567 are only masked if
//     the whole run validates.
//   - Mobile: 1[3-9] and nine more digits, grouped 11, 3-4-4, 3-8 or 7-4.
//   - Landline: 0 and an area code (010 and 02x take eight digits; 0[3-9]xx seven or eight) and the
//     local number; written whole (then the local number must start with 2–9), or with the area
//     code as its own group, in parentheses or not.
//     Service numbers (400-xxx-xxxx, 800-xxx-xxxx, 95xxx, 12315) never match, not even after +86.
//   - ID card: 17 digits and a check character (a digit, X or x) that agrees with ISO 7064
//     MOD 11-2, a known province code and a birth date that exists and is not in the future.
//   - Bank card: 13–19 digits of a known issuer range (UnionPay 62, Visa, Mastercard, Amex, JCB,
//     Discover, Diners) at its length, passing Luhn; whole, grouped in fours (4-4-4-4-3), as the
//     six-digit issuer number and the rest (6-10, 6-13), or Amex's 4-6-5.
//   - E-mail: a local part and a domain of at least two labels, outside a URL's path, unless the
//     domain is in KeepEmailDomains. Both may be internationalised: the local part in any
//     script's letters, the domain in Unicode (例子.中国) or punycode. Where Chinese text runs into
//     an ASCII address without a space (邮箱bob@x.cn), the address starts at the ASCII; a Chinese
//     local part glued to a label (邮箱小红@x.cn) cannot be told from it and is masked with it.
//     A Chinese top-level domain ends the address where it is a known one (中国, 公司, 网络…), so
//     text after it is not taken for the domain.
//   - URL: scheme, host, path and keys stay, so the address still works for what is not
//     personal. Each query value (and each value of a query in the fragment, #/page?phone=…) is
//     decoded (percent-escapes, + for space) and masked as text, so a value that is itself an
//     e-mail, phone, ID or card number, or a URL with personal data of its own, is masked; the
//     values of fields named for personal data (email, phone, mobile, tel, name, full_name,
//     address, id_card, card_no, 姓名, 手机…) are masked even when they do not validate, keeping
//     the first character (or, for numbers, the last four digits). Masked characters are written
//     in place of the ones they replace, so escapes around them stay as they were. A value that
//     already holds '*' is taken as masked.
//
// IP addresses and the paths of URLs are left as they are. A number that reads as two kinds is
// an ID card first, then a bank card, then a phone.
func MaskPII(s string, opt PIIOptions) (masked string, found map[PIIKind]int) {
	if opt.Disabled || !mayHoldPII(s) {
		return s, nil
	}
	f := &finder{opt: opt}
	return apply(s, f.mask(s, 0, false)), f.found
}

// MaskSource masks personal data in the source of a document, as shown with it and in citations,
// or in another name built like one, such as a caller's conversation id (wx_13812345678): a URL
// as MaskPII masks one (its query), and a file path, upload name or identifier
// ("upload:support/张三_13812345678_保修单.pdf") with '/', '\' and '_' read as spaces, since such
// names join words with them. It returns the masked source and what it found. A document keeps
// the id made from its source as written, so masking never changes which document it is.
func MaskSource(source string, opt PIIOptions) (masked string, found map[PIIKind]int) {
	if opt.Disabled || !mayHoldPII(source) {
		return source, nil
	}
	f := &finder{opt: opt}
	return apply(source, f.mask(source, 0, !strings.Contains(source, "://"))), f.found
}

// mayHoldPII reports whether s holds anything MaskPII could mask: a digit, an at sign, or the
// equals sign of a URL's query.
func mayHoldPII(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return digitValue(r) >= 0 || r == '@' || r == '＠' || r == '﹫' || r == '=' || r == '＝'
	})
}

// finder finds personal data and counts what it masks.
type finder struct {
	opt   PIIOptions
	found map[PIIKind]int
}

func (f *finder) count(k PIIKind) {
	if f.found == nil {
		f.found = make(map[PIIKind]int)
	}
	f.found[k]++
}

// maxDepth bounds how deep URLs inside query values of URLs are followed.
const maxDepth = 4

// mask returns the replacements that mask the personal data in s, in s's byte offsets. depth is how
// many URL query values s is inside; fileName reads '/', '\' and '_' as spaces.
func (f *finder) mask(s string, depth int, fileName bool) []replacement {
	n := normalize(s)
	t := n.s
	if fileName {
		b := []byte(t)
		for i, c := range b {
			if c == '/' || c == '\\' || c == '_' {
				b[i] = ' '
			}
		}
		t = string(b)
	}
	return n.back(f.find(t, depth))
}

// find returns the replacements that mask the personal data in t, which is in NFKC form.
func (f *finder) find(t string, depth int) []replacement {
	var protected []span
	var out []replacement
	if strings.Contains(t, "://") || hasWWW(t) {
		for _, u := range findURLs(t) {
			protected = append(protected, u)
			out = append(out, f.maskQuery(t, u, depth)...)
		}
	}
	if strings.Contains(t, "@") {
		for _, e := range findEmails(t, protected) {
			protected = append(protected, e.span)
			if !f.opt.masks(PIIEmail) || f.opt.keepsDomain(t[e.at+1:e.end]) {
				continue
			}
			_, first := utf8.DecodeRuneInString(t[e.start:])
			out = append(out, replacement{e.start + first, e.at, "***"})
			f.count(PIIEmail)
		}
	}
	slices.SortFunc(protected, func(a, b span) int { return a.start - b.start })
	for _, c := range scanNumbers(t, protected) {
		for a := 0; a < len(c.groups); {
			m, ok := c.match(a)
			if !ok {
				a++
				continue
			}
			if f.opt.masks(m.kind) {
				for _, i := range m.mask {
					out = append(out, replacement{m.pos[i].start, m.pos[i].end, "*"})
				}
				f.count(m.kind)
			}
			a = m.next
		}
	}
	return out
}

// hasWWW reports whether s contains "www." in any case.
func hasWWW(s string) bool {
	for i := strings.IndexByte(s, '.'); i >= 0; {
		if i >= 3 && strings.EqualFold(s[i-3:i], "www") {
			return true
		}
		j := strings.IndexByte(s[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

type span struct{ start, end int }

// replacement replaces s[start:end] with with; start == end inserts.
type replacement struct {
	start, end int
	with       string
}

// apply returns s with the replacements made. Replacements that overlap one made already are
// dropped.
func apply(s string, reps []replacement) string {
	if len(reps) == 0 {
		return s
	}
	slices.SortStableFunc(reps, func(a, b replacement) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, r := range reps {
		if r.start < last {
			continue
		}
		b.WriteString(s[last:r.start])
		b.WriteString(r.with)
		last = r.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// mapped is a text made from another (its NFKC form, or a URL value decoded), with the span of
// the other text that each of its bytes came from. A nil src means the two are the same.
type mapped struct {
	s   string
	src []span32
}

type span32 struct{ start, end int32 }

// back moves replacements in m.s onto the text m was made from. A replacement covers every
// character of the original that the characters it replaces came from.
func (m *mapped) back(reps []replacement) []replacement {
	if m.src == nil {
		return reps
	}
	for i, r := range reps {
		switch {
		case r.start == r.end && r.start < len(m.src):
			r.start = int(m.src[r.start].start)
			r.end = r.start
		case r.start == r.end: // at the end
			r.start = int(m.src[len(m.src)-1].end)
			r.end = r.start
		default:
			r.start, r.end = int(m.src[r.start].start), int(m.src[r.end-1].end)
		}
		reps[i] = r
	}
	return reps
}

// normalize returns s in NFKC form, made character by character so every character of the result
// can be traced to the one it came from. Compatibility characters that are not digits but would
// become digits (①, ², ㎡) are kept as written, so they never join a number.
func normalize(s string) mapped {
	if norm.NFKC.IsNormalString(s) {
		return mapped{s: s}
	}
	var b []byte
	src := make([]span32, 0, len(s))
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		sp := span32{int32(i), int32(i + size)}
		out := s[i : i+size]
		if r >= utf8.RuneSelf && r != utf8.RuneError {
			n := utf8.EncodeRune(buf[:], r)
			if !norm.NFKC.IsNormal(buf[:n]) {
				if t := norm.NFKC.String(out); t != "" && (unicode.IsDigit(r) || !strings.ContainsAny(t, "0123456789")) {
					out = t
				}
			}
		}
		b = append(b, out...)
		for range len(out) {
			src = append(src, sp)
		}
		i += size
	}
	return mapped{s: string(b), src: src}
}
