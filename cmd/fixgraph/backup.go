package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/search"
)

// A backup of the embedded deployment is a tar archive (gzip-compressed when its name ends in
// .gz) of manifest.json followed by the data directory's stores, each a consistent copy taken in
// one read transaction while writes go on: graph.db, index/vectors.db, ingest.db and whatever
// other stores the app lists in backupParts. The text index is not in it: it is derived from the
// graph, and restore rebuilds it. Each store is copied on its own, so two stores may be a few
// writes apart; the derived ones (vectors) record the version of every document and are brought
// in line with the graph when the restored directory is opened.

// backupManifest is manifest.json, the first entry of a backup.
type backupManifest struct {
	Format  int       `json:"format"`
	Version string    `json:"version,omitempty"` // of the fixgraph binary that wrote it
	Created time.Time `json:"created"`
	// Deployment says where each store came from: "embedded" (a data directory's files) or a
	// server ("neo4j HOST:PORT", "postgres HOST:PORT/DB", "weaviate").
	Deployment map[string]string `json:"deployment,omitempty"`
	Parts      []backupFile      `json:"parts"`
}

// backupFile is one store in a backup: its path in the data directory, size and SHA-256.
type backupFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

const (
	backupFormat = 1
	manifestName = "manifest.json"
	backupPath   = "/admin/backup"
	// backupTokenFile, in the data directory, holds the token a running server accepts from the
	// command line on the same machine.
	backupTokenFile = "serve.token"
)

// backupPart is a store to back up: its path in the backup, and a function that writes a
// consistent copy of it (a bbolt store's Backup, say) and returns the bytes written, or, for a
// store on a server, export, which writes it for as long as the backup's context lets it.
type backupPart struct {
	name   string
	write  func(io.Writer) (int64, error)
	export func(ctx context.Context, w io.Writer) error
	// role says which store of the deployment the part is ("graph", "state", "vectors") and from
	// where it came ("embedded", "neo4j HOST:PORT"…): the manifest records it, even for a part
	// that is skipped.
	role, from string
}

// backuper is a store that writes a consistent copy of itself.
type backuper interface {
	Backup(w io.Writer) (int64, error)
}

// backupParts lists the stores a backup holds. Each store adds itself here with one line.
func (a *app) backupParts() ([]backupPart, error) {
	var parts []backupPart
	switch g := a.graph.(type) {
	case backuper:
		parts = append(parts, backupPart{name: "graph.db", write: g.Backup, role: "graph", from: "embedded"})
	case *graph.Neo4j:
		parts = append(parts, neo4jBackupPart(g))
	default:
		return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "backup does not know the graph store %T", a.graph)
	}
	switch ix := a.index.(type) {
	case *search.Hybrid:
		if ix.Vectors != nil {
			parts = append(parts, backupPart{name: "index/vectors.db", write: ix.Vectors.Backup, role: "vectors", from: "embedded"})
		} else {
			// Vectors are off in this process, but a vector index from a run with an embedder is
			// worth keeping: re-embedding every section is slow.
			p := boltFilePart("index/vectors.db", filepath.Join(a.dir, "index", "vectors.db"))
			p.role, p.from = "vectors", "embedded"
			parts = append(parts, p)
		}
	case *search.Weaviate:
		parts = append(parts, weaviateBackupPart())
	}
	if a.shared != nil {
		parts = append(parts, stateBackupPart(a.shared))
	}
	if a.jobs != nil && a.shared == nil {
		parts = append(parts, backupPart{name: "ingest.db", write: a.jobs.State.Backup, role: "state", from: "embedded"})
	}
	if a.accounts != nil && a.shared == nil {
		parts = append(parts, backupPart{name: "auth.db", write: a.accounts.Backup})
	}
	if a.auditLog != nil {
		parts = append(parts, a.auditParts()...)
	}
	if a.asks != nil && a.shared == nil {
		parts = append(parts, backupPart{name: "analytics.db", write: a.asks.Backup})
	}
	if a.edits != nil && a.shared == nil {
		parts = append(parts, backupPart{name: "editor.db", write: a.edits.Backup})
	}
	return parts, nil
}

