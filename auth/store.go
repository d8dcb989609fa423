package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph/kv"

	"golang.org/x/crypto/argon2"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/bolt"
)

var (
	bucketKeys     = []byte("keys")     // key id → Key JSON
	bucketUsers    = []byte("users")    // user name → User JSON
	bucketSessions = []byte("sessions") // sha256(token) hex → Session JSON
)

// KeyPrefix starts every API key, so a leaked key is easy to recognise and scan for.
const KeyPrefix = "fgk_"

// SessionTTL is how long a session lasts without use.
const SessionTTL = 12 * time.Hour

// Key is an API key's record (fixgraph.APIKey); User an editor's account (fixgraph.User).
type (
	Key  = fixgraph.APIKey
	User = fixgraph.User
)

// Session is a signed-in user's session. Its token is stored only as a hash; its CSRF token is
// sent with every state-changing request the session makes.
type Session struct {
	User      string    `json:"user"`
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Store keeps keys, accounts and sessions in a bbolt file in the data directory.
type Store struct {
	db  kv.DB
	Now func() time.Time // nil means time.Now
	// SecretKey, 32 bytes, seals the TOTP secrets of accounts with MFA (AES-256-GCM); nil keeps
	// them unsealed in the file, which only its owner may read.
	SecretKey []byte
}

// Open opens or creates the store at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, "auth store", bucketKeys, bucketUsers, bucketSessions,
		bucketMFA, bucketPending, bucketPolicy, bucketLocks)
	if err != nil {
		return nil, err
	}
	return New(db), nil
}

// New returns the store kept in db (a bbolt file, or the shared state on PostgreSQL).
func New(db kv.DB) *Store { return &Store{db: db} }

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the store.
func (s *Store) Backup(w io.Writer) (int64, error) {
	return kv.Backup(s.db, w)
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Empty reports whether the store has neither keys nor users: a first start.
func (s *Store) Empty() (bool, error) {
	empty := true
	err := s.db.View(func(tx kv.Tx) error {
		empty = tx.Bucket(bucketKeys).Len() == 0 && tx.Bucket(bucketUsers).Len() == 0
		return nil
	})
	return empty, err
}

func checkRole(role fixgraph.Role, department string) error {
	if !fixgraph.ValidRole(role) {
		return fixgraph.Errorf(fixgraph.EINVALID, "unknown role %q: %v", role, fixgraph.Roles)
	}
	if role == fixgraph.RoleUploader && department == "" {
		return fixgraph.Errorf(fixgraph.EINVALID, "an uploader needs a department")
	}
	return nil
}

// CreateKey makes a key and returns its secret, which is shown this once and never stored.
// ttl 0 means the key does not expire.
func (s *Store) CreateKey(name string, role fixgraph.Role, department string, ttl time.Duration, by string) (string, *Key, error) {
	if err := checkRole(role, department); err != nil {
		return "", nil, err
	}
	if strings.TrimSpace(name) == "" {
		return "", nil, fixgraph.Errorf(fixgraph.EINVALID, "a key needs a name that says who uses it")
	}
	if ttl < 0 {
		return "", nil, fixgraph.Errorf(fixgraph.EINVALID, "a key cannot expire in the past")
	}
	idBytes := make([]byte, 4)
	rand.Read(idBytes)
	k := &Key{ID: hex.EncodeToString(idBytes), Name: name, Role: role, Department: department, CreatedAt: s.now(), CreatedBy: by}
	if ttl > 0 {
		k.ExpiresAt = k.CreatedAt.Add(ttl)
	}
	secret := KeyPrefix + k.ID + "_" + random(32)
	k.Hash = sha(secret)
	v, _ := json.Marshal(k)
	err := s.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketKeys).Put([]byte(k.ID), v) })
	if err != nil {
		return "", nil, fmt.Errorf("storing key %q: %w", k.ID, err)
	}
	return secret, k, nil
}

