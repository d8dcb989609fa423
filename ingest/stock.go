package ingest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// stockColumns are the names a stock feed may use for each field: CSV header cells and JSON keys.
// Names are compared by stockKey, so "Part Number", "part_number" and "partNumber" are one name.
var stockColumns = map[string][]string{
	"sku":            {"sku", "part", "part_number", "partno", "配件编号", "料号"},
	"name":           {"name", "part_name", "配件名称", "名称"},
	"warehouse":      {"warehouse", "warehouse_id", "warehouse_code", "仓库", "仓库编号"},
	"warehouse_name": {"warehouse_name", "仓库名称"},
	"quantity":       {"quantity", "qty", "stock", "库存", "数量"},
	"updated_at":     {"updated_at", "updated", "timestamp", "更新时间"},
}

// stockKey reduces a column name to the form names are compared in: lower case, without spaces,
// underscores or dashes.
func stockKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// stockField returns the field a column name stands for, or "".
func stockField(name string) string {
	k := stockKey(name)
	for field, names := range stockColumns {
		for _, n := range names {
			if stockKey(n) == k {
				return field
			}
		}
	}
	return ""
}

// stockRow is one level read from a feed, with the part and warehouse names the feed gave for it.
type stockRow struct {
	level         *fixgraph.StockLevel
	name          string // part name
	warehouseName string
}

// zonelessStockTime is the zone a feed's times without an offset are read in: China Standard Time
// (UTC+8, Asia/Shanghai, which has kept no daylight saving time since 1991), where the warehouses are.
var zonelessStockTime = time.FixedZone("CST", 8*60*60)

// stockTimeLayouts are the forms an updated-at time may take. The first carries its own offset;
// the others are read in zonelessStockTime.
var stockTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// parseStockTime reads an updated-at time in one of stockTimeLayouts.
func parseStockTime(s string) (time.Time, bool) {
	for i, layout := range stockTimeLayouts {
		var t time.Time
		var err error
		if i == 0 {
			t, err = time.Parse(layout, s)
		} else {
			t, err = time.ParseInLocation(layout, s, zonelessStockTime)
		}
		if err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ParseStockLevels reads a stock feed: CSV with a header row (sku, warehouse and quantity columns,
// optionally name, warehouse_name and updated_at, in English or Chinese; UTF-8 or GB18030), or JSON, either an array
// of {"sku", "warehouse", "warehouseName", "name", "quantity", "updatedAt"} objects or an object
// {"levels": [...]} holding one. contentType, a MIME type such as text/csv or application/json,
// says which; when it names neither, the first byte that is not white space does ('[' or '{' is
// JSON). A level's time is its updatedAt, in RFC 3339 or as "2006-01-02 15:04:05",
// "2006-01-02T15:04:05", "2006-01-02 15:04" or "2006-01-02"; times without an offset are China
// Standard Time (UTC+8, Asia/Shanghai). Levels without one get now. Any row that cannot be read
// (bad syntax, a missing part number or warehouse, a quantity that is not a whole number ≥ 0, a
// part repeated in one warehouse) fails the whole feed with an EUNREADABLE error naming the CSV
// line or JSON element, so a half-read feed is never used.
func ParseStockLevels(data []byte, contentType string, now time.Time) ([]*fixgraph.StockLevel, error) {
	rows, err := parseStockRows(data, contentType, now)
	if err != nil {
		return nil, err
	}
	out := make([]*fixgraph.StockLevel, len(rows))
	for i, r := range rows {
		out[i] = r.level
	}
	return out, nil
}

// parseStockRows is ParseStockLevels with the part and warehouse names of each row.
func parseStockRows(data []byte, contentType string, now time.Time) ([]stockRow, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var rows []stockRow
	var err error
	if isJSONFeed(data, contentType) {
		rows, err = parseStockJSON(data, now)
	} else if data, err = csvToUTF8(data); err == nil {
		// A feed the connector fetches is read like a .csv file: UTF-8, else GB18030.
		rows, err = parseStockCSV(data, now)
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed has no levels")
	}
	return rows, nil
}

// isJSONFeed reports whether a feed is JSON: by its content type when that names JSON or CSV,
// else by its first byte that is not white space.
func isJSONFeed(data []byte, contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case strings.HasSuffix(mt, "/json") || strings.HasSuffix(mt, "+json"):
		return true
	case strings.HasSuffix(mt, "/csv") || mt == "text/comma-separated-values":
		return false
	}
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && (t[0] == '[' || t[0] == '{')
}

// stockRecord is the fields of one row of a feed, a CSV line or a JSON element, as written; where
// names the row in errors ("line 3", "element 2").
type stockRecord struct {
	where                             string
	sku, warehouse, quantity, updated string
	name, warehouseName               string
}

// row checks a record and reads it into a stockRow; now is the time of a row without one.
func (r stockRecord) row(now time.Time) (stockRow, error) {
	sku, wh := strings.ToUpper(r.sku), strings.ToUpper(r.warehouse)
	if sku == "" || wh == "" {
		return stockRow{}, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s has no part number or warehouse", r.where)
	}
	if !validCode(sku) || !validCode(wh) {
		// They become graph ids, whose parts the embedded store separates with NUL.
		return stockRow{}, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s: part number %q or warehouse %q has control characters", r.where, sku, wh)
	}
	qty, err := strconv.Atoi(r.quantity)
	if err != nil || qty < 0 {
		return stockRow{}, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s: quantity %q is not a whole number ≥ 0", r.where, r.quantity)
	}
	at := now
	if r.updated != "" {
		var ok bool
		if at, ok = parseStockTime(r.updated); !ok {
			return stockRow{}, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s: updated_at %q is not a time (RFC 3339, 2006-01-02 15:04:05 or 2006-01-02)", r.where, r.updated)
		}
	}
	return stockRow{
		level:         &fixgraph.StockLevel{ID: fixgraph.StockID(sku, wh), SKU: sku, Warehouse: wh, Quantity: qty, UpdatedAt: at},
		name:          extract.Clean(r.name),
		warehouseName: extract.Clean(r.warehouseName),
	}, nil
}

// validCode reports whether s may name a part, a warehouse or a model: no control characters.
func validCode(s string) bool {
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// addStockRow appends row to rows unless the feed named its part and warehouse already.
func addStockRow(rows []stockRow, seen map[string]bool, row stockRow, where string) ([]stockRow, error) {
	l := row.level
	if seen[l.ID] {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s repeats part %s in warehouse %s", where, l.SKU, l.Warehouse)
	}
	seen[l.ID] = true
	return append(rows, row), nil
}

func parseStockCSV(data []byte, now time.Time) ([]stockRow, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "stock feed has no header row")
	}
	col := make(map[string]int)
	for i, h := range header {
		if field := stockField(h); field != "" {
			if _, dup := col[field]; !dup {
				col[field] = i
			}
		}
	}
	for _, need := range []string{"sku", "warehouse", "quantity"} {
		if _, ok := col[need]; !ok {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed header has no %q column (header: %s)", need, strings.Join(header, ","))
		}
	}
	get := func(rec []string, field string) string {
		if i, ok := col[field]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []stockRow
	seen := make(map[string]bool)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// FieldPos panics when the broken record has no field yet: the error knows the line.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "stock feed line %d is not valid CSV", line)
		}
		line, _ := r.FieldPos(0)
		where := fmt.Sprintf("line %d", line)
		row, err := stockRecord{
			where: where, sku: get(rec, "sku"), warehouse: get(rec, "warehouse"), quantity: get(rec, "quantity"),
			updated: get(rec, "updated_at"), name: get(rec, "name"), warehouseName: get(rec, "warehouse_name"),
		}.row(now)
		if err != nil {
			return nil, err
		}
		if rows, err = addStockRow(rows, seen, row, where); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

func parseStockJSON(data []byte, now time.Time) ([]stockRow, error) {
	var elems []json.RawMessage
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) > 0 && t[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return nil, jsonFeedError(data, err)
		}
		levels, ok := obj["levels"]
		if !ok {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, `stock feed is a JSON object without a "levels" array`)
		}
		if err := json.Unmarshal(levels, &elems); err != nil {
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, `stock feed "levels" is not an array`)
		}
	} else if err := json.Unmarshal(data, &elems); err != nil {
		return nil, jsonFeedError(data, err)
	}
	var rows []stockRow
	seen := make(map[string]bool)
	for i, raw := range elems {
		where := fmt.Sprintf("element %d", i+1)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s is not a JSON object", where)
		}
		fields := make(map[string]string)
		var bad error
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			field := stockField(k)
			if field == "" {
				continue
			}
			s, err := jsonScalar(obj[k])
			if err != nil && bad == nil {
				bad = fmt.Errorf("%q is %w", k, err)
			}
			if _, dup := fields[field]; !dup {
				fields[field] = s
			}
		}
		if sku := strings.ToUpper(fields["sku"]); sku != "" {
			where += fmt.Sprintf(" (sku %q)", sku)
		}
		if bad != nil {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s: %v", where, bad)
		}
		if _, ok := fields["quantity"]; !ok {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %s has no quantity", where)
		}
		row, err := stockRecord{
			where: where, sku: fields["sku"], warehouse: fields["warehouse"], quantity: fields["quantity"],
			updated: fields["updated_at"], name: fields["name"], warehouseName: fields["warehouse_name"],
		}.row(now)
		if err != nil {
			return nil, err
		}
		if rows, err = addStockRow(rows, seen, row, where); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// jsonScalar returns a JSON string or number as written (a number's text, a string's value), ""
