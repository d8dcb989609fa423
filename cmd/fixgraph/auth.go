package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/audit"
	"github.com/fixgraph/fixgraph/auth"
)

// serveTokenFile, in the data directory, holds the local operator's token while a server runs:
// the command line on the same machine sends it to act as the operator. Whoever may read the data
// directory owns the data anyway.
const serveTokenFile = "serve.token"

// audit records an event of ctx's principal. A failure to record is logged, never hidden.
func (a *app) audit(ctx context.Context, action, target string, detail map[string]string) {
	a.auditAs(fixgraph.PrincipalFrom(ctx), remoteOf(ctx), action, target, detail)
}

func (a *app) auditAs(p *fixgraph.Principal, remote, action, target string, detail map[string]string) {
	if a.auditLog == nil {
		return
	}
	actor := p.ID
	if p.Name != "" && p.Name != p.ID {
		actor += " (" + p.Name + ")"
	}
	if _, err := a.auditLog.Append(audit.Entry{Actor: actor, Action: action, Target: target, Detail: detail, Remote: remote}); err != nil {
		a.log.Error("writing the audit log", "action", action, "err", err)
	}
}

type remoteKey struct{}

func remoteOf(ctx context.Context) string {
	s, _ := ctx.Value(remoteKey{}).(string)
	return s
}

// withRemote keeps the client address (auth.ClientAddr: behind a trusted proxy, the client it
// forwarded for) in the request context for the audit log.
func withRemote(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), remoteKey{}, auth.ClientAddr(r))))
	})
}

// gate returns the authentication in front of the API.
func (a *app) gate(localToken string, anonymous bool, rate float64, secure bool) *auth.Gate {
	g := &auth.Gate{
		Store: a.accounts, LocalToken: localToken, Anonymous: anonymous, Rate: rate, Secure: secure,
		Audit: func(r *http.Request, p *fixgraph.Principal, action, target string, detail map[string]string) {
			a.auditAs(p, auth.ClientAddr(r), action, target, detail)
		},
	}
	if a.shared != nil {
		g.Share = a.shared.Live // the replicas split each key's rate
	}
	return g
}

// firstStart creates an admin API key when the server has neither keys nor accounts, and prints
// it this once; and an admin account "admin" for the editor, with $FIXGRAPH_ADMIN_PASSWORD or a
// random password printed this once.
func (a *app) firstStart(stdout io.Writer) error {
	empty, err := a.accounts.Empty()
	if err != nil || !empty {
		return err
	}
	if err := checkAdminPassword(); err != nil {
		return err
	}
	secret, k, err := a.accounts.CreateKey("initial admin key", fixgraph.RoleAdmin, "", 0, "first start")
	if err != nil {
		return err
	}
	a.auditAs(fixgraph.Local, "", "key.create", "key:"+k.ID, map[string]string{"name": k.Name, "role": "admin"})
	fmt.Fprintf(stdout, "\nFirst start: an admin API key was created. It is shown only this once; keep it safe:\n\n    %s\n\n"+
		"Send it as `Authorization: Bearer <key>`. Make keys for bots with `fixgraph keys create --role reader --name NAME`.\n\n", secret)
	// The editor signs people in with accounts: make the first one, with the password from the
	// environment or a random one shown this once.
	pw, shown := os.Getenv("FIXGRAPH_ADMIN_PASSWORD"), false
	if pw == "" {
		b := make([]byte, 12)
		rand.Read(b)
		pw, shown = base64.RawURLEncoding.EncodeToString(b), true
	}
	_, err = a.accounts.CreateUser("admin", pw, fixgraph.RoleAdmin, "")
	if fixgraph.CodeOf(err) == fixgraph.ECONFLICT {
		return nil // another replica sharing the state started first and made it
	}
	if err != nil {
		return fmt.Errorf("creating the admin account: %w", err)
	}
	a.auditAs(fixgraph.Local, "", "user.create", "user:admin", map[string]string{"role": "admin"})
	if shown {
		fmt.Fprintf(stdout, "An admin account for the editor at /editor/ was created. Its password is shown only this once:\n\n    admin / %s\n\n", pw)
	} else {
		fmt.Fprintln(stdout, "An admin account \"admin\" for the editor at /editor/ was created with the password in $FIXGRAPH_ADMIN_PASSWORD.")
	}
	return nil
}

// checkAdminPassword returns EINVALID when $FIXGRAPH_ADMIN_PASSWORD is set and too short for the
// admin account; serve checks it before it creates anything, so a bad one cannot leave a data
// directory with a key and no account behind.
func checkAdminPassword() error {
	pw := os.Getenv("FIXGRAPH_ADMIN_PASSWORD")
	if pw == "" {
		return nil
	}
	if err := auth.ValidPassword(pw); err != nil {
		return fixgraph.WrapError(fixgraph.EINVALID, err, "FIXGRAPH_ADMIN_PASSWORD is too short for the admin account: it needs at least %d characters", auth.MinPasswordLen)
	}
	return nil
}

// writeServeToken writes a new local operator token into the data directory and returns it.
func writeServeToken(dir string) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	token := hex.EncodeToString(b)
	if err := os.WriteFile(filepath.Join(dir, serveTokenFile), []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the local token: %w", err)
	}
	return token, nil
}

