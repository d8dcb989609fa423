package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/audit"
	"github.com/fixgraph/fixgraph/postgres"
)

// auditFile, in the data directory, is the audit log.
const auditFile = "audit.log"

// auditKeyEnv names the environment variable that may hold the audit log's key, written as hex as
// in the key file it stands for (DIR/audit.key). Set, it keeps the key off the data directory and
// out of backups, so whoever holds either cannot rewrite the log unnoticed. To move a key out:
// FIXGRAPH_AUDIT_KEY=$(cat DIR/audit.key), then delete the file.
const auditKeyEnv = "FIXGRAPH_AUDIT_KEY"

// auditKey returns the key in $FIXGRAPH_AUDIT_KEY, or nil when it is unset: the key file in the
// data directory then keys the log.
func auditKey() ([]byte, error) {
	v := os.Getenv(auditKeyEnv)
	if v == "" {
		return nil, nil
	}
	key, err := audit.ParseKey(v)
	if err != nil {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "$%s: %v", auditKeyEnv, err)
	}
	return key, nil
}

// openAuditLog opens the audit log of the data directory dir, keyed with $FIXGRAPH_AUDIT_KEY or
// the key file beside it.
func openAuditLog(dir string) (*audit.Log, error) {
	key, err := auditKey()
	if err != nil {
		return nil, err
	}
	return audit.OpenWith(filepath.Join(dir, auditFile), audit.Options{Key: key})
}

// openAudit opens the audit chain fixgraph appends to: with shared state, the one chain that every
// replica appends to in PostgreSQL, keyed with $FIXGRAPH_AUDIT_KEY (see sharedAuditKey); without,
// the log file of the data directory dir (see openAuditLog).
func openAudit(dir string, shared *postgres.DB) (audit.Chain, error) {
	if shared == nil {
		l, err := openAuditLog(dir)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	key, err := sharedAuditKey()
	if err != nil {
		return nil, err
	}
	c, err := shared.Audit(key)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// sharedAuditKey returns the key of the audit chain in the shared state: $FIXGRAPH_AUDIT_KEY, which
// must be set, and the same on every replica, since they all key one chain and a key file in one
// replica's data directory is not on the others.
func sharedAuditKey() ([]byte, error) {
	key, err := auditKey()
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "with shared state (FIXGRAPH_STATE), set $%s to the audit key, the same on every replica, "+
			"as hex of at least %d bytes (for example: openssl rand -hex 32): all replicas append to one audit chain in the shared state", auditKeyEnv, audit.MinKeySize)
	}
	return key, nil
}

// The audit log's key and checkpoint, beside it in the data directory (see package audit).
var (
	auditKeyFile        = filepath.Base(audit.KeyFile(auditFile))
	auditCheckpointFile = filepath.Base(audit.CheckpointPath(auditFile))
)

// runAuditCommand verifies or exports the audit log of a data directory, or, with shared state, the
// audit chain in it.
func runAuditCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: fixgraph audit verify [--data DIR | --state postgres://…] [--checkpoint FILE [--identity KEYFILE]] | export [--data DIR | --state postgres://…] [--since 2026-11-01T00:00:00Z]"
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitError{2}
	}
	var cfg config
	fs := newFlags("audit "+args[0], stderr, &cfg)
	since := fs.String("since", "", "export entries at or after this time (RFC 3339)")
	anchor := fs.String("checkpoint", "", "verify: hold the log against this checkpoint too, kept apart from the data directory: a checkpoint file, or a backup holding one")
	identity := fs.String("identity", "", "verify: age identity file to decrypt a --checkpoint backup that is encrypted (.age)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if args[0] != "verify" && args[0] != "export" {
		fmt.Fprintln(stderr, usage)
		return exitError{2}
	}
	var sinceTime time.Time
	if *since != "" {
		var err error
		if sinceTime, err = time.Parse(time.RFC3339, *since); err != nil {
			return fixgraph.Errorf(fixgraph.EINVALID, "--since %q is not an RFC 3339 time", *since)
		}
	}
	if cfg.state != "" {
		return runSharedAudit(ctx, cfg, args[0], sinceTime, *anchor, *identity, stdout)
	}
	path := filepath.Join(cfg.data, auditFile)
	switch args[0] {
	case "verify":
		key, err := auditKey()
		if err != nil {
			return err
		}
		rep, err := audit.Inspect(path, key)
		if err != nil {
			fmt.Fprintf(stdout, "audit log %s: BROKEN after %d good entries: %v\n", path, rep.Entries, err)
			return exitError{1}
		}
		if *anchor != "" {
			cp, err := readCheckpoint(*anchor, *identity)
			if err != nil {
				return err
			}
			if key == nil {
				if key, err = audit.LoadKey(audit.KeyFile(path), false); err != nil {
					return err
				}
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			held, err := audit.VerifyReader(f, cp, key)
			f.Close()
			if err != nil {
				fmt.Fprintf(stdout, "audit log %s: BROKEN against the checkpoint in %s after %d good entries: %v\n", path, *anchor, held.Entries, err)
				return exitError{1}
			}
			fmt.Fprintf(stdout, "audit log %s: holds the checkpoint in %s (seq %d of %s)\n", path, *anchor, held.Checkpoint.Seq, held.Checkpoint.Time.Format(time.RFC3339))
		}
		fmt.Fprintf(stdout, "audit log %s: %d entries, chain intact%s\n", path, rep.Entries, describeAudit(rep, cfg.data))
	case "export":
		if _, err := audit.Export(path, stdout, sinceTime); err != nil {
			return err
		}
	}
	return nil
}

