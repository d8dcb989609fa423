package auth

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph/kv"
	"github.com/pquerna/otp"

	"github.com/fixgraph/fixgraph"
)

var (
	bucketMFA     = []byte("mfa")     // user name → mfaRecord JSON
	bucketPending = []byte("pending") // sha256(token) hex → pendingSignIn JSON
	bucketPolicy  = []byte("policy")  // policyMFARoles → JSON list of roles
)

var policyMFARoles = []byte("mfaRoles")

// PendingTTL is how long a half-done sign-in (a right password, waiting for its second factor or
// for the account to enrol) lasts.
const PendingTTL = 5 * time.Minute

// enrolTTL is how long a new secret waits for its first code before it must be made again.
const enrolTTL = 15 * time.Minute

// Challenge is what a sign-in still needs after a right password.
type Challenge string

// Challenges.
const (
	ChallengeNone  Challenge = ""      // nothing: the sign-in is done
	ChallengeCode  Challenge = "code"  // a TOTP code or a recovery code
	ChallengeEnrol Challenge = "enrol" // the account's role requires MFA and it has none: enrol first
)

// Attempt is the outcome of a sign-in step. When the sign-in is done, Token, CSRF and Principal
// are set; when it needs another step, Challenge and Pending say which and carry it there. The
// failure fields are for the audit log (AuditAttempt).
type Attempt struct {
	User      string
	Step      string // "password" or "code": the step tried
	Challenge Challenge
	Pending   string // the half-done sign-in's token, for the next step; it expires after PendingTTL

	Token, CSRF string
	Principal   *fixgraph.Principal
	Method      string // what the last step was: "password", "totp" or "recovery"
	Recovery    int    // recovery codes left, after one was used

	Failures    int       // the account's failed steps in a row, with this one
	Refused     bool      // refused unchecked: the account is locked
	Locked      bool      // this failure locked the account
	LockedUntil time.Time // when the lock ends (Locked or Refused)
}

// mfaRecord is an account's second factor. Secrets are sealed with the store's SecretKey.
type mfaRecord struct {
	Secret     string    `json:"secret,omitempty"` // the enrolled TOTP secret
	EnrolledAt time.Time `json:"enrolledAt,omitzero"`
	LastStep   int64     `json:"lastStep,omitempty"` // the last TOTP step used: no code is good twice
	Recovery   []string  `json:"recovery,omitempty"` // hashes of unused recovery codes

	Next   string    `json:"next,omitempty"` // a secret being enrolled, waiting for its first code
	NextAt time.Time `json:"nextAt,omitzero"`
}

// pendingSignIn is a half-done sign-in.
type pendingSignIn struct {
	User      string    `json:"user"`
	Challenge Challenge `json:"challenge"`
	CSRF      string    `json:"csrf"` // for the forms of the enrolment pages before there is a session
	ExpiresAt time.Time `json:"expiresAt"`
}

var (
	errBadCode     = fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "wrong, used or expired code")
	errPendingGone = fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "the sign-in has expired or ended; sign in again with your password")
)

func getMFA(tx kv.Tx, name string) (*mfaRecord, error) {
	var m mfaRecord
	if v := tx.Bucket(bucketMFA).Get([]byte(name)); v != nil {
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, fmt.Errorf("reading the MFA record of %q: %w", name, err)
		}
	}
	return &m, nil
}

func putMFA(tx kv.Tx, name string, m *mfaRecord) error {
	v, _ := json.Marshal(m)
	return tx.Bucket(bucketMFA).Put([]byte(name), v)
}

