package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fixgraph/fixgraph/kv"
)

// Replicas are the fixgraph processes sharing the state. Each one records itself every
// heartbeat with the time until which it counts as live; Live is how many there are, for what a
// replica must share with the others: a per-key rate limit of R requests per second is enforced
// as R/Live on each replica, since a load balancer spreads a client's requests over all of them,
// without a round trip to the database for every request.

var bucketReplicas = []byte("replicas")

type member struct {
	Until   time.Time `json:"until"`
	Started time.Time `json:"started"`
}

// Heartbeat records this replica as live now and every interval until ctx ends, counting the
// live replicas each time; a replica that misses three heartbeats no longer counts. It removes
// the record when ctx ends.
func (d *DB) Heartbeat(ctx context.Context, every time.Duration) {
	store := d.KV("replicas")
	started := time.Now().UTC()
	beat := func() {
		now := time.Now().UTC()
		n := 0
		err := store.Update(func(tx kv.Tx) error {
			b := tx.Bucket(bucketReplicas)
			v, _ := json.Marshal(member{Until: now.Add(3 * every), Started: started})
			if err := b.Put([]byte(d.Replica), v); err != nil {
				return err
			}
			var dead [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var m member
				if json.Unmarshal(v, &m) == nil && now.Before(m.Until) {
					n++
				} else {
					dead = append(dead, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range dead {
				if err == nil {
					err = b.Delete(k)
				}
			}
			return err
		})
		if err == nil {
			d.live.Store(int64(max(1, n)))
		}
	}
	beat()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			store.Update(func(tx kv.Tx) error { return tx.Bucket(bucketReplicas).Delete([]byte(d.Replica)) })
			return
		case <-t.C:
			beat()
		}
	}
}

// Live returns how many replicas were live at the last heartbeat (1 before the first).
func (d *DB) Live() int {
	return int(max(1, d.live.Load()))
}
