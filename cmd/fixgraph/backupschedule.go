package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"filippo.io/age"

	"github.com/fixgraph/fixgraph"
)

// serve makes a backup every --backup-every into --backup-dir and keeps the newest
// --backup-keep of them. The first comes one interval after the newest backup already in the
// directory, or at start when there is none or it is older than the interval. Each is written
// to a temporary file, checked and renamed, so the directory only ever holds whole backups;
// retention deletes only files whose names the schedule makes, and only after a backup
// succeeded, so a run of failures never eats the backups that are left.

const (
	// minBackupEvery is the shortest interval --backup-every takes.
	minBackupEvery = time.Minute
	// backupStampLayout is the UTC time in a scheduled backup's name; names sort by time.
	backupStampLayout = "20060102T150405.000Z"
)

// scheduledBackupName matches the names of the backups the schedule makes, and only those.
var scheduledBackupName = regexp.MustCompile(`^fixgraph-backup-(\d{8}T\d{6}\.\d{3}Z)\.tar\.gz(\.age)?$`)

// backupSchedule is serve's scheduled backups.
type backupSchedule struct {
	dir        string
	every      time.Duration
	keep       int
	recipients []age.Recipient
	// parts lists what to back up: the app's backupParts; tests inject faults here.
	parts func() ([]backupPart, error)
	// made, when set, is told of every backup tried, with its file and outcome (tests).
	made func(file string, err error)
}

// backupFlags are serve's flags for scheduled backups.
type backupFlags struct {
	every      *time.Duration
	keep       *int
	dir        *string
	recipients recipientFlags
	envErr     error
}

// addBackupFlags adds serve's --backup-* flags to fs, with defaults from $FIXGRAPH_BACKUP_*.
func addBackupFlags(fs *flag.FlagSet) *backupFlags {
	f := &backupFlags{}
	every, keep := time.Duration(0), 7
	if v := os.Getenv("FIXGRAPH_BACKUP_EVERY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.envErr = fixgraph.WrapError(fixgraph.EINVALID, err, "bad FIXGRAPH_BACKUP_EVERY %q: want a duration such as 24h", v)
		}
		every = d
	}
	if v := os.Getenv("FIXGRAPH_BACKUP_KEEP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.envErr = fixgraph.WrapError(fixgraph.EINVALID, err, "bad FIXGRAPH_BACKUP_KEEP %q: want a number of backups", v)
		}
		keep = n
	}
	f.every = fs.Duration("backup-every", every, "make a backup this often, e.g. 24h (at least 1m; 0: no scheduled backups) ($FIXGRAPH_BACKUP_EVERY)")
	f.keep = fs.Int("backup-keep", keep, "scheduled backups to keep, the newest; older ones the schedule made are deleted ($FIXGRAPH_BACKUP_KEEP)")
	f.dir = fs.String("backup-dir", os.Getenv("FIXGRAPH_BACKUP_DIR"), "directory of the scheduled backups, best on another disk (default DATA/backups) ($FIXGRAPH_BACKUP_DIR)")
	f.recipients = addRecipientFlags(fs, "backup-")
	return f
}

// schedule returns the schedule the flags ask for, nil when --backup-every is 0.
func (f *backupFlags) schedule(fs *flag.FlagSet, data string) (*backupSchedule, error) {
	if f.envErr != nil {
		return nil, f.envErr
	}
	if *f.every == 0 {
		for _, name := range []string{"backup-keep", "backup-dir", "backup-recipient", "backup-recipients-file"} {
			if flagSet(fs, name) {
				return nil, fixgraph.Errorf(fixgraph.EINVALID, "--%s is for scheduled backups: give --backup-every too", name)
			}
		}
		return nil, nil
	}
	if *f.every < minBackupEvery {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "--backup-every %s is too short: scheduled backups are at least %s apart", *f.every, minBackupEvery)
	}
	if *f.keep < 1 {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "--backup-keep %d: keep at least 1 backup", *f.keep)
	}
	recipients, err := f.recipients.parse("backup-")
	if err != nil {
		return nil, err
	}
	dir := *f.dir
	if dir == "" {
		dir = filepath.Join(data, "backups")
	}
	return &backupSchedule{dir: dir, every: *f.every, keep: *f.keep, recipients: recipients}, nil
}

