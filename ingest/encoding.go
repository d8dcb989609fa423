package ingest

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// htmlToUTF8 returns an HTML page's bytes as UTF-8. Valid UTF-8 is taken as it is, whatever the
// page declares (a crawler may have converted it already); otherwise the page's declared
// charset, or a guess from its bytes, decodes it. A page that decodes to many replacement
// characters is refused rather than indexed as garbage.
func htmlToUTF8(data []byte, contentType string) ([]byte, error) {
	if utf8.Valid(data) {
		return []byte(extract.RepairMojibake(string(data))), nil
	}
	enc, name, _ := charset.DetermineEncoding(data, contentType)
	out, err := enc.NewDecoder().Bytes(data)
	// The guess is UTF-8 when all but a character cut off at the end is UTF-8, and that
	// decoder passes bytes through as they are.
	out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	if err != nil || brokenText(out) {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "page is not valid UTF-8 and does not read as its declared or guessed encoding %q", name)
	}
	return out, nil
}

// csvToUTF8 returns a feed's bytes as UTF-8: as they are when valid, else read as GB18030 (what
// spreadsheets in Chinese locales export), else refused.
func csvToUTF8(data []byte) ([]byte, error) {
	if utf8.Valid(data) {
		return data, nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || brokenText(out) {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "file is neither UTF-8 nor GB18030 text")
	}
	return out, nil
}

// brokenText reports whether decoded text has more than 1% replacement characters.
func brokenText(b []byte) bool {
	n := bytes.Count(b, []byte("\uFFFD"))
	return n > 0 && n*100 > utf8.RuneCount(b)
}
