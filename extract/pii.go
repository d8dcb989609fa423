package extract

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// PIIKind names a kind of personal data that MaskPII finds.
type PIIKind string

// Kinds of personal data.
const (
	PIIPhone    PIIKind = "phone"     // mainland mobile and landline numbers
	PIIEmail    PIIKind = "email"     // e-mail addresses
	PIIIDCard   PIIKind = "id_card"   // PRC resident identity card numbers (18 characters)
	PIIBankCard PIIKind = "bank_card" // payment card numbers
)

// PIIKinds lists every kind of personal data, in the order MaskPII gives them precedence when one
// number could be read as two (e-mail addresses are found first, then the numbers).
var PIIKinds = []PIIKind{PIIEmail, PIIIDCard, PIIBankCard, PIIPhone}

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
			return nil, fmt.Errorf("unknown kind of personal data %q (known: phone, email, id_card, bank_card)", k)
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
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d != "" && (domain == d || strings.HasSuffix(domain, "."+d)) {
			return true
		}
	}
	return false
}

var (
	// urlRE finds URLs, which are left as written: a number in a link is part of an address.
	urlRE = regexp.MustCompile(`(?i)(?:https?|ftp)://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+|\bwww\.[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)
	// emailRE finds e-mail addresses: ASCII local part and domain, ending in a TLD of letters. CJK
	// text around it ends it, since it is not in either class.
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}`)
)

