package dev.sonde.analyzer.linux;

import java.util.List;
import java.util.Optional;

/**
 * One thread group (process or kernel thread) read from the task list. Values that could not be read are empty;
 * {@link #completeness()} says why.
 *
 * @param task         address of the group leader's {@code task_struct}
 * @param comm         {@code task_struct.comm} (at most 15 characters)
 * @param state        the /proc state letter ({@code R S D T t X Z P I})
 * @param kernelThread {@code PF_KTHREAD} is set
 * @param flags        {@code task_struct.flags}
 * @param startTimeNs  {@code start_boottime}, nanoseconds since boot (suspend included)
 * @param startTicks   the same in clock ticks of 1/100 s, as field 22 of /proc/PID/stat
 * @param cmdline      the argument vector read from the process' own memory, as /proc/PID/cmdline gives it
 * @param environ      the environment read from the process' memory
 * @param exe          path of {@code mm->exe_file}
 * @param threads      thread IDs of the group
 */
public record ProcessInfo(long task, int pid, int tgid, int ppid, String comm, String state, boolean kernelThread,
                          long flags, Optional<Integer> uid, Optional<Integer> euid, Optional<Integer> gid,
                          Optional<Integer> egid, long startTimeNs, long startTicks, Optional<List<String>> cmdline,
                          Optional<List<String>> environ, Optional<String> exe, List<Integer> threads,
                          List<Mapping> maps, List<OpenFile> files, Completeness completeness) {

    /** The script, module or archive this process interprets, when it is a known interpreter running one. */
    public Optional<InterpreterContext> interpreter() {
        return InterpreterContext.of(this);
    }
}
