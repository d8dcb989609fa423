package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// stockColumns are the header names a stock feed may use for each field.
var stockColumns = map[string][]string{
	"sku":            {"sku", "part", "part_number", "partno", "配件编号", "料号"},
	"name":           {"name", "part_name", "配件名称", "名称"},
	"warehouse":      {"warehouse", "warehouse_id", "warehouse_code", "仓库", "仓库编号"},
	"warehouse_name": {"warehouse_name", "仓库名称"},
	"quantity":       {"quantity", "qty", "stock", "库存", "数量"},
	"updated_at":     {"updated_at", "updated", "timestamp", "更新时间"},
}

// parseStock reads a stock feed in CSV: one row per part and warehouse. A row that cannot be read
// fails the whole file, naming the line, so a half-read feed never replaces a good one.
func parseStock(doc *fixgraph.Document, data []byte) (*fixgraph.Batch, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "stock feed has no header row")
	}
	col := make(map[string]int)
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for field, names := range stockColumns {
			for _, n := range names {
				if h == n {
					if _, dup := col[field]; !dup {
						col[field] = i
					}
				}
			}
		}
	}
	for _, need := range []string{"sku", "warehouse", "quantity"} {
		if _, ok := col[need]; !ok {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed header has no %q column (header: %s)", need, strings.Join(header, ","))
		}
	}
	doc.Kind, doc.Title, doc.Language = fixgraph.KindStock, "stock feed", "zh"
	b := &fixgraph.Batch{Document: doc}
	get := func(rec []string, field string) string {
		if i, ok := col[field]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	seen := make(map[string]bool)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "stock feed line %d is not valid CSV", line)
		}
		sku, wh := strings.ToUpper(get(rec, "sku")), strings.ToUpper(get(rec, "warehouse"))
		if sku == "" || wh == "" {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed line %d has no part number or warehouse", line)
		}
		qty, err := strconv.Atoi(get(rec, "quantity"))
		if err != nil || qty < 0 {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed line %d: quantity %q is not a whole number ≥ 0", line, get(rec, "quantity"))
		}
		at := doc.IngestedAt
		if s := get(rec, "updated_at"); s != "" {
			if at, err = time.Parse(time.RFC3339, s); err != nil {
				return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed line %d: updated_at %q is not an RFC 3339 time", line, s)
			}
		}
		part := &fixgraph.Part{ID: fixgraph.PartID(sku), SKU: sku}
		if name := extract.Clean(get(rec, "name")); name != "" {
			part.Name = fixgraph.Text{extract.DetectLanguage(name): name}
		}
		w := &fixgraph.Warehouse{ID: fixgraph.WarehouseID(wh), Code: wh, Name: extract.Clean(get(rec, "warehouse_name"))}
		level := &fixgraph.StockLevel{ID: fixgraph.StockID(sku, wh), SKU: sku, Warehouse: wh, Quantity: qty, UpdatedAt: at}
		if seen[level.ID] {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed line %d repeats part %s in warehouse %s", line, sku, wh)
		}
		seen[level.ID] = true
		b.Add(part, w, level)
		b.Link(part.ID, fixgraph.RelStockedAt, w.ID)
	}
	if len(seen) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed has a header but no rows")
	}
	return b, nil
}
