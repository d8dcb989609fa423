package ingest

import (
	"strings"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph/extract"
)

// column names a troubleshooting table's column by what it holds.
type column int

const (
	colCode column = iota
	colSymptom
	colCause
	colSolution
	colSeverity
	colVideo
	colPart
	numColumns
	colNone = numColumns // a column whose header names none of the above (a page number, a note)
)

// columnWords are the header words that name each column, in the languages manuals come in
// (Chinese, English, German, French, Spanish, Italian), lower case. A header cell takes the role
// of its longest matching word, so "Error solution" is a remedy column and "Error name" a symptom
// column although both hold "error".
var columnWords = [numColumns][]string{
	colCode: {"错误代码", "故障代码", "故障码", "错误码", "报警代码", "代码", "代號", "故障显示", "显示", "顯示", "错误", "error code", "fault code",
		"malfunction code", "alarm code", "code", "error", "err.", "display", "indication", "anzeige", "fehlercode", "störungscode",
		"fehlermeldung", "code d'erreur", "affichage", "código", "codigo", "codice", "visualizzazione"},
	colSymptom: {"故障现象", "故障表现", "故障描述", "现象", "表现", "含义", "描述", "说明", "问题", "故障", "弹窗内容", "提示内容", "内容", "故障名称", "名称",
		"symptom", "problem", "meaning", "description", "explanation", "error name", "fault name", "name", "issue", "malfunction", "fault",
		"bedeutung", "beschreibung", "störung", "signification", "désignation", "significado", "descripción", "significato", "descrizione", "anomalia"},
	colCause: {"可能原因", "故障原因", "原因", "possible cause", "probable cause", "root reason", "root cause", "cause", "reason", "error details", "details",
		"ursache", "causa", "cause possible"},
	colSolution: {"处理方法", "解决方法", "处理措施", "解决办法", "排除方法", "应对方法", "处理方式", "维修方法", "处理", "解决", "措施", "校正", "对策", "排除",
		"solution", "remedy", "troubleshooting", "what to do", "corrective action", "action", "fix", "countermeasure", "measure",
		"abhilfe", "lösung", "maßnahme", "behebung", "remède", "solución", "soluzione", "rimedio"},
	colSeverity: {"严重程度", "严重性", "级别", "severity", "level", "schweregrad"},
	colVideo:    {"视频", "video"},
	colPart:     {"所需配件", "配件", "零件", "备件", "spare part", "part", "spare", "ersatzteil"},
}

// headerRole returns the role a header cell names, by its longest matching word, or colNone. The
// word must make up a fair share of the cell (a third of its letters), as header cells are a word
// or two: a body cell that happens to hold one ("电子控制器通信故障") names nothing.
func headerRole(h string) column {
	role, _ := headerRoleCover(h)
	return role
}

// headerRoleCover is headerRole with the share of the cell's letters that the role word covers.
func headerRoleCover(h string) (column, float64) {
	h = strings.ToLower(strings.TrimSpace(extract.Simplified(h))) // 處理方法 is 处理方法
	size := utf8.RuneCountInString(strings.ReplaceAll(h, " ", ""))
	if h == "" || size > 40 {
		return colNone, 0
	}
	best, bestLen := colNone, 0
	for c := column(0); c < numColumns; c++ {
		for _, w := range columnWords[c] {
			if n := utf8.RuneCountInString(strings.ReplaceAll(w, " ", "")); n > bestLen && strings.Contains(h, w) {
				best, bestLen = c, n
			}
		}
	}
	if 3*bestLen < size {
		return colNone, 0
	}
	return best, float64(bestLen) / float64(size)
}

// headerRoles returns the role of each header cell, each role given to its first cell only, and
// whether the header is a troubleshooting table's: it names an error-code column and another
// column, or a symptom column and a cause or remedy column (codes written inside the symptoms).
func headerRoles(header []string) ([]column, bool) {
	roles := make([]column, len(header))
	taken := make(map[column]bool)
	for i, h := range header {
		r := headerRole(h)
		if r != colNone && taken[r] {
			r = colNone
		}
		roles[i] = r
		taken[r] = true
	}
	named := 0
	for c := column(0); c < numColumns; c++ {
		if taken[c] {
			named++
		}
	}
	ok := taken[colCode] && named >= 2 || taken[colSymptom] && (taken[colCause] || taken[colSolution])
	return roles, ok
}

// headerColumns maps the header cells of a troubleshooting table to what their columns hold, or
// returns nil when the header is not a troubleshooting table's (see headerRoles).
func headerColumns(header []string) map[column]int {
	roles, ok := headerRoles(header)
	if !ok {
		return nil
	}
	cols := make(map[column]int)
	for i, r := range roles {
		if r != colNone {
			cols[r] = i
		}
	}
	return cols
}