// Keys returns every key, revoked and expired ones too, oldest first.
func (s *Store) Keys() ([]*Key, error) {
	var out []*Key
	err := s.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			var k Key
			if err := json.Unmarshal(v, &k); err != nil {
				return err
			}
			out = append(out, &k)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b *Key) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// RevokeKey revokes a key at once; it is kept, marked revoked, for the record.
func (s *Store) RevokeKey(id string) (*Key, error) {
	var k Key
	err := s.db.Update(func(tx kv.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(id))
		if v == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no key %q", id)
		}
		if err := json.Unmarshal(v, &k); err != nil {
			return err
		}
		if k.RevokedAt.IsZero() {
			k.RevokedAt = s.now()
		}
		v, _ = json.Marshal(&k)
		return tx.Bucket(bucketKeys).Put([]byte(id), v)
	})
	return &k, err
}

// errBadKey is what every failed key check says, so the answer tells an attacker nothing.
var errBadKey = fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "the API key is not valid (unknown, revoked or expired)")

// KeyPrincipal returns who the key secret acts for, or EUNAUTHORIZED. The reason (unknown,
// revoked, expired) is in the returned key's fields for the audit log, not in the error.
func (s *Store) KeyPrincipal(secret string) (*fixgraph.Principal, *Key, error) {
	id, _, ok := strings.Cut(strings.TrimPrefix(secret, KeyPrefix), "_")
	if !ok || !strings.HasPrefix(secret, KeyPrefix) {
		return nil, nil, errBadKey
	}
	var k Key
	err := s.db.View(func(tx kv.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(id))
		if v == nil {
			return errBadKey
		}
		return json.Unmarshal(v, &k)
	})
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(sha(secret)), []byte(k.Hash)) != 1 {
		return nil, nil, errBadKey
	}
	now := s.now()
	if !k.RevokedAt.IsZero() || !k.ExpiresAt.IsZero() && now.After(k.ExpiresAt) {
		return nil, &k, errBadKey
	}
	return keyPrincipal(&k), &k, nil
}

// argon2id parameters: OWASP's minimum (19 MiB, two passes, one lane).
const (
	argonMemory = 19 * 1024
	argonTime   = 2
	argonLanes  = 1
	argonLen    = 32
)

func hashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	h := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonLanes, argonLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonLanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h))
}

func checkPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// MinPasswordLen is the shortest password an account may have.
const MinPasswordLen = 10

// ValidPassword returns EINVALID when password is too short for an account.
func ValidPassword(password string) error {
	if len([]rune(password)) < MinPasswordLen {
		return fixgraph.Errorf(fixgraph.EINVALID, "a password needs at least %d characters", MinPasswordLen)
	}
	return nil
}

// CreateUser makes an editor account. The name must be new.
func (s *Store) CreateUser(name, password string, role fixgraph.Role, department string) (*User, error) {
	if err := checkRole(role, department); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t\n/:") {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "a user name must be non-empty, without spaces, slashes or colons")
	}
	if err := ValidPassword(password); err != nil {
		return nil, err
	}
	u := &User{Name: name, Role: role, Department: department, Password: hashPassword(password), CreatedAt: s.now()}
	v, _ := json.Marshal(u)
	err := s.db.Update(func(tx kv.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(name)) != nil {
			return fixgraph.Errorf(fixgraph.ECONFLICT, "user %q exists", name)
		}
		return tx.Bucket(bucketUsers).Put([]byte(name), v)
	})
	return u, err
}

// Users returns the accounts by name, each with whether it has MFA and its lock.
func (s *Store) Users() ([]*User, error) {
	var out []*User
	now := s.now()
	err := s.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			u.Password = ""
			fillSecurity(tx, &u, now)
			out = append(out, &u)
			return nil
		})
	})
	return out, err
}

