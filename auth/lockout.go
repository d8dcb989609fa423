package auth

import (
	"encoding/json"
	"time"

	"github.com/fixgraph/fixgraph/kv"

	"github.com/fixgraph/fixgraph"
)

// An account is locked after LockAfter failed sign-in steps in a row (wrong passwords and wrong
// codes alike), for LockBase the first time and twice as long each time after (1, 2, 4 … minutes),
// never longer than LockMax. Attempts while it is locked are refused without looking at the
// password or code and do not count, so no one can push a lock past LockMax from its last
// counted failure. A sign-in that succeeds, an admin's Unlock, or a day without failures starts
// the back-off over.
//
// The per-address and per-account rate limits of AllowSignIn apply before this: they slow a
// guesser down; the lockout stops one that goes on.
const (
	LockAfter  = 5
	LockBase   = time.Minute
	LockMax    = time.Hour
	lockForget = 24 * time.Hour
)

var bucketLocks = []byte("locks") // user name → lockState JSON

// lockState is an account's record of failed sign-ins.
type lockState struct {
	Failures int       `json:"failures"`       // failures in a row since the last lock or success
	Level    int       `json:"level"`          // locks since the last success: the next lasts LockBase<<Level
	Until    time.Time `json:"until,omitzero"` // locked until then
	Last     time.Time `json:"last,omitzero"`  // the last failure
}

func getLock(tx kv.Tx, name string) lockState {
	var st lockState
	if v := tx.Bucket(bucketLocks).Get([]byte(name)); v != nil {
		json.Unmarshal(v, &st)
	}
	return st
}

// lockDuration is how long the lock of level lasts.
func lockDuration(level int) time.Duration {
	if level >= 30 {
		return LockMax
	}
	return min(LockBase<<level, LockMax)
}

// lockedUntil returns when name's lock ends, or the zero time when it is not locked at now.
func lockedUntil(tx kv.Tx, name string, now time.Time) time.Time {
	st := getLock(tx, name)
	if now.Before(st.Until) {
		return st.Until
	}
	return time.Time{}
}

// failed counts a failed sign-in step of name and locks the account when it is the LockAfter-th
// in a row; a lock ends the account's half-done sign-ins. It fills a's failure fields.
func failed(tx kv.Tx, name string, now time.Time, a *Attempt) error {
	st := getLock(tx, name)
	if !st.Last.IsZero() && now.Sub(st.Last) > lockForget {
		st = lockState{}
	}
	st.Failures++
	st.Last = now
	a.Failures = st.Failures
	if st.Failures >= LockAfter {
		st.Until = now.Add(lockDuration(st.Level))
		st.Level++
		st.Failures = 0
		a.Locked, a.LockedUntil = true, st.Until
		if err := endPending(tx, name); err != nil {
			return err
		}
	}
	v, _ := json.Marshal(&st)
	return tx.Bucket(bucketLocks).Put([]byte(name), v)
}

// succeeded forgets name's failures: a sign-in went through.
func succeeded(tx kv.Tx, name string) error {
	return tx.Bucket(bucketLocks).Delete([]byte(name))
}

// errLocked is what a sign-in to a locked account is told. It says the account is locked, which
// tells that it exists; a made-up name is held back by AllowSignIn's per-account limit instead.
// The failure that locks it is told it failed, like any other.
func errLocked(until time.Time) error { return LockedError(until) }

// LockedError returns the error that says an account is locked until then.
func LockedError(until time.Time) error {
	return fixgraph.Errorf(fixgraph.ERATELIMITED, "the account is locked after %d failed sign-ins until %s UTC; try again then, or ask an admin to unlock it",
		LockAfter, until.UTC().Format("15:04:05"))
}

// Unlock ends the lock of the account name and forgets its failures and back-off.
func (s *Store) Unlock(name string) error {
	return s.db.Update(func(tx kv.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(name)) == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no user %q", name)
		}
		return tx.Bucket(bucketLocks).Delete([]byte(name))
	})
}
