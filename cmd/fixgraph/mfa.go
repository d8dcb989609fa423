package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// mfaKeyFile, in the data directory, holds the key that seals the TOTP secrets of accounts with
// MFA in auth.db, unless $FIXGRAPH_MFA_KEY gives it. Backups of auth.db do not carry it: a copy
// of the store alone does not give away anyone's second factor. Restoring elsewhere needs the key
// too, or the accounts' MFA reset (fixgraph users reset-mfa).
const mfaKeyFile = "mfa.key"

// mfaKey returns the key that seals TOTP secrets: $FIXGRAPH_MFA_KEY (64 hex digits), or the key
// in DIR/mfa.key, made (readable by its owner only) when there is none. With shared state every
// replica must seal with the same key, so it has to come from the environment.
func mfaKey(dir string, shared bool) ([]byte, error) {
	if s := strings.TrimSpace(os.Getenv("FIXGRAPH_MFA_KEY")); s != "" {
		k, err := hex.DecodeString(s)
		if err != nil || len(k) != 32 {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "FIXGRAPH_MFA_KEY must be 64 hex digits (32 bytes)")
		}
		return k, nil
	}
	if shared {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "with shared state (FIXGRAPH_STATE), set FIXGRAPH_MFA_KEY to the same 64 hex digits on every replica (for example: openssl rand -hex 32)")
	}
	file := filepath.Join(dir, mfaKeyFile)
	b, err := os.ReadFile(file)
	if err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("MFA key file %q: want 64 hex digits", file)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the MFA key file %q: %w", file, err)
	}
	k := make([]byte, 32)
	rand.Read(k)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process made it first
			return mfaKey(dir, false)
		}
		return nil, fmt.Errorf("creating the MFA key file %q: %w", file, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the MFA key file %q: %w", file, err)
	}
	return k, f.Close()
}

// mfaState is what users list shows in its MFA column: on, off, or required and not set up.
func mfaState(u map[string]any, required []string) string {
	if on, _ := u["mfa"].(bool); on {
		return "on"
	}
	if role, _ := u["role"].(string); slices.Contains(required, role) {
		return "required"
	}
	return "off"
}

// runUsersMFA runs users unlock, reset-mfa and require-mfa.
func runUsersMFA(ctx context.Context, q querier, cmd string, fs *flag.FlagSet, stdout, stderr io.Writer) error {
	if cmd == "require-mfa" {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "role" })
		if !set || fs.NArg() != 0 {
			fmt.Fprintln(stderr, usersUsage)
			return exitError{2}
		}
		roles := []string{}
		for _, r := range strings.Split(fs.Lookup("role").Value.String(), ",") {
			if r = strings.TrimSpace(r); r != "" && r != "none" {
				roles = append(roles, r)
			}
		}
		var out struct{ SetMFARoles []string }
		if err := q.query(ctx, `mutation($roles: [String!]!) { setMFARoles(roles: $roles) }`, map[string]any{"roles": roles}, &out); err != nil {
			return err
		}
		if len(out.SetMFARoles) == 0 {
			fmt.Fprintln(stdout, "two-step sign-in is required of no role")
		} else {
			fmt.Fprintf(stdout, "two-step sign-in is required of %s; their accounts without it enrol at their next sign-in\n", strings.Join(out.SetMFARoles, ", "))
		}
		return nil
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, usersUsage)
		return exitError{2}
	}
	mutation := map[string]string{"unlock": "unlockUser", "reset-mfa": "resetUserMFA"}[cmd]
	var out map[string]struct {
		Name        string
		Mfa         bool
		LockedUntil *string
	}
	if err := q.query(ctx, `mutation($name: String!) { `+mutation+`(name: $name) { name mfa lockedUntil } }`, map[string]any{"name": fs.Arg(0)}, &out); err != nil {
		return err
	}
	u := out[mutation]
	if cmd == "unlock" {
		fmt.Fprintf(stdout, "user %s is unlocked\n", u.Name)
	} else {
		fmt.Fprintf(stdout, "user %s has no second factor now; its sessions ended\n", u.Name)
	}
	return nil
}
