package fixgraph

import (
	"context"
	"slices"
	"time"
)

// Role says what a principal may do.
type Role string

// Roles, from least to most trusted.
const (
	RoleReader   Role = "reader"   // bots and apps: public, published knowledge, read only
	RoleUploader Role = "uploader" // uploads and crawls for its own department
	RoleEditor   Role = "editor"   // edits knowledge (drafts)
	RoleReviewer Role = "reviewer" // reviews and publishes
	RoleAdmin    Role = "admin"    // everything, keys and accounts included
)

// Roles lists the roles.
var Roles = []Role{RoleReader, RoleUploader, RoleEditor, RoleReviewer, RoleAdmin}

// ValidRole reports whether r is one of Roles.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// Principal is who a request acts for: an API key, a signed-in editor, or the local operator.
type Principal struct {
	ID         string `json:"id"`   // "key:ab12cd34", "user:alice", "local"
	Name       string `json:"name"` // a key's label or a user's name
	Role       Role   `json:"role"`
	Department string `json:"department,omitempty"`
}

// Anonymous is the principal of a request that carries no credentials where anonymous reads are
// allowed: the least a reader may see.
var Anonymous = &Principal{ID: "anonymous", Name: "anonymous", Role: RoleReader}

// Local is the operator at the machine: the command line working on its own data directory.
var Local = &Principal{ID: "local", Name: "local operator", Role: RoleAdmin}

type principalKey struct{}

// WithPrincipal returns ctx acting for p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns who ctx acts for. A context without one acts for Anonymous: whatever
// forgets to say who is asking sees the least.
func PrincipalFrom(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok && p != nil {
		return p
	}
	return Anonymous
}

// Audience is what the search indexes record of who may read a document: its visibility, and
// for department documents the department ("department:support").
func Audience(d *Document) Visibility {
	if d.Visibility == VisibilityDepartment {
		return Visibility("department:" + d.Department)
	}
	if d.Visibility == "" {
		return VisibilityPublic
	}
	return d.Visibility
}

// Audiences returns the audiences p may read, or nil when p may read all.
func (p *Principal) Audiences() []Visibility {
	switch p.Role {
	case RoleAdmin:
		return nil
	case RoleReader:
		return []Visibility{VisibilityPublic}
	}
	out := []Visibility{VisibilityPublic, VisibilityInternal}
	if p.Department != "" {
		out = append(out, Visibility("department:"+p.Department))
	}
	return out
}

// SeesDrafts reports whether p may read knowledge that is not published.
func (p *Principal) SeesDrafts() bool { return p.Role != RoleReader }

// CanRead reports whether p may read the document and what it contributed.
func (p *Principal) CanRead(d *Document) bool {
	if d.Status != StatusPublished && d.Status != "" && !p.SeesDrafts() {
		return false
	}
	aud := p.Audiences()
	return aud == nil || slices.Contains(aud, Audience(d))
}

// Narrow returns f restricted to what p may read: its audiences, and published knowledge for a
// reader.
func (p *Principal) Narrow(f SearchFilter) SearchFilter {
	if aud := p.Audiences(); aud != nil {
		if len(f.Visibility) == 0 {
			f.Visibility = aud
		} else {
			var both []Visibility
			for _, v := range f.Visibility {
				if slices.Contains(aud, v) {
					both = append(both, v)
				}
			}
			if both == nil {
				both = []Visibility{"none"} // asked only for what it may not see: nothing matches
			}
			f.Visibility = both
		}
	}
	if !p.SeesDrafts() {
		f.Statuses = []Status{StatusPublished}
	}
	return f
}

// Can reports whether p's role allows an action on knowledge of a department: uploads and crawls
// (uploader for its own department, editors and up anywhere), editing (editors and up), publishing
// what editors wrote (reviewers and admins), and administration (admin).
func (p *Principal) Can(action string, department string) bool {
	switch action {
	case "upload":
		return p.Role == RoleAdmin || p.Role == RoleEditor || p.Role == RoleReviewer ||
			p.Role == RoleUploader && p.Department != "" && p.Department == department
	case "stock":
		return p.Role == RoleAdmin || p.Role == RoleUploader
	case "analytics", "edit":
		return p.Role == RoleAdmin || p.Role == RoleEditor || p.Role == RoleReviewer
	case "publish":
		return p.Role == RoleAdmin || p.Role == RoleReviewer
	case "admin":
		return p.Role == RoleAdmin
	}
	return false
}

// APIKey is an API key for a bot or an app. Its secret is stored only as a SHA-256 hash: keys are
// 256 random bits, so a fast hash is enough (passwords, which people choose, get argon2id).
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Department string    `json:"department,omitempty"`
	Hash       string    `json:"hash"`
	CreatedAt  time.Time `json:"createdAt"`
	CreatedBy  string    `json:"createdBy,omitempty"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
}

// User is an editor's account.
type User struct {
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Department string    `json:"department,omitempty"`
	Password   string    `json:"password"` // argon2id, encoded with its parameters and salt
	CreatedAt  time.Time `json:"createdAt"`
	Disabled   bool      `json:"disabled,omitempty"`

	// MFA, LockedUntil and FailedSignIns are filled in from the account's sign-in state when
	// accounts are listed for an admin; they are not stored with the account.
	MFA           bool      `json:"-"` // it signs in with a TOTP code
	LockedUntil   time.Time `json:"-"` // non-zero: locked after failed sign-ins until then
	FailedSignIns int       `json:"-"` // failed sign-in steps in a row since the last lock or success
}