// readServeToken returns the running server's local token in dir, or "".
func readServeToken(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, serveTokenFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

const keysUsage = `usage:
  fixgraph keys create --name NAME --role reader|uploader|editor|reviewer|admin [--department D] [--expires 720h]
  fixgraph keys list
  fixgraph keys revoke ID`

// runKeys manages API keys, through the running server when one holds the data directory.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, keysUsage)
		return exitError{2}
	}
	var cfg config
	fs := newFlags("keys "+args[0], stderr, &cfg)
	name := fs.String("name", "", "who uses the key (a bot, an app)")
	role := fs.String("role", "reader", "reader, uploader, editor, reviewer or admin")
	department := fs.String("department", "", "the department an uploader writes to, or whose documents the key may read")
	expires := fs.String("expires", "", "lifetime, such as 720h; none: it does not expire")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg.embedder = "none"
	q, err := openQuerier(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer q.Close()
	const fields = "id name role department createdAt createdBy expiresAt revokedAt"
	switch args[0] {
	case "create":
		var out struct{ CreateAPIKey struct{ Secret string } }
		vars := map[string]any{"name": *name, "role": *role, "department": *department, "expires": nilIfEmpty(*expires)}
		err := q.query(ctx, `mutation($name: String!, $role: String!, $department: String, $expires: String) {
  createAPIKey(name: $name, role: $role, department: $department, expiresIn: $expires) { secret key { id } } }`, vars, &out)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, out.CreateAPIKey.Secret)
		fmt.Fprintln(stderr, "This key is shown only this once.")
	case "list":
		var out struct{ APIKeys []map[string]any }
		if err := q.query(ctx, `{ apiKeys { `+fields+` } }`, nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(out.APIKeys)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tDEPARTMENT\tCREATED\tEXPIRES\tREVOKED")
		for _, k := range out.APIKeys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", str(k["id"]), str(k["name"]), str(k["role"]), str(k["department"]), str(k["createdAt"]), str(k["expiresAt"]), str(k["revokedAt"]))
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, keysUsage)
			return exitError{2}
		}
		var out struct {
			RevokeAPIKey struct{ ID, RevokedAt string }
		}
		if err := q.query(ctx, `mutation($id: ID!) { revokeAPIKey(id: $id) { id revokedAt } }`, map[string]any{"id": fs.Arg(0)}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked key %s at %s\n", out.RevokeAPIKey.ID, out.RevokeAPIKey.RevokedAt)
	default:
		fmt.Fprintln(stderr, keysUsage)
		return exitError{2}
	}
	return nil
}

const usersUsage = `usage:
  fixgraph users create --name NAME --role editor|reviewer|uploader|admin [--department D]   (password from $FIXGRAPH_PASSWORD or the first line of stdin)
  fixgraph users role --name NAME --role ROLE [--department D]
  fixgraph users list
  fixgraph users unlock NAME         (end a lock after failed sign-ins)
  fixgraph users reset-mfa NAME      (take a lost second factor away)
  fixgraph users require-mfa --role editor,reviewer,admin   (--role none: require it of no one)`

// runUsers manages editor accounts, through the running server when one holds the data directory.
func runUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usersUsage)
		return exitError{2}
	}
	var cfg config
	fs := newFlags("users "+args[0], stderr, &cfg)
	name := fs.String("name", "", "the account's name")
	role := fs.String("role", "editor", "reader, uploader, editor, reviewer or admin")
	department := fs.String("department", "", "the account's department")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg.embedder = "none"
	q, err := openQuerier(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer q.Close()
	vars := map[string]any{"name": *name, "role": *role, "department": nilIfEmpty(*department)}
	switch args[0] {
	case "create":
		pw := os.Getenv("FIXGRAPH_PASSWORD")
		if pw == "" {
			line, err := readLine(stdin)
			if err != nil {
				return fixgraph.Errorf(fixgraph.EINVALID, "give the password in $FIXGRAPH_PASSWORD or on the first line of standard input")
			}
			pw = line
		}
		vars["password"] = pw
		var out struct{ CreateUser struct{ Name, Role string } }
		if err := q.query(ctx, `mutation($name: String!, $password: String!, $role: String!, $department: String) {
  createUser(name: $name, password: $password, role: $role, department: $department) { name role } }`, vars, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s)\n", out.CreateUser.Name, out.CreateUser.Role)
	case "role":
		var out struct{ SetUserRole struct{ Name, Role string } }
		if err := q.query(ctx, `mutation($name: String!, $role: String!, $department: String) {
  setUserRole(name: $name, role: $role, department: $department) { name role } }`, vars, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s is now %s\n", out.SetUserRole.Name, out.SetUserRole.Role)
	case "list":
		var out struct {
			Users    []map[string]any
			MfaRoles []string
		}
		if err := q.query(ctx, `{ users { name role department createdAt mfa failedSignIns lockedUntil } mfaRoles }`, nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tDEPARTMENT\tCREATED\tMFA\tFAILURES\tLOCKED UNTIL")
		for _, u := range out.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", str(u["name"]), str(u["role"]), str(u["department"]), str(u["createdAt"]),
				mfaState(u, out.MfaRoles), str(u["failedSignIns"]), str(u["lockedUntil"]))
		}
		return tw.Flush()
	case "unlock", "reset-mfa", "require-mfa":
		return runUsersMFA(ctx, q, args[0], fs, stdout, stderr)
	default:
		fmt.Fprintln(stderr, usersUsage)
		return exitError{2}
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func str(v any) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(v)
}

func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