// MaskPII masks personal data in s, which may be Chinese, English or both, and returns the masked
// text and how many items of each kind it masked (nil when none). The forms:
//
//	phone, mobile     13812345678 → 138****5678, +86 138-1234-5678 → +86 138-****-5678
//	phone, landline   010-12345678 → 010-****5678, (0571) 8765 4321 → (0571) **** 4321
//	e-mail            alice.wang@example.com → a***@example.com
//	ID card           11010519491231002X → 11010519491231****
//	bank card         6222 0212 3456 7894 → **** **** **** 7894, 4111111111111111 → ************1111
//
// Digits become '*' one for one, so grouping and length stay and the text still reads as a
// phone or card number; the local part of an e-mail address becomes its first character and
// three stars, whatever its length.
//
// What counts:
//   - A number is a run of digits (ASCII or full-width) that may be grouped by spaces or dashes
//     and may start with +86, 0086 or 86, or with an area code in parentheses. A match is
//     made of whole digit runs: never part of a longer run, nor of a token glued to ASCII letters
//     (WF-8012D, DC31-00178A, E102), nor of a dotted number or a path (1.2.3, 192.168.1.10,
//     files/123).
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
//     Discover, Diners) at its length, passing Luhn; whole or grouped in fours (Amex 4-6-5).
//   - E-mail: an ASCII address outside a URL, unless its domain is in KeepEmailDomains.
//
// URLs and IP addresses are left as they are. A number that reads as two kinds is an ID card
// first, then a bank card, then a phone.
func MaskPII(s string, opt PIIOptions) (masked string, found map[PIIKind]int) {
	if opt.Disabled || !strings.ContainsFunc(s, func(r rune) bool { return r == '@' || digitValue(r) >= 0 }) {
		return s, nil
	}
	var reps []replacement
	count := func(k PIIKind) {
		if found == nil {
			found = make(map[PIIKind]int)
		}
		found[k]++
	}
	var protected []span
	if strings.Contains(s, "://") || hasWWW(s) {
		for _, m := range urlRE.FindAllStringIndex(s, -1) {
			protected = append(protected, span{m[0], m[1]})
		}
	}
	var emails []span
	var emailHits [][]int
	if strings.Contains(s, "@") {
		emailHits = emailRE.FindAllStringIndex(s, -1)
	}
	for _, m := range emailHits {
		if overlaps(protected, span{m[0], m[1]}) {
			continue
		}
		emails = append(emails, span{m[0], m[1]})
		at := m[0] + strings.IndexByte(s[m[0]:m[1]], '@')
		if !opt.masks(PIIEmail) || opt.keepsDomain(s[at+1:m[1]]) {
			continue
		}
		_, first := utf8.DecodeRuneInString(s[m[0]:])
		reps = append(reps, replacement{m[0] + first, at, "***"})
		count(PIIEmail)
	}
	protected = append(protected, emails...)
	slices.SortFunc(protected, func(a, b span) int { return a.start - b.start })

	for _, c := range scanNumbers(s, protected) {
		for a := 0; a < len(c.groups); {
			m, ok := c.match(a)
			if !ok {
				a++
				continue
			}
			if opt.masks(m.kind) {
				for _, i := range m.mask {
					reps = append(reps, replacement{m.pos[i].start, m.pos[i].end, "*"})
				}
				count(m.kind)
			}
			a = m.next
		}
	}
	if len(reps) == 0 {
		return s, found
	}
	slices.SortFunc(reps, func(a, b replacement) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, r := range reps {
		b.WriteString(s[last:r.start])
		b.WriteString(r.with)
		last = r.end
	}
	b.WriteString(s[last:])
	return b.String(), found
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

type replacement struct {
	start, end int
	with       string
}

func overlaps(spans []span, x span) bool {
	for _, s := range spans {
		if x.start < s.end && s.start < x.end {
			return true
		}
	}
	return false
}

// group is one run of digits of a number, with the byte span of each character.
type group struct {
	chars []byte // '0'–'9', and a final 'X' for an ID card's check character
	pos   []span
}

// numberChunk is a run of digit groups joined by separators, as written.
type numberChunk struct {
	groups         []group
	plus           bool // a + stands before the first group
	taintL, taintR bool // the first (last) group is glued to a longer token and cannot be used
}

// piiMatch is a number found in a chunk.
type piiMatch struct {
	kind PIIKind
	pos  []span // of each character of the number
	mask []int  // indexes into pos of the characters to mask
	next int    // the group after the match
}

// minDigits and maxDigits bound how many digits one number has: 11 for a mobile or a landline
// with its area code, 19 for a card.
const minDigits, maxDigits = 11, 19

// match returns the longest number that starts at group a.
func (c *numberChunk) match(a int) (piiMatch, bool) {
	if a == 0 && c.taintL {
		return piiMatch{}, false
	}
	// The longest run of groups from a that may be one number; shorter ones are its prefixes.
	all := make([]byte, 0, maxDigits)
	allPos := make([]span, 0, maxDigits)
	allSizes := make([]int, 0, maxDigits)
	for last := a; last < len(c.groups) && len(all)+len(c.groups[last].chars) <= maxDigits; last++ {
		all = append(all, c.groups[last].chars...)
		allPos = append(allPos, c.groups[last].pos...)
		allSizes = append(allSizes, len(c.groups[last].chars))
	}
	if len(all) < minDigits {
		return piiMatch{}, false
	}
	n := len(all)
	for b := a + len(allSizes) - 1; b >= a; b-- {
		if n < minDigits {
			break // fewer still for smaller b
		}
		digits, pos, sizes := string(all[:n]), allPos[:n], allSizes[:b-a+1]
		n -= len(c.groups[b].chars)
		if b == len(c.groups)-1 && c.taintR {
			continue
		}
		m := piiMatch{pos: pos, next: b + 1}
		switch {
		case isIDCard(digits):
			m.kind, m.mask = PIIIDCard, span{14, 18}.indexes()
		case digits[len(digits)-1] == 'X':
			continue
		case isBankCard(digits, sizes):
			m.kind, m.mask = PIIBankCard, span{0, len(digits) - 4}.indexes()
		default:
			mask, ok := phoneMask(digits, sizes, a == 0 && c.plus)
			if !ok {
				continue
			}
			m.kind, m.mask = PIIPhone, mask
		}
		return m, true
	}
	return piiMatch{}, false
}

func (s span) indexes() []int {
	out := make([]int, 0, s.end-s.start)
	for i := s.start; i < s.end; i++ {
		out = append(out, i)
	}
	return out
}

// digitValue returns the value of an ASCII or full-width digit, or -1.
func digitValue(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '０' && r <= '９':
		return int(r - '０')
	}
	return -1
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func isASCIIAlnum(r rune) bool { return isASCIILetter(r) || digitValue(r) >= 0 }

func isSeparator(r rune) bool {
	return r == ' ' || r == '-' || r == '\u00a0' || r == '\u3000' || r == '－'
}

// scanNumbers finds the chunks of digit groups in s outside the protected spans, which are sorted.
func scanNumbers(s string, protected []span) []numberChunk {
	var out []numberChunk
	inProtected := func(i int) bool {
		k := sort.Search(len(protected), func(k int) bool { return protected[k].end > i })
		return k < len(protected) && protected[k].start <= i
	}
	runeBefore := func(i int) (rune, int) {
		if i <= 0 {
			return 0, 0
		}
		r, n := utf8.DecodeLastRuneInString(s[:i])
		return r, i - n
	}
	runeAt := func(i int) rune {
		if i >= len(s) {
			return 0
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		return r
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if digitValue(r) < 0 || inProtected(i) {
			i += size
			continue
		}
		var c numberChunk
		paren := false
		// What stands before the number.
		prev, at := runeBefore(i)
		if prev == '+' || prev == '＋' {
			c.plus = true
			prev, at = runeBefore(at)
		}
		if prev == '(' || prev == '（' {
			paren = true
		}
		pp, _ := runeBefore(at)
		switch {
		case isASCIIAlnum(prev):
			c.taintL = true // E102, DC31, v2
		case prev == '.' && digitValue(pp) >= 0:
			c.taintL = true // 1.2.3, 192.168.1.10, 1,299.00
		case (prev == '-' || prev == '_' || prev == '\\') && isASCIIAlnum(pp), prev == '/' && isASCIILetter(pp):
			// WF-8012D, ABC_123, files/123; but 13812345678/13987654321 lists two numbers
			c.taintL = true
		}
		// The groups.
		j := i
		for {
			var g group
			for j < len(s) {
				r, n := utf8.DecodeRuneInString(s[j:])
				d := digitValue(r)
				if d < 0 || inProtected(j) {
					break
				}
				g.chars = append(g.chars, byte('0'+d))
				g.pos = append(g.pos, span{j, j + n})
				j += n
			}
			if r := runeAt(j); (r == 'X' || r == 'x') && !isASCIIAlnum(runeAt(j+1)) && !inProtected(j) {
				g.chars = append(g.chars, 'X')
				g.pos = append(g.pos, span{j, j + 1})
				j++
				c.groups = append(c.groups, g)
				break
			}
			c.groups = append(c.groups, g)
			// A separator: up to three spaces, dashes and, after an area code in parentheses, ')'.
			k, seps := j, 0
			for seps < 3 && k < len(s) {
				r, n := utf8.DecodeRuneInString(s[k:])
				if !isSeparator(r) && !(paren && len(c.groups) == 1 && (r == ')' || r == '）')) {
					break
				}
				k += n
				seps++
			}
			if seps == 0 || k >= len(s) || digitValue(runeAt(k)) < 0 || inProtected(k) {
				break
			}
			j = k
		}
		next, nn := runeAt(j), rune(0)
		if j < len(s) {
			_, n := utf8.DecodeRuneInString(s[j:])
			nn = runeAt(j + n)
		}
		switch {
		case isASCIIAlnum(next) || inProtected(j):
			c.taintR = true // 8012D, a number glued to an address
		case next == '.' && digitValue(nn) >= 0:
			c.taintR = true // 1380.00, 192.168
		case (next == '-' || next == '_' || next == '\\') && isASCIIAlnum(nn), next == '/' && isASCIILetter(nn):
			c.taintR = true // 31-00178A, 123_a, 123/manual.pdf
		case next == '@':
			c.taintR = true
		}
		out = append(out, c)
		i = j
	}
	return out
}

// provinces are the first two digits of resident ID numbers: provinces, and 71, 81, 82 and 83 for
// residents of Taiwan, Hong Kong and Macau.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// IDCardCheck returns the check character of the first 17 digits of a PRC resident ID number
// (ISO 7064 MOD 11-2: '0'–'9' or 'X'), or 0 if s does not start with 17 digits.
func IDCardCheck(s string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	if len(s) < 17 {
		return 0
	}
	sum := 0
	for i, w := range weights {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		sum += int(s[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// piiNow is the clock that decides whether a birth date is in the future.
var piiNow = time.Now

// isIDCard reports whether s, 17 digits and a check character (upper-case X), is a valid PRC
// resident ID number: known province, a real birth date not in the future, right check character.
func isIDCard(s string) bool {
	if len(s) != 18 || !provinces[s[:2]] || IDCardCheck(s) != s[17] {
		return false
	}
	y, m, d := atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
	born := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1900 || born.Year() != y || int(born.Month()) != m || born.Day() != d {
		return false
	}
	return !born.After(piiNow())
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// Luhn reports whether the digits s pass the Luhn check that payment card numbers carry.
func Luhn(s string) bool {
	if s == "" {
		return false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[len(s)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// cardIssuer reports whether the digits s start with a card issuer's range at a length it issues.
func cardIssuer(s string) bool {
	n := len(s)
	p2, p4 := atoi(s[:2]), atoi(s[:4])
	switch {
	case s[0] == '4':
		return n == 13 || n == 16 || n == 19 // Visa
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16 // Mastercard
	case p2 == 34 || p2 == 37:
		return n == 15 // American Express
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 && n <= 19 // JCB
	case p2 == 62 || p2 == 60 || p2 == 65:
		return n >= 16 && n <= 19 // UnionPay, Discover
	case p2 == 30 || p2 == 36 || p2 == 38 || p2 == 39:
		return n >= 14 && n <= 19 // Diners Club
	}
	return false
}

// isBankCard reports whether digits grouped in sizes are a card number: an issuer's range and
// length, Luhn, and either one group or groups of four (the last may be shorter) or Amex's 4-6-5.
func isBankCard(digits string, sizes []int) bool {
	if len(digits) < 13 || len(digits) > 19 || !cardIssuer(digits) || !Luhn(digits) {
		return false
	}
	if len(sizes) == 1 || slices.Equal(sizes, []int{4, 6, 5}) {
		return true
	}
	for i, n := range sizes {
		if n != 4 && !(i == len(sizes)-1 && n >= 1 && n < 4) {
			return false
		}
	}
	return true
}

// phoneMask returns which characters of digits to mask if they are a mainland phone number grouped
// in sizes; plus says a + stands before them.
func phoneMask(digits string, sizes []int, plus bool) ([]int, bool) {
	// An international prefix: a group of its own (86, 0086), or the start of a number written
	// whole (+8613812345678, 008613812345678, and 8613812345678 for mobiles only).
	off, intl, mobileOnly := 0, false, false
	switch {
	case len(sizes) > 1 && (sizes[0] == 2 && digits[:2] == "86" || sizes[0] == 4 && digits[:4] == "0086"):
		off, intl = sizes[0], true
		sizes = sizes[1:]
	case len(sizes) == 1 && len(digits) > 4 && strings.HasPrefix(digits, "0086"):
		off, intl = 4, true
		sizes = []int{len(digits) - 4}
	case len(sizes) == 1 && len(digits) > 2 && strings.HasPrefix(digits, "86") && (plus || len(digits) == 13):
		off, intl, mobileOnly = 2, true, !plus
		sizes = []int{len(digits) - 2}
	}
	if plus && !intl {
		return nil, false // +1… and other countries' numbers are not ours to judge
	}
	nat := digits[off:]
	shift := func(idx []int) []int {
		for i := range idx {
			idx[i] += off
		}
		return idx
	}
	// Mobile.
	if len(nat) == 11 && nat[0] == '1' && nat[1] >= '3' && nat[1] <= '9' {
		for _, g := range [][]int{{11}, {3, 4, 4}, {3, 8}, {7, 4}} {
			if slices.Equal(sizes, g) {
				return shift(span{3, 7}.indexes()), true
			}
		}
		return nil, false
	}
	if mobileOnly {
		return nil, false
	}
	// Landline: area code (without its 0 after +86), then the local number.
	area := 0
	switch {
	case !intl && strings.HasPrefix(nat, "010"), !intl && strings.HasPrefix(nat, "02"):
		area = 3
	case !intl && len(nat) > 1 && nat[0] == '0' && nat[1] >= '3' && nat[1] <= '9':
		area = 4
	case intl && (strings.HasPrefix(nat, "10") || strings.HasPrefix(nat, "2")):
		area = 2
	case intl && nat[0] >= '3' && nat[0] <= '9':
		area = 3
		if strings.HasPrefix(nat, "400") || strings.HasPrefix(nat, "800") {
			return nil, false // national service numbers, not landlines
		}
	default:
		return nil, false
	}
	if len(nat) <= area {
		return nil, false
	}
	local := nat[area:]
	eight := area == 3 && !intl || area == 2 && intl
	if len(local) != 8 && (eight || len(local) != 7) || local[0] == '0' {
		return nil, false
	}
	// Written whole, or with the area code as a group of its own and the rest in groups of 3+.
	// Local numbers start with 2–8; written whole, a number must, to tell it from other numbers
	// that start with 0. With the area code apart (010-12345678) the shape says enough.
	if len(sizes) == 1 && local[0] == '1' {
		return nil, false
	}
	if len(sizes) > 1 {
		if sizes[0] != area {
			return nil, false
		}
		for _, n := range sizes[1:] {
			if n < 3 {
				return nil, false
			}
		}
	}
	return shift(span{area, area + len(local) - 4}.indexes()), true
}