// runSharedAudit verifies or exports the audit chain in the shared state at cfg.state, whatever
// the data directory, keyed with $FIXGRAPH_AUDIT_KEY. It reads the chain in one snapshot of the
// database, as a backup copies it, and checks it as a log file is checked.
func runSharedAudit(ctx context.Context, cfg config, cmd string, since time.Time, anchor, identity string, stdout io.Writer) error {
	key, err := sharedAuditKey()
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.state)
	if err != nil {
		return err
	}
	defer db.Close()
	where := "audit chain in " + postgres.Redact(cfg.state)
	if cmd == "export" {
		return db.ReadAudit(ctx, func(_ []byte, lines io.Reader) error {
			_, err := audit.ExportReader(lines, stdout, since)
			return err
		})
	}
	// check verifies the chain against its own checkpoint, or against cp when given.
	check := func(cp []byte) (audit.Report, error) {
		var rep audit.Report
		err := db.ReadAudit(ctx, func(own []byte, lines io.Reader) error {
			if cp == nil {
				cp = own
			}
			var err error
			rep, err = audit.VerifyReader(lines, cp, key)
			return err
		})
		return rep, err
	}
	var ve *audit.VerifyError
	rep, err := check(nil)
	if errors.As(err, &ve) {
		fmt.Fprintf(stdout, "%s: BROKEN after %d good entries: %v\n", where, rep.Entries, err)
		return exitError{1}
	}
	if err != nil {
		return err
	}
	if anchor != "" {
		cp, err := readCheckpoint(anchor, identity)
		if err != nil {
			return err
		}
		held, err := check(cp)
		if errors.As(err, &ve) {
			fmt.Fprintf(stdout, "%s: BROKEN against the checkpoint in %s after %d good entries: %v\n", where, anchor, held.Entries, err)
			return exitError{1}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: holds the checkpoint in %s (seq %d of %s)\n", where, anchor, held.Checkpoint.Seq, held.Checkpoint.Time.Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "%s: %d entries, chain intact%s\n", where, rep.Entries, describeAudit(rep, cfg.data))
	return nil
}

// readCheckpoint reads an audit checkpoint from file: a checkpoint file, or a backup (tar, or
// gzip-compressed tar, either encrypted with age to one of idFile's identities) that holds one.
func readCheckpoint(file, idFile string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "cannot open %s", file)
	}
	defer f.Close()
	archive, err := openArchive(f, file, idFile)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(archive)
	if head, _ := br.Peek(1); len(head) == 1 && head[0] == '{' {
		return io.ReadAll(io.LimitReader(br, 64<<10))
	}
	var r io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "%s is neither a checkpoint nor a backup", file)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "%s is neither a checkpoint nor a backup holding one (%s)", file, auditCheckpointFile)
		}
		if hdr.Name == auditCheckpointFile {
			return io.ReadAll(io.LimitReader(tr, 64<<10))
		}
	}
}

// describeAudit says how far a verified log is keyed and anchored.
func describeAudit(rep audit.Report, dir string) string {
	var b strings.Builder
	cp := rep.Checkpoint
	if cp == nil {
		if rep.Entries > 0 {
			fmt.Fprintf(&b, "; not keyed: written before audit logs were keyed (a plain SHA-256 chain, which whoever can write the log could recompute). "+
				"Keying starts with the next entry fixgraph writes, with the key it then keeps in %s", filepath.Join(dir, auditKeyFile))
		}
		return b.String()
	}
	if rep.Unkeyed > 0 {
		fmt.Fprintf(&b, "; seq 1–%d were written before the log was keyed (a plain SHA-256 chain, which whoever can write the log could recompute)", rep.Unkeyed)
	}
	fmt.Fprintf(&b, "; keyed (HMAC-SHA256, key %s) from seq %d", cp.Key, cp.KeyedFrom)
	fmt.Fprintf(&b, "; anchored by the checkpoint of %s at seq %d", cp.Time.Format(time.RFC3339), cp.Seq)
	if cp.Seq < rep.Head.Seq {
		fmt.Fprintf(&b, " (behind the log's seq %d: the checkpoint of the last append was not written)", rep.Head.Seq)
	}
	return b.String()
}
