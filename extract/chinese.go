package extract

import (
	"strings"
	"sync"
	"unicode"

	"github.com/longbridgeapp/opencc"
)

var (
	t2sOnce sync.Once
	t2s     *opencc.OpenCC
)

// Simplified returns s with Traditional Chinese characters in their Simplified forms (洗衣機顯示 →
// 洗衣机显示), by the OpenCC dictionaries, so that a question in either script matches text in the
// other. Text is stored and shown as written; this is for matching only. Text without Chinese
// characters comes back as it is.
func Simplified(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		return s
	}
	t2sOnce.Do(func() {
		cc, err := opencc.New("t2s")
		if err == nil {
			t2s = cc
		}
	})
	if t2s == nil {
		return s // the embedded dictionaries failed to load: match as written
	}
	out, err := t2s.Convert(s)
	if err != nil {
		return s
	}
	return out
}