func getUser(tx kv.Tx, name string) (*User, error) {
	v := tx.Bucket(bucketUsers).Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	var u User
	if err := json.Unmarshal(v, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

func mfaRoles(tx kv.Tx) []fixgraph.Role {
	var roles []fixgraph.Role
	if v := tx.Bucket(bucketPolicy).Get(policyMFARoles); v != nil {
		json.Unmarshal(v, &roles)
	}
	return roles
}

// Password is the first step of signing in: it checks name's password. An account without a
// second factor is signed in; one with MFA, or whose role requires it, gets a half-done sign-in
// (Attempt.Pending) for SecondFactor or the enrolment. A wrong password counts towards the
// account's lock; a locked account is refused without its password being checked.
func (s *Store) Password(name, password string) (*Attempt, error) {
	a := &Attempt{User: name, Step: "password"}
	now := s.now()
	var u *User
	err := s.db.View(func(tx kv.Tx) error {
		var err error
		if u, err = getUser(tx, name); err != nil || u == nil {
			return err
		}
		a.LockedUntil = lockedUntil(tx, name, now)
		return nil
	})
	if err != nil {
		return a, err
	}
	if u == nil {
		checkPassword(dummyHash, password)
		return a, errBadLogin
	}
	if !a.LockedUntil.IsZero() {
		a.Refused = true
		return a, errLocked(a.LockedUntil)
	}
	if !checkPassword(u.Password, password) {
		if err := s.db.Update(func(tx kv.Tx) error { return failed(tx, name, now, a) }); err != nil {
			return a, err
		}
		return a, errBadLogin
	}
	if u.Disabled {
		return a, errBadLogin
	}
	err = s.db.Update(func(tx kv.Tx) error {
		// Read again: a lock or an enrolment may have come in between.
		if until := lockedUntil(tx, name, now); !until.IsZero() {
			a.Refused, a.LockedUntil = true, until
			return errLocked(until)
		}
		m, err := getMFA(tx, name)
		if err != nil {
			return err
		}
		switch {
		case m.Secret != "":
			a.Challenge = ChallengeCode
		case slices.Contains(mfaRoles(tx), u.Role):
			a.Challenge = ChallengeEnrol
		default:
			a.Method = "password"
			return s.startSession(tx, u, a)
		}
		a.Pending = random(32)
		v, _ := json.Marshal(pendingSignIn{User: name, Challenge: a.Challenge, CSRF: random(24), ExpiresAt: now.Add(PendingTTL)})
		sweepPending(tx, now)
		return tx.Bucket(bucketPending).Put([]byte(sha(a.Pending)), v)
	})
	return a, err
}

// startSession signs u in: it forgets the account's failures and stores a new session, whose
// token and CSRF token it puts in a.
func (s *Store) startSession(tx kv.Tx, u *User, a *Attempt) error {
	if err := succeeded(tx, u.Name); err != nil {
		return err
	}
	a.Token, a.CSRF = random(32), random(24)
	now := s.now()
	v, _ := json.Marshal(Session{User: u.Name, CSRF: a.CSRF, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)})
	a.Principal = userPrincipal(u)
	return tx.Bucket(bucketSessions).Put([]byte(sha(a.Token)), v)
}

// sweepPending drops expired half-done sign-ins.
func sweepPending(tx kv.Tx, now time.Time) {
	b := tx.Bucket(bucketPending)
	var drop [][]byte
	b.ForEach(func(k, v []byte) error {
		var p pendingSignIn
		if json.Unmarshal(v, &p) != nil || !now.Before(p.ExpiresAt) {
			drop = append(drop, slices.Clone(k))
		}
		return nil
	})
	for _, k := range drop {
		b.Delete(k)
	}
}

// endPending drops every half-done sign-in of user.
func endPending(tx kv.Tx, user string) error {
	b := tx.Bucket(bucketPending)
	var drop [][]byte
	b.ForEach(func(k, v []byte) error {
		var p pendingSignIn
		if json.Unmarshal(v, &p) != nil || p.User == user {
			drop = append(drop, slices.Clone(k))
		}
		return nil
	})
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func getPending(tx kv.Tx, token string, now time.Time) (*pendingSignIn, error) {
	v := tx.Bucket(bucketPending).Get([]byte(sha(token)))
	if v == nil || token == "" {
		return nil, errPendingGone
	}
	var p pendingSignIn
	if err := json.Unmarshal(v, &p); err != nil || !now.Before(p.ExpiresAt) {
		return nil, errPendingGone
	}
	return &p, nil
}

// endPendingToken drops the half-done sign-in token.
func (s *Store) endPendingToken(token string) {
	s.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketPending).Delete([]byte(sha(token))) })
}

// EndPending drops the half-done sign-in token, as when its browser goes back to the password.
func (s *Store) EndPending(token string) { s.endPendingToken(token) }

