package extract

import (
	"strings"
	"unicode/utf8"
)

// RepairMojibake undoes UTF-8 text that was decoded as Latin-1 and encoded again: "friendâ\u0080\u0099s"
// becomes "friend’s". A run of characters between U+0080 and U+00FF is replaced only when it
// holds a C1 control character (U+0080–U+009F, which real text never uses) and its Latin-1 bytes
// are valid UTF-8, so text that merely has accented letters is left alone.
func RepairMojibake(s string) string {
	if !strings.ContainsFunc(s, isC1) {
		return s
	}
	var b strings.Builder
	runes := []rune(s)
	for i := 0; i < len(runes); {
		if runes[i] < 0x80 || runes[i] > 0xFF {
			b.WriteRune(runes[i])
			i++
			continue
		}
		j := i
		for j < len(runes) && runes[j] >= 0x80 && runes[j] <= 0xFF {
			j++
		}
		run := runes[i:j]
		raw := make([]byte, len(run))
		hasC1 := false
		for k, r := range run {
			raw[k] = byte(r)
			hasC1 = hasC1 || isC1(r)
		}
		if hasC1 && utf8.Valid(raw) {
			b.Write(raw)
		} else {
			b.WriteString(string(run))
		}
		i = j
	}
	return b.String()
}

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9F }