// for null, and an error for objects, arrays and booleans.
func jsonScalar(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", nil
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", errors.New("not a valid string")
		}
		return strings.TrimSpace(s), nil
	case v[0] == '-' || v[0] >= '0' && v[0] <= '9':
		return string(v), nil
	}
	return "", errors.New("not a string or a number")
}

// jsonFeedError names the line where a feed's JSON broke.
func jsonFeedError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line := 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
		return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "stock feed is not valid JSON at line %d", line)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "stock feed JSON is not an array of levels or an object with a \"levels\" array")
	}
	return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "stock feed is not valid JSON")
}

// parseStock reads a stock document in CSV: one row per part and warehouse. A row that cannot be
// read fails the whole file, naming the line, so a half-read feed never replaces a good one. Rows
// without an updated_at time get the time the document was ingested.
func parseStock(doc *fixgraph.Document, data []byte) (*fixgraph.Batch, error) {
	rows, err := parseStockRows(data, "text/csv", doc.IngestedAt)
	if err != nil {
		return nil, err
	}
	doc.Kind, doc.Title, doc.Language = fixgraph.KindStock, "stock feed", "zh"
	doc.KindReason = "a table of stock levels (part, warehouse and quantity columns)"
	b := &fixgraph.Batch{Document: doc}
	for _, r := range rows {
		l := r.level
		part := &fixgraph.Part{ID: fixgraph.PartID(l.SKU), SKU: l.SKU}
		if r.name != "" {
			part.Name = fixgraph.Text{extract.DetectLanguage(r.name): r.name}
		}
		w := &fixgraph.Warehouse{ID: fixgraph.WarehouseID(l.Warehouse), Code: l.Warehouse, Name: r.warehouseName}
		b.Add(part, w, l)
		b.Link(part.ID, fixgraph.RelStockedAt, w.ID)
	}
	return b, nil
}