// Pending returns the account and the challenge of the half-done sign-in token, and the CSRF
// token its forms carry; EUNAUTHORIZED when it is unknown or has expired.
func (s *Store) Pending(token string) (user string, c Challenge, csrf string, err error) {
	err = s.db.View(func(tx kv.Tx) error {
		p, err := getPending(tx, token, s.now())
		if err != nil {
			return err
		}
		user, c, csrf = p.User, p.Challenge, p.CSRF
		return nil
	})
	return user, c, csrf, err
}

// SecondFactor is the second step of signing in: it checks a TOTP code (six digits, of the
// current 30-second step or the one before or after, and later than the last step used) or a
// recovery code (used up by it) against the account of the half-done sign-in pending, and signs
// the account in. A wrong code counts towards the account's lock like a wrong password.
func (s *Store) SecondFactor(pending, code string) (*Attempt, error) {
	a := &Attempt{Step: "code"}
	now := s.now()
	var fail bool
	err := s.db.Update(func(tx kv.Tx) error {
		p, err := getPending(tx, pending, now)
		if err != nil {
			return err
		}
		a.User = p.User
		if p.Challenge != ChallengeCode {
			return fixgraph.Errorf(fixgraph.EFORBIDDEN, "this account must set up two-step sign-in first")
		}
		if until := lockedUntil(tx, p.User, now); !until.IsZero() {
			a.Refused, a.LockedUntil = true, until
			tx.Bucket(bucketPending).Delete([]byte(sha(pending)))
			return errLocked(until)
		}
		u, err := getUser(tx, p.User)
		if err != nil {
			return err
		}
		if u == nil || u.Disabled {
			tx.Bucket(bucketPending).Delete([]byte(sha(pending)))
			return errBadLogin
		}
		m, err := getMFA(tx, p.User)
		if err != nil {
			return err
		}
		if m.Secret == "" {
			tx.Bucket(bucketPending).Delete([]byte(sha(pending)))
			return errPendingGone
		}
		ok, err := s.checkCode(p.User, m, strings.TrimSpace(code), now, a)
		if err != nil {
			return err
		}
		if !ok {
			fail = true
			return nil
		}
		if err := putMFA(tx, p.User, m); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPending).Delete([]byte(sha(pending))); err != nil {
			return err
		}
		return s.startSession(tx, u, a)
	})
	if err != nil {
		return a, err
	}
	if fail {
		// Counted in a transaction of its own, so that it holds whatever the caller does next.
		if err := s.db.Update(func(tx kv.Tx) error { return failed(tx, a.User, now, a) }); err != nil {
			return a, err
		}
		return a, errBadCode
	}
	return a, nil
}

// checkCode checks code against m and, when it is good, marks it used in m (the caller stores
// m): a TOTP code's step becomes the last used, a recovery code is taken out.
func (s *Store) checkCode(name string, m *mfaRecord, code string, now time.Time, a *Attempt) (bool, error) {
	if isTOTPCode(code) {
		secret, err := unseal(s.SecretKey, name, m.Secret)
		if err != nil {
			return false, fixgraph.WrapError(fixgraph.EINTERNAL, err, "reading the second factor of %q", name)
		}
		step, ok := matchTOTP(secret, code, now, m.LastStep)
		if ok {
			m.LastStep, a.Method = step, "totp"
		}
		return ok, nil
	}
	rest, ok := useRecoveryCode(m.Recovery, code)
	if ok {
		m.Recovery, a.Method, a.Recovery = rest, "recovery", len(rest)
	}
	return ok, nil
}

// Enrolment is a new TOTP secret waiting for its first code: the URI for an authenticator app
// (otpauth://totp/…), the same as a QR code in a data: URI, and the secret for typing in.
type Enrolment struct {
	URI    string
	QR     string
	Secret string
}