// SetRole changes a user's role and department; the user's sessions end, so the change takes
// effect at once.
func (s *Store) SetRole(name string, role fixgraph.Role, department string) (*User, error) {
	if err := checkRole(role, department); err != nil {
		return nil, err
	}
	var u User
	err := s.db.Update(func(tx kv.Tx) error {
		v := tx.Bucket(bucketUsers).Get([]byte(name))
		if v == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no user %q", name)
		}
		if err := json.Unmarshal(v, &u); err != nil {
			return err
		}
		u.Role, u.Department = role, department
		v, _ = json.Marshal(&u)
		if err := tx.Bucket(bucketUsers).Put([]byte(name), v); err != nil {
			return err
		}
		return endSessions(tx, name)
	})
	u.Password = ""
	return &u, err
}

func endSessions(tx kv.Tx, user string) error {
	b := tx.Bucket(bucketSessions)
	var drop [][]byte
	b.ForEach(func(k, v []byte) error {
		var s Session
		if json.Unmarshal(v, &s) == nil && s.User == user {
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

// errBadLogin is what every failed sign-in says.
var errBadLogin = fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "wrong user name or password")

// dummyHash is checked against when the user does not exist, so a sign-in takes as long either way.
var dummyHash = hashPassword("fixgraph-no-such-user")

// SignIn checks a password and starts a session. It returns the session token (for a cookie),
// the session's CSRF token, and who it acts for. An account with MFA, or whose role requires it,
// cannot sign in with a password alone: use Password and SecondFactor.
func (s *Store) SignIn(name, password string) (token, csrf string, p *fixgraph.Principal, err error) {
	a, err := s.Password(name, password)
	if err != nil {
		return "", "", nil, err
	}
	if a.Challenge != ChallengeNone {
		s.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketPending).Delete([]byte(sha(a.Pending))) })
		return "", "", nil, fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "this account signs in with a second factor")
	}
	return a.Token, a.CSRF, a.Principal, nil
}

func keyPrincipal(k *Key) *fixgraph.Principal {
	return &fixgraph.Principal{ID: "key:" + k.ID, Name: k.Name, Role: k.Role, Department: k.Department}
}

func userPrincipal(u *User) *fixgraph.Principal {
	return &fixgraph.Principal{ID: "user:" + u.Name, Name: u.Name, Role: u.Role, Department: u.Department}
}

// SessionPrincipal returns who a session token acts for and the session's CSRF token, and
// extends the session. An unknown or expired session is EUNAUTHORIZED.
func (s *Store) SessionPrincipal(token string) (*fixgraph.Principal, string, error) {
	var p *fixgraph.Principal
	var csrf string
	err := s.db.Update(func(tx kv.Tx) error {
		key := []byte(sha(token))
		v := tx.Bucket(bucketSessions).Get(key)
		if v == nil {
			return fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "not signed in (the session is unknown or has ended)")
		}
		var sess Session
		if err := json.Unmarshal(v, &sess); err != nil {
			return err
		}
		now := s.now()
		if now.After(sess.ExpiresAt) {
			tx.Bucket(bucketSessions).Delete(key)
			return fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "the session has expired; sign in again")
		}
		uv := tx.Bucket(bucketUsers).Get([]byte(sess.User))
		var u User
		if uv == nil || json.Unmarshal(uv, &u) != nil || u.Disabled {
			tx.Bucket(bucketSessions).Delete(key)
			return fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "the account is gone or disabled")
		}
		if sess.ExpiresAt.Sub(now) < SessionTTL-time.Minute {
			sess.ExpiresAt = now.Add(SessionTTL)
			nv, _ := json.Marshal(&sess)
			if err := tx.Bucket(bucketSessions).Put(key, nv); err != nil {
				return err
			}
		}
		p, csrf = userPrincipal(&u), sess.CSRF
		return nil
	})
	return p, csrf, err
}

// SignOut ends a session.
func (s *Store) SignOut(token string) error {
	return s.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketSessions).Delete([]byte(sha(token))) })
}
