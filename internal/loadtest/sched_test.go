package loadtest

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// policies returns the scheduling policy of every thread of this process.
func policies(t *testing.T) map[int]uint32 {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]uint32{}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if attr, err := unix.SchedGetAttr(tid, 0); err == nil {
			out[tid] = attr.Policy
		}
	}
	return out
}

func TestBatchScheduling(t *testing.T) {
	t.Cleanup(func() {
		if _, err := setPolicy(unix.SCHED_NORMAL); err != nil {
			t.Errorf("back to SCHED_NORMAL: %v", err)
		}
	})
	before, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := batchScheduling()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("every thread of the process is a batch thread", func(t *testing.T) {
		got := policies(t)
		if n < len(got)-2 { // threads may start or end meanwhile
			t.Errorf("set %d threads of %d", n, len(got))
		}
		for tid, p := range got {
			if p != unix.SCHED_BATCH {
				// A thread started after the call inherits its starter's policy;
				// only one that ran before and was missed would be wrong.
				t.Errorf("thread %d has policy %d, want SCHED_BATCH (%d)", tid, p, unix.SCHED_BATCH)
			}
		}
	})
	t.Run("the nice value is kept", func(t *testing.T) {
		after, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
		if err != nil || after != before {
			t.Fatalf("priority %d (%v), was %d", after, err, before)
		}
	})
}
