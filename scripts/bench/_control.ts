/**
 * A JSON-lines control channel between a benchmark and the helper processes
 * it starts (hub_server.ts, hub_clients.ts): the parent writes
 * `{"id", "cmd", ...}` lines to the child's stdin, the child answers
 * `{"id", "result"}` or `{"id", "error"}` on its stdout. Not part of the package.
 */

import process from "node:process";
import { createInterface } from "node:readline";

/** Latency histograms of the clients: BUCKETS buckets BUCKET_MS wide, then one open-ended bucket. */
export const BUCKET_MS = 0.5;
/** See BUCKET_MS. */
export const BUCKETS = 4000;

/** One command sent to a child. */
export interface Command {
  cmd: string;
  [key: string]: unknown;
}

type Handler = (command: Command) => unknown | Promise<unknown>;

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let newline: number;
    while ((newline = rest.indexOf("\n")) !== -1) {
      const line = rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      if (line.trim() !== "") yield line;
    }
  }
}

/**
 * Child side: answers commands from stdin with `handler` until stdin closes
 * (the parent is gone or done); then exits. Written on `node:process` and
 * `node:readline`, so the same child runs under Deno and Bun.
 */
export async function serveCommands(handler: Handler): Promise<never> {
  const write = (message: unknown) => process.stdout.write(JSON.stringify(message) + "\n");
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === "") continue;
    const { id, ...command } = JSON.parse(line) as Command & { id: number };
    Promise.resolve()
      .then(() => handler(command as Command))
      .then(
        (result) => write({ id, result: result ?? null }),
        (error) => write({ id, error: String(error?.stack ?? error) }),
      );
  }
  process.exit(0);
}

/** Parent side: one helper process. */
export class Child {
  readonly name: string;
  readonly pid: number;
  #process: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #next = 1;
  #waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #ended: Promise<void>;

  /**
   * Starts `deno run <permissions> <file> <args>`, or with `runner` another
   * runtime's command line (`runner.args` replaces everything after the command).
   */
  constructor(
    name: string,
    file: string,
    permissions: string[],
    args: string[] = [],
    runner?: { command: string; args: string[]; cwd?: string },
  ) {
    this.name = name;
    const process = this.#process = new Deno.Command(runner?.command ?? Deno.execPath(), {
      args: runner?.args ?? ["run", ...permissions, new URL(file, import.meta.url).pathname, ...args],
      cwd: runner?.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.pid = this.#process.pid;
    this.#writer = this.#process.stdin.getWriter();
    this.#ended = (async () => {
      for await (const line of lines(process.stdout)) {
        if (!line.startsWith('{"id":')) {
          console.error(`[${name}] ${line}`); // not an answer: V8 traces, say
          continue;
        }
        const { id, result, error } = JSON.parse(line);
        const waiter = this.#waiting.get(id);
        this.#waiting.delete(id);
        if (error !== undefined) waiter?.reject(new Error(`${name}: ${error}`));
        else waiter?.resolve(result);
      }
      for (const waiter of this.#waiting.values()) waiter.reject(new Error(`${name} exited`));
      this.#waiting.clear();
    })();
  }

  /** Sends a command and waits for its answer (at most `timeoutMs`). */
  async call<T = unknown>(command: Command, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await this.#writer.write(new TextEncoder().encode(JSON.stringify({ id, ...command }) + "\n"));
      return await answer;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes its stdin (it exits), and kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // Already closed.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.#process.status.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!exited) {
      try {
        this.#process.kill("SIGKILL");
      } catch {
        // Gone meanwhile.
      }
      await this.#process.status;
    }
    await this.#ended;
  }
}

/**
 * Reads a file under /proc/<pid>/ through `cat`: Deno asks for --allow-all to
 * read /proc itself, so the bench gets --allow-run=cat instead.
 */
async function readProc(pid: number, file: string): Promise<string> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/${file}`], stderr: "null" }).output();
  return new TextDecoder().decode(stdout);
}

/** CPU time of a process in ms, user and system, from /proc/<pid>/stat. */
export async function cpuMs(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readProc(pid, "stat");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime (fields 14 and 15 of stat(5)), in ticks of 10 ms (USER_HZ is 100 on Linux).
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/** Resident set size of a process in KiB, from /proc/<pid>/status. */
export async function rssKiB(pid: number): Promise<number> {
  const match = /VmRSS:\s+(\d+) kB/.exec(await readProc(pid, "status"));
  if (match === null) throw new Error(`No VmRSS for ${pid}`);
  return Number(match[1]);
}