// auditParts back up the audit log with its checkpoint, taken with the copy of the log so the two
// agree, and the key file when the key is kept in the data directory (not in $FIXGRAPH_AUDIT_KEY),
// so the restored log verifies and goes on. Whoever holds such a backup holds the key too: keep
// the key in $FIXGRAPH_AUDIT_KEY to keep it out of backups.
func (a *app) auditParts() []backupPart {
	var checkpoint []byte
	return []backupPart{
		{name: auditFile, write: func(w io.Writer) (int64, error) {
			n, cp, err := a.auditLog.Snapshot(w)
			checkpoint = cp
			return n, err
		}},
		{name: auditCheckpointFile, write: func(w io.Writer) (int64, error) {
			if checkpoint == nil {
				return 0, errSkipPart
			}
			n, err := w.Write(checkpoint)
			return int64(n), err
		}},
		plainFilePart(auditKeyFile, filepath.Join(a.dir, auditKeyFile)),
	}
}

// plainFilePart backs up a small file of the data directory as it is, when it exists.
func plainFilePart(name, file string) backupPart {
	return backupPart{name: name, write: func(w io.Writer) (int64, error) {
		f, err := os.Open(file)
		if errors.Is(err, os.ErrNotExist) {
			return 0, errSkipPart
		}
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return io.Copy(w, f)
	}}
}

// boltFilePart backs up a bbolt file that no store of this process holds open, when it exists.
func boltFilePart(name, file string) backupPart {
	return backupPart{name: name, write: func(w io.Writer) (int64, error) {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return 0, errSkipPart
		}
		db, err := bolt.Open(file, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return 0, fmt.Errorf("opening %q: %w", file, err)
		}
		defer db.Close()
		var n int64
		err = db.View(func(tx *bolt.Tx) error {
			n, err = tx.WriteTo(w)
			return err
		})
		return n, err
	}}
}

// errSkipPart says a part has nothing to back up.
var errSkipPart = errors.New("nothing to back up")

// writeBackup writes the backup of parts to w as an uncompressed tar. Each part is copied into a
// temporary file under spool first (a tar entry states its size before its bytes), hashed, and
// then the manifest and the parts go out.
func writeBackup(ctx context.Context, parts []backupPart, spool string, w io.Writer) (*backupManifest, error) {
	tmp, err := os.MkdirTemp(spool, ".backup-*")
	if err != nil {
		return nil, fmt.Errorf("creating a spool directory for the backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	m := &backupManifest{Format: backupFormat, Version: binaryVersion(), Created: time.Now().UTC()}
	var files []string
	for i, p := range parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file := filepath.Join(tmp, fmt.Sprint(i))
		f, err := os.Create(file)
		if err != nil {
			return nil, err
		}
		if p.role != "" {
			if m.Deployment == nil {
				m.Deployment = map[string]string{}
			}
			m.Deployment[p.role] = p.from
		}
		h := sha256.New()
		bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
		var n int64
		if p.export != nil {
			cw := &countingWriter{w: bw}
			err = p.export(ctx, cw)
			n = cw.n
		} else {
			n, err = p.write(bw)
		}
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, errSkipPart) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("backing up %s: %w", p.name, err)
		}
		m.Parts = append(m.Parts, backupFile{Name: p.name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
		files = append(files, file)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	hdr := &tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(manifest)), ModTime: m.Created, Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(manifest); err != nil {
		return nil, err
	}
	for i, p := range m.Parts {
		hdr := &tar.Header{Name: p.Name, Mode: 0o600, Size: p.Size, ModTime: m.Created, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		f, err := os.Open(files[i])
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("writing %s into the backup: %w", p.Name, err)
		}
	}
	return m, tw.Close()
}

// binaryVersion returns the version of this binary: its module version, and its VCS revision
// when it was built from a checkout.
func binaryVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return strings.TrimSpace(v)
}

