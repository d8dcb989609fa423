package ingest_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// zipFile is one entry of a test archive. Raw entries are written as given, with the sizes the
// header claims: how a hostile archive lies.
type zipFile struct {
	name string
	data []byte
	raw  *zip.FileHeader
}

func mustZip(tb testing.TB, files ...zipFile) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		if f.raw != nil {
			fw, err := w.CreateRaw(f.raw)
			if err != nil {
				tb.Fatal(err)
			}
			fw.Write(f.data)
			continue
		}
		fw, err := w.Create(f.name)
		if err != nil {
			tb.Fatal(err)
		}
		fw.Write(f.data)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(tb testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	return buf.Bytes()
}

// TestZipRefusesUnsafeEntries: path traversal, nested archives, zip bombs (honest and lying about
// their size) and special files are each refused with an error naming the problem, and the safe
// entries beside them read as they are.
func TestZipRefusesUnsafeEntries(t *testing.T) {
	manual := fixture(t, "manuals/wf-8012d-zh.html")
	zeros := make([]byte, 20<<20)
	liar := deflate(t, zeros)
	link := &zip.FileHeader{Name: "link.html"}
	link.SetMode(0o777 | 1<<27) // os.ModeSymlink
	archive := mustZip(t,
		zipFile{name: "manuals/wf-8012d-zh.html", data: manual},
		zipFile{name: "../../etc/cron.d/evil.html", data: []byte("<h1>x</h1>")},
		zipFile{name: "/abs/evil.html", data: []byte("<h1>x</h1>")},
		zipFile{name: `..\windows\evil.html`, data: []byte("<h1>x</h1>")},
		zipFile{name: "inner/more.zip", data: []byte("PK\x03\x04")},
		zipFile{name: "bomb.html", data: zeros},
		zipFile{name: "liar.html", data: liar, raw: &zip.FileHeader{Name: "liar.html", Method: zip.Deflate, CompressedSize64: uint64(len(liar)), UncompressedSize64: 1000}},
		zipFile{name: "link.html", data: []byte("/etc/passwd"), raw: link},
		zipFile{name: "faq.html", data: fixture(t, "faq/faq-general-zh.html")},
	)
	p := &ingest.Pipeline{}
	z, err := p.OpenZip(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // entry name → part of its error ("" for readable)
		"manuals/wf-8012d-zh.html":   "",
		"../../etc/cron.d/evil.html": "path traversal",
		"/abs/evil.html":             "path traversal",
		`..\windows\evil.html`:       "path traversal",
		"inner/more.zip":             "nested archives are not accepted",
		"bomb.html":                  "zip bomb",
		"liar.html":                  "",
		"link.html":                  "not a regular file",
		"faq.html":                   "",
	}
	if len(z.Entries) != len(want) {
		t.Fatalf("archive has %d entries, want %d", len(z.Entries), len(want))
	}
	for _, e := range z.Entries {
		wantErr, ok := want[e.Name]
		if !ok {
			t.Errorf("unexpected entry %q", e.Name)
			continue
		}
		data, err := z.Read(e)
		switch {
		case e.Name == "liar.html":
			// It claims 1,000 bytes and inflates to 20 MiB: refused while reading, never held whole.
			if err == nil || fixgraph.CodeOf(err) == fixgraph.EINTERNAL {
				t.Errorf("liar.html read %d bytes, err %v; want a clear refusal", len(data), err)
			}
		case wantErr == "":
			if err != nil || len(data) == 0 {
				t.Errorf("%s: %v", e.Name, err)
			}
		case err == nil || !strings.Contains(err.Error(), wantErr):
			t.Errorf("%s: error %v; want one saying %q", e.Name, err, wantErr)
		}
	}
}

// TestZipLimits: too many entries refuse the archive whole; an archive that expands past its
// budget stops at the entry that crosses it; a file that is not a zip is unreadable.
func TestZipLimits(t *testing.T) {
	var files []zipFile
	for i := range 5 {
		files = append(files, zipFile{name: strings.Repeat("a", i+1) + ".html", data: bytes.Repeat([]byte("<p>x</p>"), 1000)})
	}
	archive := mustZip(t, files...)
	_, err := (&ingest.Pipeline{MaxZipEntries: 4}).OpenZip(bytes.NewReader(archive), int64(len(archive)))
	if fixgraph.CodeOf(err) != fixgraph.ETOOLARGE || !strings.Contains(err.Error(), "over the limit of 4 entries") {
		t.Errorf("5 entries under a limit of 4: %v", err)
	}
	z, err := (&ingest.Pipeline{MaxZipBytes: 20_000}).OpenZip(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var read, refused int
	for _, e := range z.Entries {
		if _, err := z.Read(e); err == nil {
			read++
		} else if strings.Contains(err.Error(), "expanded past the limit") {
			refused++
		} else {
			t.Errorf("%s: %v", e.Name, err)
		}
	}
	if read != 2 || refused != 3 {
		t.Errorf("read %d and refused %d entries of 8,000 bytes under a budget of 20,000; want 2 and 3", read, refused)
	}
	notZip := []byte("PK\x03\x04 but not really a zip archive")
	if _, err := (&ingest.Pipeline{}).OpenZip(bytes.NewReader(notZip), int64(len(notZip))); fixgraph.CodeOf(err) != fixgraph.EUNREADABLE {
		t.Errorf("broken archive: %v; want unreadable", err)
	}
}

// TestEncodings: a GBK page that says so, and a GB18030 stock feed from a spreadsheet, are read;
// bytes that decode as nothing are refused, not indexed as garbage.
func TestEncodings(t *testing.T) {
	ctx := context.Background()
	p := &ingest.Pipeline{}
	gbkPage := append([]byte(`<html><head><meta charset="gbk"><title>`), 0xCF, 0xB4, 0xD2, 0xC2, 0xBB, 0xFA) // 洗衣机
	gbkPage = append(gbkPage, []byte(`</title></head><body><h1>`)...)
	gbkPage = append(gbkPage, 0xB9, 0xCA, 0xD5, 0xCF) // 故障
	gbkPage = append(gbkPage, []byte(`</h1><p>E102 `)...)
	gbkPage = append(gbkPage, 0xC5, 0xC5, 0xCB, 0xAE) // 排水
	gbkPage = append(gbkPage, []byte(`</p></body></html>`)...)
	b, err := p.Parse(ctx, "gbk.html", gbkPage)
	if err != nil {
		t.Fatal(err)
	}
	if b.Document.Title != "洗衣机" || !strings.Contains(b.Sections()[0].Heading+b.Sections()[0].Text, "排水") {
		t.Errorf("GBK page read as title %q, sections %+v", b.Document.Title, b.Sections())
	}
	feed := append([]byte("sku,warehouse,quantity,"), 0xB2, 0xD6, 0xBF, 0xE2, '\n') // 仓库 as a stray column name
	feed = append(feed, []byte("DC31-00178A,SH01,5,x\n")...)
	if _, err := p.Parse(ctx, "stock.csv", feed); err != nil {
		t.Errorf("GB18030 stock feed: %v", err)
	}
	garbage := bytes.Repeat([]byte{0xFF, 0xFE, 0x81, 0x30}, 200)
	if _, err := p.Parse(ctx, "broken.csv", garbage); fixgraph.CodeOf(err) != fixgraph.EUNREADABLE {
		t.Errorf("garbage feed: %v; want unreadable", err)
	}
}
