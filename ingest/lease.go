package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/kv"
)

// Replicas that share the job state (Jobs.Replica set) run each job under a lease: the replica
// that claims a job renews its lease while it works, a third of the lease at a time; one that
// stops renewing (killed, cut off from the state) loses the job to the next replica that finds
// it, which resumes it, skipping the files whose outcome is recorded. Claims, renewals and
// cancellations are transactions of the state store, which serialises them across replicas, so
// a live lease has one holder. A file that was being ingested when its replica died is ingested
// again by the next one; ingest is idempotent (the same bytes make the same document, counted
// as unchanged), so every document is stored once.

// DefaultJobLease is how long a job's lease lasts without renewal unless told otherwise.
const DefaultJobLease = 30 * time.Second

var (
	bucketLeases  = []byte("jobleases")  // job id → lease JSON, while a replica runs it
	bucketPending = []byte("jobpending") // job id → department, for every job not finished
)

// lease is a replica's hold on a running job.
type lease struct {
	Owner  string    `json:"owner"`
	Until  time.Time `json:"until"`
	Cancel bool      `json:"cancel,omitempty"` // another replica asked the holder to cancel the job
}

func (l *lease) live(now time.Time) bool { return l != nil && l.Owner != "" && now.Before(l.Until) }

// errLeased is a claim on a job another replica holds.
var errLeased = errors.New("the job runs on another replica")

// errLeaseLost is the cause of a job's context when its lease passed to another replica.
var errLeaseLost = errors.New("the job's lease passed to another replica")

func (js *Jobs) shared() bool { return js.Replica != "" }

func (js *Jobs) leaseTime() time.Duration {
	if js.Lease > 0 {
		return js.Lease
	}
	return DefaultJobLease
}

func getLease(b kv.Bucket, id string) (*lease, error) {
	v := b.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	l := new(lease)
	return l, json.Unmarshal(v, l)
}

func putLease(b kv.Bucket, id string, l *lease) error {
	v, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), v)
}

// claim takes the lease of job id for this replica unless another holds a live one, and returns
// the job as stored. A finished job is returned unclaimed.
func (js *Jobs) claim(id string) (*fixgraph.Job, error) {
	var j *fixgraph.Job
	err := js.State.db.Update(func(tx kv.Tx) error {
		var err error
		if j, err = getJob(tx.Bucket(bucketJobs), id); err != nil || j.Finished() {
			return err
		}
		leases := tx.Bucket(bucketLeases)
		l, err := getLease(leases, id)
		if err != nil {
			return err
		}
		now := time.Now()
		if l.live(now) && l.Owner != js.Replica {
			return errLeased
		}
		return putLease(leases, id, &lease{Owner: js.Replica, Until: now.Add(js.leaseTime())})
	})
	return j, err
}

// renew extends this replica's lease on job id until ctx ends, every third of the lease. It stops
// the job (cancel) when the lease went to another replica, or when another replica asked for it
// to be cancelled.
func (js *Jobs) renew(ctx context.Context, id string, cancel context.CancelCauseFunc) {
	every := js.leaseTime() / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var cause error
		err := js.State.db.Update(func(tx kv.Tx) error {
			b := tx.Bucket(bucketLeases)
			l, err := getLease(b, id)
			if err != nil {
				return err
			}
			switch {
			case l == nil || l.Owner != js.Replica:
				cause = errLeaseLost
				return nil
			case l.Cancel:
				cause = errCancelled
			}
			l.Until = time.Now().Add(js.leaseTime())
			return putLease(b, id, l)
		})
		if err != nil {
			// The state is unreachable: keep working; if it stays so past the lease, another
			// replica takes the job over and this one finds out at its next renewal.
			js.Log.Warn("renewing a job's lease", "job", id, "err", err)
			continue
		}
		if cause != nil {
			cancel(cause)
			return
		}
	}
}

// release gives up this replica's lease on job id.
func (js *Jobs) release(id string) {
	err := js.State.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketLeases)
		l, err := getLease(b, id)
		if err != nil || l == nil || l.Owner != js.Replica {
			return err
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		js.Log.Warn("releasing a job's lease", "job", id, "err", err)
	}
}

// cancelShared cancels job id in the shared state: a job another replica runs is asked to stop
// (its holder sees the request at its next renewal and ends the job cancelled); one nobody runs
// is marked cancelled at once, in the same transaction, so no replica can claim it meanwhile.
// It returns whether the job now waits for its holder.
func (js *Jobs) cancelShared(id string) (j *fixgraph.Job, asked bool, err error) {
	err = js.State.db.Update(func(tx kv.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		if j, err = getJob(jobs, id); err != nil || j.Finished() {
			return err
		}
		leases := tx.Bucket(bucketLeases)
		l, err := getLease(leases, id)
		if err != nil {
			return err
		}
		if l.live(time.Now()) {
			asked = true
			l.Cancel = true
			return putLease(leases, id, l)
		}
		j.State, j.FinishedAt = fixgraph.JobCancelled, time.Now().UTC()
		return writeJob(tx, j)
	})
	return j, asked, err
}

// poll finds, now and every interval until ctx ends, the unfinished jobs of the shared state
// that no replica holds (new ones submitted to another replica, or ones whose holder died) and
// queues them here; claiming decides which replica runs each.
func (js *Jobs) poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		js.pollOnce()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (js *Jobs) pollOnce() {
	var free []*fixgraph.Job
	err := js.State.db.View(func(tx kv.Tx) error {
		jobs, leases := tx.Bucket(bucketJobs), tx.Bucket(bucketLeases)
		now := time.Now()
		return tx.Bucket(bucketPending).ForEach(func(k, _ []byte) error {
			l, err := getLease(leases, string(k))
			if err != nil || l.live(now) {
				return err
			}
			v := jobs.Get(k)
			if v == nil {
				return nil
			}
			j := new(fixgraph.Job)
			if err := json.Unmarshal(v, j); err != nil {
				return err
			}
			if !j.Finished() {
				free = append(free, j)
			}
			return nil
		})
	})
	if err != nil {
		js.Log.Warn("looking for jobs to run", "err", err)
		return
	}
	js.mu.Lock()
	for _, j := range free {
		js.enqueue(j)
	}
	js.mu.Unlock()
}

// cancelElsewhere is Cancel of a job this replica does not run, with shared state: it waits
// (until ctx ends) for the replica that runs the job to stop it.
func (js *Jobs) cancelElsewhere(ctx context.Context, id string) (*fixgraph.Job, error) {
	j, asked, err := js.cancelShared(id)
	if err != nil {
		return nil, err
	}
	if !asked {
		if j.State != fixgraph.JobCancelled {
			return nil, fixgraph.Errorf(fixgraph.ECONFLICT, "job %q is %s already; only a queued or running job can be cancelled", id, j.State)
		}
		js.mu.Lock()
		js.dequeue(id, j.Department)
		js.notifyLocked()
		js.mu.Unlock()
		if j.Kind == fixgraph.JobUpload {
			js.removeSpooled(id)
		}
		return j, nil
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		if j, err = js.Get(ctx, id); err != nil || j.Finished() {
			if err == nil && j.State != fixgraph.JobCancelled {
				return nil, fixgraph.Errorf(fixgraph.ECONFLICT, "job %q is %s already; only a queued or running job can be cancelled", id, j.State)
			}
			return j, err
		}
	}
}