// backupHandler serves GET /admin/backup to admins: the backup of the running server's stores as
// a tar. The parts are copied first, so a failure is an error status rather than a cut-off
// archive, and the response says its length, so the client can tell a complete download.
func (a *app) backupHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A backup holds every document whatever its visibility, and the accounts.
		if !fixgraph.PrincipalFrom(r.Context()).Can("admin", "") {
			a.audit(r.Context(), "backup.refused", "", nil)
			http.Error(w, "a backup needs the admin role", http.StatusForbidden)
			return
		}
		parts, err := a.backupParts()
		if err != nil {
			http.Error(w, fixgraph.MessageOf(err), http.StatusNotImplemented)
			return
		}
		f, err := os.CreateTemp(a.dir, ".backup-*.tar")
		if err != nil {
			a.log.Error("backup", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		m, err := writeBackup(r.Context(), parts, a.dir, f)
		if err != nil {
			a.log.Error("backup", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		size, err := f.Seek(0, io.SeekCurrent)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			a.log.Error("backup", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.Header().Set("Content-Disposition", `attachment; filename="fixgraph-backup.tar"`)
		if _, err := io.Copy(w, f); err != nil {
			a.log.Warn("backup download stopped", "err", err)
			return
		}
		a.log.Info("backup downloaded", "bytes", size, "parts", len(m.Parts))
		a.audit(r.Context(), "backup", "", map[string]string{"bytes": fmt.Sprint(size), "parts": partNames(m)})
	})
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("backup", stderr, &cfg)
	out := fs.String("out", "", "file to write: a tar archive, gzip-compressed when the name ends in .gz, encrypted with age when there are recipients (.age is added)")
	rf := addRecipientFlags(fs, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: fixgraph backup [--data DIR] --out FILE[.gz] [--recipient age1… | --recipients-file FILE]")
		return exitError{2}
	}
	recipients, err := rf.parse("")
	if err != nil {
		return err
	}
	file := encryptedName(*out, len(recipients) > 0)
	if !flagSet(fs, "embedder") && os.Getenv("FIXGRAPH_EMBEDDER") == "" {
		cfg.embedder = "none" // a backup needs no model; the vector file is copied as it is
	}
	if cfg.graph == "" {
		if _, err := os.Stat(filepath.Join(cfg.data, "graph.db")); err != nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "%s holds no graph (graph.db) to back up", cfg.data)
		}
	}
	via := ""
	m, err := writeArchive(ctx, file, recipients, func(w io.Writer) error {
		a, err := openApp(ctx, cfg, log)
		switch {
		case err == nil:
			parts, perr := a.backupParts()
			if perr == nil {
				a.auditAs(fixgraph.Local, "", "backup", file, nil) // before the copy, so the copy holds it
				_, perr = writeBackup(ctx, parts, cfg.data, w)
			}
			a.Close()
			return perr
		case fixgraph.CodeOf(err) == fixgraph.EUNAVAILABLE:
			addr, rerr := os.ReadFile(filepath.Join(cfg.data, serveAddrFile))
			if rerr != nil {
				return err
			}
			via = strings.TrimSpace(string(addr))
			return downloadBackup(ctx, cfg.data, via, w)
		}
		return err
	})
	if err != nil {
		return err
	}
	var total int64
	for _, p := range m.Parts {
		total += p.Size
	}
	from := cfg.data
	if onServers(m) {
		from = deploymentOf(m) + " and " + cfg.data
	}
	if via != "" {
		from += " through the server at " + via
	}
	enc := ""
	if len(recipients) > 0 {
		enc = fmt.Sprintf(", encrypted with age to %d recipient(s)", len(recipients))
	}
	fmt.Fprintf(stdout, "backed up %s (%s, %d bytes%s) to %s\n", from, partNames(m), total, enc, file)
	return nil
}

