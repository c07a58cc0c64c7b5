package loadtest

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// batchScheduling puts every thread of this process in the SCHED_BATCH policy
// (sched(7)), so that the generator's threads never preempt the server when they
// wake up.
//
// On a box that the two share, every datagram the server sends wakes a reader of
// the generator, and the kernel prefers to run a woken thread on its waker's core,
// at once: it switched the server out in the middle of its sendmmsg about 7,000
// times a second at 500 listeners, and back in when the reader was done. A server
// whose listeners are on other machines never pays those switches; here they cost
// it about a seventh of its CPU per packet and the generator a third of its own
// (docs/benchmarks.md). A batch thread gets the same share of the CPU as before;
// it waits for an idle core or the next tick instead of preempting. No privilege
// is needed, and the nice value is kept.
//
// Threads the runtime starts later inherit the policy of the thread that starts
// them; Run calls this again before the measured window. It returns how many
// threads it set.
func batchScheduling() (int, error) { return setPolicy(unix.SCHED_BATCH) }

// setPolicy gives every thread of this process policy (a normal one:
// SCHED_NORMAL, SCHED_BATCH or SCHED_IDLE), keeping each thread's nice value.
func setPolicy(policy uint32) (int, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, err
	}
	set := 0
	var errs []error
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // the thread ended meanwhile
		}
		attr.Policy = policy
		attr.Flags = 0
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil {
			if !errors.Is(err, unix.ESRCH) {
				errs = append(errs, err)
			}
			continue
		}
		set++
	}
	return set, errors.Join(errs...)
}
