/** A test fixture in its own process (Deno, Bun, …), talking JSON lines over stdin and stdout. */

/** A child process that prints one JSON object a line. */
export class Child {
  readonly process: Deno.ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  #waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] =
    [];
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly done: Promise<void>;
  stderr = "";

  /** Runs `command` with `args`, with `env` added to this process's environment (and `NO_COLOR`). */
  constructor(command: string, args: string[], env: Record<string, string> = {}) {
    this.process = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env },
    }).spawn();
    this.#stdin = this.process.stdin.getWriter();
    this.done = Promise.all([this.#read(), this.#drainStderr()]).then(() => {});
  }

  async #read(): Promise<void> {
    let pending = "";
    for await (const chunk of this.process.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = JSON.parse(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => !(w.match(line) && (w.resolve(line), true)));
      }
    }
  }

  async #drainStderr(): Promise<void> {
    // Drained so a logging child never blocks on a full pipe; the tail is kept for failure messages.
    for await (const chunk of this.process.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderr = (this.stderr + chunk).slice(-4000);
    }
  }

  /** The first line (already printed or to come) that matches, failing after `ms`. */
  next(match: (line: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>> {
    const found = this.lines.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No ${what} within ${ms} ms; stderr: ${this.stderr}`)), ms);
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  async send(command: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(command + "\n"));
  }

  /** Sends `stop` (the fixtures' command to shut down and exit) and waits for the process and its output to end. */
  async stop(): Promise<void> {
    await this.send("stop").catch(() => {});
    await this.process.status;
    await this.done;
  }

  async kill(): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#stdin.close().catch(() => {});
    await this.process.status;
    await this.done;
  }
}

/** A Deno process running `script` with `permissions` and `args`. */
export function denoChild(script: URL, args: string[], permissions: string[]): Child {
  return new Child(Deno.execPath(), ["run", ...permissions, script.pathname, ...args]);
}