// partNames lists the parts of a backup.
func partNames(m *backupManifest) string {
	var names []string
	for _, p := range m.Parts {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// downloadBackup asks the server that holds the data directory for a backup, with the token the
// server wrote into the directory when there is one.
func downloadBackup(ctx context.Context, dir, addr string, w io.Writer) error {
	url := "http://" + addr + backupPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if tok, err := os.ReadFile(filepath.Join(dir, backupTokenFile)); err == nil && strings.TrimSpace(string(tok)) != "" {
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "the data directory is in use by a fixgraph server at %s that does not answer", addr)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "the fixgraph server at %s refused the backup (%s): is %s current?", addr, resp.Status, filepath.Join(dir, backupTokenFile))
	case resp.StatusCode != http.StatusOK:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fixgraph.Errorf(fixgraph.EUNAVAILABLE, "the fixgraph server at %s could not make a backup: %s %s", addr, resp.Status, strings.TrimSpace(string(msg)))
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "downloading the backup from %s", addr)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fixgraph.Errorf(fixgraph.EUNAVAILABLE, "the backup from %s stopped after %d of %d bytes", addr, n, resp.ContentLength)
	}
	return nil
}

// readBackup reads a backup archive (tar, or gzip-compressed tar) and checks every part against
// the manifest: size and SHA-256, nothing missing, nothing extra. When dir is not "", it writes
// the parts under dir. A truncated or altered backup is an EUNREADABLE error.
func readBackup(r io.Reader, dir string) (*backupManifest, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the backup is not a readable gzip file")
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	corrupt := func(err error, format string, args ...any) error {
		if fixgraph.CodeOf(err) != fixgraph.EINTERNAL {
			return err // the reader's own account: an encrypted stream that fails authentication
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the backup is truncated: "+format, args...)
		}
		return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the backup is corrupt: "+format, args...)
	}
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return nil, corrupt(err, "no manifest")
	}
	if hdr.Name != manifestName || hdr.Size > 1<<20 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "not a fixgraph backup: its first entry is %q, not %s", hdr.Name, manifestName)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return nil, corrupt(err, "reading the manifest")
	}
	var m backupManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the backup's manifest is not valid JSON")
	}
	if m.Format != backupFormat {
		return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "backup format %d; this fixgraph reads format %d", m.Format, backupFormat)
	}
	want := make(map[string]backupFile, len(m.Parts))
	for _, p := range m.Parts {
		if !validPartName(p.Name) {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the backup's manifest names a bad file %q", p.Name)
		}
		want[p.Name] = p
	}
	done := make(map[string]bool)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, corrupt(err, "after %d of %d files", len(done), len(m.Parts))
		}
		p, ok := want[hdr.Name]
		if !ok || done[hdr.Name] || hdr.Typeflag != tar.TypeReg {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the backup holds %q, which its manifest does not list", hdr.Name)
		}
		if hdr.Size != p.Size {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the backup's %s has %d bytes; its manifest says %d", p.Name, hdr.Size, p.Size)
		}
		h := sha256.New()
		var w io.Writer = h
		var f *os.File
		if dir != "" {
			file := filepath.Join(dir, filepath.FromSlash(p.Name))
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return nil, err
			}
			if f, err = os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err != nil {
				return nil, err
			}
			w = io.MultiWriter(f, h)
		}
		n, err := io.Copy(w, tr)
		if f != nil {
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return nil, corrupt(err, "reading %s", p.Name)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); n != p.Size || sum != p.SHA256 {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the backup is corrupt: %s does not match its checksum in the manifest", p.Name)
		}
		done[p.Name] = true
	}
	for _, p := range m.Parts {
		if !done[p.Name] {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the backup is truncated: %s is missing", p.Name)
		}
	}
	if !done["graph.db"] && !done[neo4jPart] {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the backup holds no graph (graph.db or %s)", neo4jPart)
	}
	return &m, nil
}