// StartEnrolment makes a new TOTP secret for the account name and keeps it until
// ConfirmEnrolment sees a code of it (for enrolTTL). An account that has MFA keeps it until then;
// starting again replaces the secret waiting.
func (s *Store) StartEnrolment(name string) (*Enrolment, error) {
	key, err := newTOTPKey(name, nil)
	if err != nil {
		return nil, fmt.Errorf("making a TOTP secret: %w", err)
	}
	sealed, err := seal(s.SecretKey, name, key.Secret())
	if err != nil {
		return nil, fmt.Errorf("sealing the TOTP secret: %w", err)
	}
	err = s.db.Update(func(tx kv.Tx) error {
		if u, err := getUser(tx, name); err != nil || u == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no user %q", name)
		}
		m, err := getMFA(tx, name)
		if err != nil {
			return err
		}
		m.Next, m.NextAt = sealed, s.now()
		return putMFA(tx, name, m)
	})
	if err != nil {
		return nil, err
	}
	return enrolmentOf(key), nil
}

func enrolmentOf(key *otp.Key) *Enrolment {
	qr, err := qrDataURI(key)
	if err != nil {
		qr = "" // the URI and the secret still work
	}
	return &Enrolment{URI: key.URL(), QR: qr, Secret: key.Secret()}
}

// WaitingEnrolment returns the secret StartEnrolment made for name that still waits for its
// first code, to show it again after a wrong code; ENOTFOUND when there is none.
func (s *Store) WaitingEnrolment(name string) (*Enrolment, error) {
	var m *mfaRecord
	err := s.db.View(func(tx kv.Tx) error {
		var err error
		m, err = getMFA(tx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if m.Next == "" || s.now().Sub(m.NextAt) > enrolTTL {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no new secret is waiting")
	}
	secret, err := unseal(s.SecretKey, name, m.Next)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINTERNAL, err, "reading the new second factor of %q", name)
	}
	raw, err := b32NoPad.DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("decoding the new second factor of %q: %w", name, err)
	}
	key, err := newTOTPKey(name, raw)
	if err != nil {
		return nil, err
	}
	return enrolmentOf(key), nil
}

// ConfirmEnrolment turns on the secret StartEnrolment made for name when code is a current code
// of it, and returns RecoveryCodes new recovery codes, shown this once (only their hashes are
// kept; the old ones, if any, no longer work). The code's step counts as used.
func (s *Store) ConfirmEnrolment(name, code string) ([]string, error) {
	var codes []string
	err := s.db.Update(func(tx kv.Tx) error {
		var err error
		codes, err = s.confirm(tx, name, code)
		return err
	})
	return codes, err
}

func (s *Store) confirm(tx kv.Tx, name, code string) ([]string, error) {
	now := s.now()
	m, err := getMFA(tx, name)
	if err != nil {
		return nil, err
	}
	if m.Next == "" || now.Sub(m.NextAt) > enrolTTL {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "no new secret is waiting (or it is older than %v); start the set-up again", enrolTTL)
	}
	secret, err := unseal(s.SecretKey, name, m.Next)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINTERNAL, err, "reading the new second factor of %q", name)
	}
	step, ok := matchTOTP(secret, strings.TrimSpace(code), now, 0)
	if !ok {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "that is not the app's current code; check the phone's clock and try the next code")
	}
	codes := make([]string, RecoveryCodes)
	hashes := make([]string, RecoveryCodes)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = recoveryHash(codes[i])
	}
	*m = mfaRecord{Secret: m.Next, EnrolledAt: now, LastStep: step, Recovery: hashes}
	return codes, putMFA(tx, name, m)
}

// ConfirmPendingEnrolment is ConfirmEnrolment for the account of a half-done sign-in that had to
// enrol: with the code right, the account has MFA and is signed in.
func (s *Store) ConfirmPendingEnrolment(pending, code string) ([]string, *Attempt, error) {
	a := &Attempt{Step: "enrol"}
	var codes []string
	err := s.db.Update(func(tx kv.Tx) error {
		now := s.now()
		p, err := getPending(tx, pending, now)
		if err != nil {
			return err
		}
		a.User = p.User
		if p.Challenge != ChallengeEnrol {
			return errPendingGone
		}
		u, err := getUser(tx, p.User)
		if err != nil {
			return err
		}
		if u == nil || u.Disabled {
			return errBadLogin
		}
		if codes, err = s.confirm(tx, p.User, code); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPending).Delete([]byte(sha(pending))); err != nil {
			return err
		}
		a.Method = "enrol"
		return s.startSession(tx, u, a)
	})
	if err != nil {
		return nil, a, err
	}
	return codes, a, nil
}

