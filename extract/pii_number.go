package extract

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// group is one run of digits of a number, with the byte span of each character.
type group struct {
	chars []byte // '0'–'9', and a final 'X' for an ID card's check character
	pos   []span
}

// numberChunk is a run of digit groups joined by separators, as written.
type numberChunk struct {
	groups         []group
	dots           []bool // dots[i]: groups i and i+1 are joined by a dot (138.0013.8000)
	plus           bool   // a + stands before the first group
	taintL, taintR bool   // the first (last) group is glued to a longer token and cannot be used
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

// match returns the longest number that starts at group a. A run of groups joined by dots is
// read whole or not at all, so the tail of 10.0.13812345678 or 1.13.8000.1234 is no number of
// its own; and dots join only the groups of a phone number (138.0013.8000), never a card or an ID.
func (c *numberChunk) match(a int) (piiMatch, bool) {
	if a == 0 && c.taintL || a > 0 && c.dots[a-1] {
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
		if b == len(c.groups)-1 && c.taintR || b < len(c.groups)-1 && c.dots[b] {
			continue
		}
		dotted := slices.Contains(c.dots[a:b], true)
		m := piiMatch{pos: pos, next: b + 1}
		switch {
		case !dotted && isIDCard(digits):
			m.kind, m.mask = PIIIDCard, span{14, 18}.indexes()
		case digits[len(digits)-1] == 'X':
			continue
		case !dotted && isBankCard(digits, sizes):
			m.kind, m.mask = PIIBankCard, span{0, len(digits) - 4}.indexes()
		default:
			mask, ok := phoneMask(digits, sizes, a == 0 && c.plus, dotted)
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

// isDash reports whether r is a hyphen or dash: ASCII, the Unicode hyphens and dashes (‐ ‑ ‒ – — ―),
// the minus sign and the small and full-width forms.
func isDash(r rune) bool {
	return r == '-' || r >= '\u2010' && r <= '\u2015' || r == '\u2212' || r == '\ufe58' || r == '\ufe63' || r == '－'
}

func isSeparator(r rune) bool {
	return r == ' ' || isDash(r) || r == '\u00a0' || r == '\u3000'
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
		case (isDash(prev) || prev == '_' || prev == '\\') && isASCIIAlnum(pp), prev == '/' && isASCIILetter(pp):
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
			// A separator: one dot between digits, or up to three spaces and dashes and, after an
			// area code in parentheses, ')'.
			k, seps, dot := j, 0, false
			if k+1 < len(s) && s[k] == '.' && digitValue(runeAt(k+1)) >= 0 {
				k, seps, dot = k+1, 1, true
			}
			for !dot && seps < 3 && k < len(s) {
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
			c.dots = append(c.dots, dot)
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
		case (isDash(next) || next == '_' || next == '\\') && isASCIIAlnum(nn), next == '/' && isASCIILetter(nn):
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
// length, Luhn, and written whole, in groups of four (the last may be shorter: 4-4-4-4-3), as the
// six-digit issuer number and the rest (6-10, 6-12, 6-13, as Chinese banks print them), or as
// Amex's 4-6-5 and Diners' 4-6-4.
func isBankCard(digits string, sizes []int) bool {
	if len(digits) < 13 || len(digits) > 19 || !cardIssuer(digits) || !Luhn(digits) {
		return false
	}
	if len(sizes) == 1 || len(sizes) == 2 && sizes[0] == 6 || slices.Equal(sizes, []int{4, 6, 5}) || slices.Equal(sizes, []int{4, 6, 4}) {
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
// in sizes; plus says a + stands before them, dotted that dots join some of the groups, which then
// must be a mobile's 3-4-4 or a landline's area code and local number.
func phoneMask(digits string, sizes []int, plus, dotted bool) ([]int, bool) {
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
		for _, g := range [][]int{{3, 4, 4}, {11}, {3, 8}, {7, 4}} {
			if slices.Equal(sizes, g) && (!dotted || len(g) == 3) {
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