// validPartName reports whether name is a relative path inside the data directory.
func validPartName(name string) bool {
	return name != "" && name != manifestName && path.Clean(name) == name && !path.IsAbs(name) &&
		name != ".." && !strings.HasPrefix(name, "../") && !strings.ContainsAny(name, `\`+"\x00")
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("restore", stderr, &cfg)
	identity := fs.String("identity", "", "age identity file (AGE-SECRET-KEY-1…, one a line) to decrypt an encrypted backup (.age)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: fixgraph restore --data NEWDIR [--graph bolt://… --state postgres://… --vectors http://…] [--identity FILE] FILE")
		return exitError{2}
	}
	if !flagSet(fs, "embedder") && os.Getenv("FIXGRAPH_EMBEDDER") == "" && cfg.vectors == "" {
		cfg.embedder = "none" // rebuilding the text index needs no model
	}
	if cfg.vectors != "" {
		// Restore rebuilds the vectors in Weaviate: a missing model is refused before anything
		// is written.
		_, closer, err := openEmbedder(ctx, cfg)
		if err != nil {
			return fixgraph.WrapError(fixgraph.CodeOf(err), err, "restore embeds every section into %s (--embedder none rebuilds text search only)", cfg.vectors)
		}
		if closer != nil {
			closer.Close()
		}
	}
	file := fs.Arg(0)
	dir, err := filepath.Abs(cfg.data)
	if err != nil {
		return err
	}
	if err := checkRestoreTarget(dir); err != nil {
		return err
	}
	in, err := os.Open(file)
	if err != nil {
		return fixgraph.WrapError(fixgraph.EINVALID, err, "cannot open %s", file)
	}
	defer in.Close()
	archive, err := openArchive(in, file, *identity)
	if err != nil {
		return err
	}
	// The parts go into a directory beside the target and become the target only when every one
	// of them matched the manifest, so a bad backup leaves no half-restored graph behind.
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	m, err := readBackup(archive, tmp)
	if err == nil {
		err = archive.finish()
	}
	if err == nil {
		err = checkServerRestore(m, cfg)
	}
	if err != nil {
		return err
	}
	if cfg.graph != "" || cfg.state != "" || cfg.vectors != "" {
		return runServerRestore(ctx, cfg, file, m, tmp, dir, stdout, log)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := checkRestoreTarget(dir); err != nil {
		return err
	}
	os.Remove(dir) // an empty directory; rename does not replace one
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("moving the restored stores into %s: %w", dir, err)
	}
	// Opening the app rebuilds the text index from the graph and brings the vectors in line.
	cfg.data = dir
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("opening the restored data directory: %w", err)
	}
	defer a.Close()
	docs := 0
	err = a.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(fixgraph.Node) error { docs++; return nil })
	if err != nil {
		return err
	}
	a.auditAs(fixgraph.Local, "", "restore", file, map[string]string{"created": m.Created.Format(time.RFC3339), "documents": fmt.Sprint(docs)})
	fmt.Fprintf(stdout, "restored %d documents (%s, backup of %s) into %s; the text index was rebuilt\n", docs, partNames(m), m.Created.Format(time.RFC3339), dir)
	return nil
}

// checkRestoreTarget refuses a data directory that holds anything, a graph above all.
func checkRestoreTarget(dir string) error {
	if st, err := os.Stat(filepath.Join(dir, "graph.db")); err == nil && st.Size() > 0 {
		return fixgraph.Errorf(fixgraph.ECONFLICT, "%s already holds a graph (graph.db): restore into a new or empty directory", dir)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fixgraph.WrapError(fixgraph.EINVALID, err, "cannot read %s", dir)
	case len(entries) > 0:
		return fixgraph.Errorf(fixgraph.ECONFLICT, "%s is not empty (it holds %s): restore into a new or empty directory", dir, entries[0].Name())
	}
	return nil
}
