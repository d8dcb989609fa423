package extract

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	// An error code is one letter of the families appliances use, an optional dash or space, and
	// one to three digits, standing alone: E102, E-102, e 102, F21, 故障码E1. It must not be a piece
	// of a longer token, so the F-8012 inside WF-8012D and the C31 inside DC31-00178A do not count.
	errorCodeRE = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_-])([EFHCPLU])[ -]?(\d{1,3})(?:$|[^A-Za-z0-9_.-]|\.(?:$|\D))`)
	// A code written with a dash or a space, normalised to its canonical form for indexing.
	spacedCodeRE = regexp.MustCompile(`(?i)\b([EFHCPLU])[ -](\d{1,3})\b`)
	// A part number: letters and digits, a dash, digits and an optional letter suffix: DC31-00178A.
	partRE = regexp.MustCompile(`\b([A-Z]{2}\d{2}-\d{5}[A-Z]?)\b`)
	// A product model: two or three letters, a dash, four digits and an optional letter: WF-8012D.
	// Not the tail of a longer dashed identifier such as the document number AUR-CS-RP-2024.
	modelRE = regexp.MustCompile(`(?i)(?:^|[^A-Z0-9-])([A-Z]{2,3}-\d{4}[A-Z]?)\b`)
)

// ErrorCodes returns the error codes in s, in canonical form (upper case, no dash) and in order of
// first appearance. s should be normalised first so full-width forms are found.
func ErrorCodes(s string) []string {
	var out []string
	// The pattern consumes the character after a code, so a code right after another one
	// ("E1/E2") needs a second pass over what the first match consumed.
	for i := 0; i < len(s); {
		m := errorCodeRE.FindStringSubmatchIndex(s[i:])
		if m == nil {
			break
		}
		code := strings.ToUpper(s[i+m[2]:i+m[3]]) + s[i+m[4]:i+m[5]]
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
		i += m[5]
	}
	return out
}

// CanonicalCode returns code in canonical form (E-102 → E102), or "" if it is not one error code.
func CanonicalCode(code string) string {
	codes := ErrorCodes(Normalize(code))
	if len(codes) != 1 {
		return ""
	}
	return codes[0]
}

// PartNumbers returns the part numbers in s in order of first appearance.
func PartNumbers(s string) []string { return uniqueMatches(partRE, s, false) }

// ProductModels returns the product models in s, upper-cased, in order of first appearance.
func ProductModels(s string) []string { return uniqueMatches(modelRE, s, true) }

// JoinCodes rewrites codes written with a dash or a space (E-102, e 102) to their canonical form,
// so a text index keeps them as one token.
func JoinCodes(s string) string {
	return spacedCodeRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := spacedCodeRE.FindStringSubmatch(m)
		return strings.ToUpper(sub[1]) + sub[2]
	})
}

func uniqueMatches(re *regexp.Regexp, s string, upper bool) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		v := m[1]
		if upper {
			v = strings.ToUpper(v)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Tokens returns the whole-token forms of the codes, part numbers and models in s (E102,
// DC31_00178A, WF_8012D), for a text index whose tokenizer would split them at the dash.
func Tokens(s string) []string {
	var out []string
	out = append(out, ErrorCodes(s)...)
	for _, v := range append(PartNumbers(s), ProductModels(s)...) {
		out = append(out, strings.ReplaceAll(v, "-", "_"))
	}
	return out
}

// fixedIn matches a note that a firmware version fixes a fault: "V2.1.0 起已修复", "固件 2.1 版本已修复",
// "fixed in firmware V2.1.0".
var fixedIn = regexp.MustCompile(`(?i)(?:v(\d+(?:\.\d+)+)\s*(?:及以上|起|版本)?\s*已修复|(\d+(?:\.\d+)+)\s*版本?(?:起)?已修复|fixed (?:from|in) (?:firmware\s+)?v?(\d+(?:\.\d+)+))`)

// FixedInFirmware returns the firmware version that a note says fixes a fault, or "".
func FixedInFirmware(s string) string {
	m := fixedIn.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	for _, v := range m[1:] {
		if v != "" {
			return v
		}
	}
	return ""
}

// CompareVersions compares dotted version numbers ("2.1.0", "V2.10"), numerically part by part;
// a missing part counts as 0. It returns -1, 0 or 1.
func CompareVersions(a, b string) int {
	pa := strings.Split(strings.TrimLeft(strings.ToLower(strings.TrimSpace(a)), "v"), ".")
	pb := strings.Split(strings.TrimLeft(strings.ToLower(strings.TrimSpace(b)), "v"), ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
