/**
 * What Linux says about a process: CPU time and resident memory from
 * `/proc`, and CPU pinning with `taskset`.
 *
 * @module
 */

// Deno asks for --allow-all to read /proc directly, so it is read by `cat`:
// the benchmark samples it a few times a round, where a process start is cheap.
async function readProc(path: string): Promise<string> {
  const { success, stdout } = await new Deno.Command("cat", { args: [path] }).output();
  if (!success) throw new Error(`cannot read ${path}`);
  return new TextDecoder().decode(stdout);
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second, the unit of `/proc/PID/stat` times. */
async function ticksPerSecond(): Promise<number> {
  if (clockTicks === undefined) {
    try {
      const { stdout } = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
      clockTicks = Number(new TextDecoder().decode(stdout).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds (user + system, every thread) a process has used so far.
 *
 * @param pid The process; this one by default.
 */
export async function cpuSeconds(pid: number = Deno.pid): Promise<number> {
  const stat = await readProc(`/proc/${pid}/stat`);
  // The command name may hold spaces and parentheses; fields follow the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / await ticksPerSecond();
}

/** A process's resident set size (`VmRSS`), in bytes. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readProc(`/proc/${pid}/status`);
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib) * 1024;
}

/** Where `taskset` lives, when it does. */
export const TASKSET = "/usr/bin/taskset";

/** Whether CPU pinning is possible here (`taskset` and at least two CPUs). */
export async function canPin(): Promise<boolean> {
  try {
    await Deno.stat(TASKSET);
  } catch {
    return false;
  }
  return navigator.hardwareConcurrency >= 2;
}

/** `argv`, run on `cpu` alone when pinning is possible. */
export function pinnedArgv(cpu: number | undefined, argv: readonly string[]): string[] {
  return cpu === undefined ? [...argv] : [TASKSET, "-c", String(cpu), ...argv];
}

/** Pins every thread of this process (and those it starts later) to `cpu`. */
export async function pinSelf(cpu: number): Promise<void> {
  const { success } = await new Deno.Command(TASKSET, {
    args: ["-a", "-p", "-c", String(cpu), String(Deno.pid)],
    stdout: "null",
  }).output();
  if (!success) throw new Error(`taskset could not pin process ${Deno.pid} to CPU ${cpu}`);
}

/** The machine's one-minute load average, from `/proc/loadavg`. */
export async function loadAverage(): Promise<number> {
  return Number((await readProc("/proc/loadavg")).split(" ")[0]);
}
