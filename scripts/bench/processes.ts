// Child processes and clean-up for the benchmark driver: everything started is registered once and
// stopped newest first on a normal end, on an error and on Ctrl-C; a child's CPU and memory are
// read from /proc so each proxy is measured in its own process.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

type Closer = { name: string; close: () => Promise<unknown> | unknown };

export class Cleanup {
  private readonly closers: Closer[] = [];
  private running: Promise<void> | null = null;
  /** Set on Ctrl-C/SIGTERM: failures of work cut short by the clean-up are not errors then. */
  interrupted = false;

  add(name: string, close: Closer['close']): void {
    this.closers.push({ name, close });
  }

  /** Stops everything once; later calls wait for the first. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { name, close } of this.closers.splice(0).reverse()) {
        try {
          await close();
        } catch (err) {
          process.stderr.write(`clean-up of ${name} failed: ${(err as Error).message}\n`);
        }
      }
    })();
    return this.running;
  }

  /** Ctrl-C, SIGTERM and a crash all end in run(). */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.interrupted = true;
      process.stderr.write(`\n${signal}: cleaning up...\n`);
      void this.run().finally(() => process.exit(130));
      process.once(signal, () => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Lines printed on stdout, parsed as JSON when they are JSON. */
  nextMessage(pred: (msg: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  send(line: string): void;
  stderrTail(): string;
  stop(): Promise<void>;
}

/** Spawns a child with a piped stdin (its end tells a Node child the driver is gone). */
export function startChild(name: string, cmd: string, args: string[], opts: SpawnOptions, cleanup: Cleanup): Child {
  const proc = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
  if (!proc.pid) throw new Error(`cannot start ${name} (${cmd})`);
  const waiting: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const i = waiting.findIndex((w) => w.pred(msg));
    if (i >= 0) waiting.splice(i, 1)[0].resolve(msg);
  });
  proc.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  };
  cleanup.add(name, stop);
  return {
    proc,
    pid: proc.pid,
    nextMessage(pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no expected message after ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
        const onExit = () => reject(new Error(`${name} exited (code ${proc.exitCode}, signal ${proc.signalCode}); stderr:\n${stderr}`));
        proc.once('exit', onExit);
        waiting.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            proc.off('exit', onExit);
            resolve(m);
          },
        });
      });
    },
    send(line) {
      proc.stdin!.write(`${line}\n`);
    },
    stderrTail: () => stderr,
    stop,
  };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** User + system CPU seconds of a process so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MB (VmRSS). */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Whole-machine busy CPU seconds (all cores), to show how saturated the box was. */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

/** Runs a benchmark's main: exit 0 when done, 130 when interrupted, 1 (with the stack) when it failed; cleaned up either way. */
export function runBenchmark(name: string, main: () => Promise<void>, cleanup: Cleanup): void {
  main().then(
    () => process.exit(0),
    async (err) => {
      if (cleanup.interrupted) {
        await cleanup.run();
        process.exit(130);
      }
      process.stderr.write(`${name} failed: ${(err as Error)?.stack ?? err}\n`);
      await cleanup.run();
      process.exit(1);
    },
  );
}