// MFAStatus is what an account's owner and its admins see of its second factor.
type MFAStatus struct {
	Enabled      bool
	EnrolledAt   time.Time
	RecoveryLeft int
	Required     bool // its role requires MFA
}

// MFA returns the state of name's second factor.
func (s *Store) MFA(name string) (*MFAStatus, error) {
	st := &MFAStatus{}
	err := s.db.View(func(tx kv.Tx) error {
		u, err := getUser(tx, name)
		if err != nil || u == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no user %q", name)
		}
		m, err := getMFA(tx, name)
		if err != nil {
			return err
		}
		st.Enabled, st.EnrolledAt, st.RecoveryLeft = m.Secret != "", m.EnrolledAt, len(m.Recovery)
		st.Required = slices.Contains(mfaRoles(tx), u.Role)
		return nil
	})
	return st, err
}

// ResetMFA takes name's second factor away (a lost phone and lost recovery codes) and ends its
// sessions; if its role requires MFA, it enrols again at its next sign-in.
func (s *Store) ResetMFA(name string) error {
	return s.db.Update(func(tx kv.Tx) error {
		if u, err := getUser(tx, name); err != nil || u == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no user %q", name)
		}
		if err := tx.Bucket(bucketMFA).Delete([]byte(name)); err != nil {
			return err
		}
		if err := endPending(tx, name); err != nil {
			return err
		}
		return endSessions(tx, name)
	})
}

// MFARoles returns the roles whose accounts must sign in with a second factor.
func (s *Store) MFARoles() ([]fixgraph.Role, error) {
	var roles []fixgraph.Role
	err := s.db.View(func(tx kv.Tx) error { roles = mfaRoles(tx); return nil })
	return roles, err
}

// SetMFARoles makes a second factor required for the accounts of roles (none: for no one). The
// sessions of accounts that now need one and have none end, so they enrol at their next sign-in.
func (s *Store) SetMFARoles(roles []fixgraph.Role) error {
	var out []fixgraph.Role
	for _, r := range roles {
		if !fixgraph.ValidRole(r) {
			return fixgraph.Errorf(fixgraph.EINVALID, "unknown role %q: %v", r, fixgraph.Roles)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return s.db.Update(func(tx kv.Tx) error {
		v, _ := json.Marshal(out)
		if err := tx.Bucket(bucketPolicy).Put(policyMFARoles, v); err != nil {
			return err
		}
		var names []string
		tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			var u User
			if json.Unmarshal(v, &u) == nil && slices.Contains(out, u.Role) {
				names = append(names, u.Name)
			}
			return nil
		})
		for _, n := range names {
			if m, _ := getMFA(tx, n); m != nil && m.Secret != "" {
				continue
			}
			if err := endSessions(tx, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// fillSecurity sets the MFA and lock fields of u from tx, for an admin's list.
func fillSecurity(tx kv.Tx, u *User, now time.Time) {
	if m, err := getMFA(tx, u.Name); err == nil {
		u.MFA = m.Secret != ""
	}
	st := getLock(tx, u.Name)
	u.FailedSignIns = st.Failures
	if now.Before(st.Until) {
		u.LockedUntil = st.Until
	}
}

// AuditAttempt records a failed sign-in step through audit: each failure as signin.failed (with
// the step, the failures in a row, and "locked" when the account was locked and the step not
// tried), and a failure that locks the account as signin.locked too, with when the lock ends.
// A successful step records nothing here; the caller writes signin.
func AuditAttempt(a *Attempt, err error, audit func(action, target string, detail map[string]string)) {
	if err == nil || a == nil {
		return
	}
	target := "user:" + a.User
	d := map[string]string{"step": a.Step}
	if a.Failures > 0 {
		d["failures"] = strconv.Itoa(a.Failures)
	}
	if a.Refused {
		d["reason"] = "locked"
		d["lockedUntil"] = a.LockedUntil.UTC().Format(time.RFC3339)
	}
	audit("signin.failed", target, d)
	if a.Locked {
		audit("signin.locked", target, map[string]string{"until": a.LockedUntil.UTC().Format(time.RFC3339),
			"after": strconv.Itoa(LockAfter) + " failures"})
	}
}
