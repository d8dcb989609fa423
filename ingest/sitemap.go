package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// sitemapFile is a sitemap: a urlset of pages or a sitemapindex of further sitemaps. Element names
// match in any namespace.
type sitemapFile struct {
	XMLName  xml.Name
	URLs     []sitemapLoc `xml:"url"`
	Sitemaps []sitemapLoc `xml:"sitemap"`
}

type sitemapLoc struct {
	Loc string `xml:"loc"`
}

// parseSitemap reads a sitemap, gzipped or not, into the page URLs of a urlset and the sitemap
// URLs of a sitemapindex. Neither list is resolved or checked here.
func parseSitemap(data []byte, max int64) (pages, sitemaps []string, err error) {
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "sitemap is not readable gzip")
		}
		data, err = io.ReadAll(io.LimitReader(zr, max+1))
		if err != nil {
			return nil, nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "sitemap is not readable gzip")
		}
		if int64(len(data)) > max {
			return nil, nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "sitemap is over the limit of %d bytes", max)
		}
	}
	var f sitemapFile
	if err := xml.Unmarshal(data, &f); err != nil {
		return nil, nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "sitemap is not readable XML")
	}
	switch f.XMLName.Local {
	case "urlset":
		for _, u := range f.URLs {
			if loc := strings.TrimSpace(u.Loc); loc != "" {
				pages = append(pages, loc)
			}
		}
	case "sitemapindex":
		for _, s := range f.Sitemaps {
			if loc := strings.TrimSpace(s.Loc); loc != "" {
				sitemaps = append(sitemaps, loc)
			}
		}
	default:
		return nil, nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "sitemap root is <%s>, not <urlset> or <sitemapindex>", f.XMLName.Local)
	}
	return pages, sitemaps, nil
}