// startBackups runs the schedule s (nothing when it is nil) in the background until ctx ends
// or the returned function is called, which waits for a backup under way to stop.
func (a *app) startBackups(ctx context.Context, s *backupSchedule) (stop func()) {
	if s == nil {
		return func() {}
	}
	if s.parts == nil {
		s.parts = a.backupParts
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.runBackups(ctx, s)
	}()
	return func() {
		cancel()
		<-done
	}
}

// runBackups makes a backup whenever one is due until ctx ends. A failed backup is logged and
// the schedule goes on.
func (a *app) runBackups(ctx context.Context, s *backupSchedule) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		a.log.Error("scheduled backups: cannot create their directory; they will be tried anyway", "dir", s.dir, "err", err)
	}
	now := time.Now()
	next := now
	if last, ok := newestScheduledBackup(s.dir); ok && last.Add(s.every).After(now) {
		next = last.Add(s.every)
		if next.After(now.Add(s.every)) {
			next = now.Add(s.every) // a clock set back waits one interval at most
		}
	}
	a.log.Info("scheduled backups", "dir", s.dir, "every", s.every, "keep", s.keep, "encrypted", len(s.recipients) > 0, "next", next.Format(time.RFC3339))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		file, err := a.scheduledBackup(ctx, s, start)
		switch {
		case ctx.Err() != nil:
			if s.made != nil {
				s.made(file, err)
			}
			return // shut down mid-backup; its temporary file is gone
		case err != nil:
			a.log.Error("scheduled backup failed; the next is tried on schedule", "file", file, "err", err)
		default:
			a.log.Info("scheduled backup", "file", file, "took", time.Since(start).Round(time.Millisecond))
			if err := pruneBackups(s.dir, s.keep); err != nil {
				a.log.Error("scheduled backups: deleting old ones", "dir", s.dir, "err", err)
			}
		}
		// Reported once the step is whole, old backups pruned included.
		if s.made != nil {
			s.made(file, err)
		}
		timer.Reset(time.Until(start.Add(s.every)))
	}
}

// scheduledBackup writes one backup into s.dir, named for at, and returns its file.
func (a *app) scheduledBackup(ctx context.Context, s *backupSchedule, at time.Time) (string, error) {
	name := "fixgraph-backup-" + at.UTC().Format(backupStampLayout) + ".tar.gz"
	file := filepath.Join(s.dir, encryptedName(name, len(s.recipients) > 0))
	_, err := writeArchive(ctx, file, s.recipients, func(w io.Writer) error {
		parts, err := s.parts()
		if err != nil {
			return err
		}
		a.auditAs(fixgraph.Local, "", "backup", file, map[string]string{"scheduled": s.every.String()}) // before the copy, so the copy holds it
		_, err = writeBackup(ctx, parts, a.dir, w)
		return err
	})
	if err != nil {
		return file, fmt.Errorf("backing up to %s: %w", file, err)
	}
	return file, nil
}

// scheduledBackups returns the backups the schedule made in dir, oldest first.
func scheduledBackups(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && scheduledBackupName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.SortFunc(names, func(x, y string) int { return backupTime(x).Compare(backupTime(y)) })
	return names, nil
}

// backupTime returns the time in a scheduled backup's name.
func backupTime(name string) time.Time {
	m := scheduledBackupName.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}
	}
	t, _ := time.Parse(backupStampLayout, m[1])
	return t
}

// newestScheduledBackup returns the time of the newest backup the schedule made in dir.
func newestScheduledBackup(dir string) (time.Time, bool) {
	names, err := scheduledBackups(dir)
	if err != nil || len(names) == 0 {
		return time.Time{}, false
	}
	return backupTime(names[len(names)-1]), true
}

// pruneBackups deletes all but the newest keep backups the schedule made in dir.
func pruneBackups(dir string, keep int) error {
	names, err := scheduledBackups(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names[:max(0, len(names)-keep)] {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
