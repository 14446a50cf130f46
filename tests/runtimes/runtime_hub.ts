/**
 * A hub in a child process of one runtime (Deno, Node or Bun), driven over JSON lines
 * (tests/node/fixtures/runtime_hub.mjs). The shared hub test bodies (hub.ts) run once per runtime against it.
 *
 * The Deno hub runs the repository's source (the fixture imports `@alkdev/pubsub` by the name deno.json gives it), so
 * it needs nothing but this checkout. The Node and Bun hubs run the npm package: they need env PUBSUB_SCRATCH, a
 * scratch npm project with the package installed and tests/node/ copied in (set by scripts/test_bun.ts); BUN and NODE
 * name the binaries (default: on PATH).
 */

/** A server runtime the hub runs on. */
export type Runtime = "deno" | "node" | "bun";

/** The scratch project, or undefined when the tests were started without one (the Node and Bun hubs' tests are then ignored). */
export const SCRATCH: string | undefined = Deno.env.get("PUBSUB_SCRATCH");

/** This checkout: where the Deno hub runs from source. */
const REPO = new URL("../..", import.meta.url).pathname;

/** A hub profile: see tests/node/fixtures/runtime_hub.mjs. */
export interface HubProfile {
  authenticate?: "token" | "browser" | "any";
  authorize?: "own" | "all";
  /** Milliseconds before `authorize` answers (asynchronously); synchronous without. */
  authorizeDelay?: number;
  authorizeTimeout?: number;
  publishAuthorization?: { cache: boolean };
  upstream?: string;
  /** The upstream in Redis streams mode, and the hub with a history. */
  streams?: boolean;
  maxSubscriptionsPerConnection?: number;
  maxTopicLength?: number;
  maxMessageBytes?: number;
  inboundLimits?: Record<string, number> | false;
  heartbeat?: { interval: number; timeout: number } | false;
  highWaterMark?: number;
  backpressure?: "close" | "drop";
}

/** One line the hub printed about itself. */
export interface HubEvent {
  event: "connect" | "disconnect" | "error" | "local" | "authorize";
  [key: string]: unknown;
}

/** A running hub process. */
export interface RuntimeHub {
  runtime: Runtime;
  url: string;
  port: number;
  pid: number;
  /** Every event line so far, in order. */
  events: HubEvent[];
  /** Resolves with the first event from index `from` on that matches, failing after `ms`. */
  nextEvent(match: (event: HubEvent) => boolean, from?: number, ms?: number): Promise<HubEvent>;
  /** Sends a command and resolves with its answer. */
  command(cmd: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The hub's `stats()` and its process's RSS. */
  stats(): Promise<{ stats: Record<string, number>; rss: number }>;
  /** Closes the hub and waits for the process to exit (kills it after 10 s). */
  close(): Promise<void>;
  /** Kills the process with `signal` and waits for it to exit. */
  kill(signal: Deno.Signal): Promise<void>;
}

/** The command line that runs `script` under `runtime`. */
export function runtimeCommand(runtime: Runtime, script: string): [string, string[]] {
  if (runtime === "deno") {
    return [Deno.execPath(), ["run", "--allow-net=127.0.0.1", "--allow-read=.", "--allow-env", script]];
  }
  if (runtime === "node") return [Deno.env.get("NODE") ?? "node", [script]];
  return [Deno.env.get("BUN") ?? "bun", [script]];
}

/** Starts a hub on `runtime` with `profile`, on 127.0.0.1 and a free port. */
export async function startRuntimeHub(runtime: Runtime, profile: HubProfile = {}): Promise<RuntimeHub> {
  const cwd = runtime === "deno" ? REPO : SCRATCH;
  if (cwd === undefined) throw new Error("PUBSUB_SCRATCH is not set");
  const [cmd, args] = runtimeCommand(runtime, "tests/node/fixtures/runtime_hub.mjs");
  const child = new Deno.Command(cmd, {
    args: [...args, JSON.stringify(profile)],
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const events: HubEvent[] = [];
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let first: ((line: Record<string, unknown>) => void) | undefined;
  const started = new Promise<Record<string, unknown>>((resolve) => (first = resolve));
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (first !== undefined) {
          first(line);
          first = undefined;
        } else if (typeof line.re === "number") {
          waiting.get(line.re)?.(line);
          waiting.delete(line.re);
        } else events.push(line as HubEvent);
      }
    }
  })();
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const hello = await Promise.race([
    started,
    child.status.then(async () => {
      throw new Error(`The ${runtime} hub exited before listening: ${await stderr}`);
    }),
  ]);
  clearTimeout(deadline);
  let next = 0;
  const command = async (cmd: string, args: Record<string, unknown> = {}) => {
    const re = ++next;
    const answer = new Promise<Record<string, unknown>>((resolve) => waiting.set(re, resolve));
    await writer.write(new TextEncoder().encode(JSON.stringify({ re, cmd, ...args }) + "\n"));
    const result = await answer;
    if (typeof result.error === "string") throw new Error(`${runtime} hub: ${result.error}`);
    return result;
  };
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      try {
        await Promise.race([command("close"), child.status]);
      } catch {
        // Exited meanwhile.
      }
      await writer.close().catch(() => {});
      await child.status;
      clearTimeout(kill);
      await reading.catch(() => {});
      await stderr;
    })();
    return closing;
  };
  return {
    runtime,
    url: `ws://127.0.0.1:${hello.port}`,
    port: hello.port as number,
    pid: hello.pid as number,
    events,
    command,
    async nextEvent(match, from = 0, ms = 30_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = events.slice(from).find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`${runtime} hub: no matching event within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async stats() {
      const answer = await command("stats");
      return { stats: answer.stats as Record<string, number>, rss: answer.rss as number };
    },
    close,
    kill(signal) {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
      return close();
    },
  };
}

/** A unique suffix for names on the shared Redis. */
export function unique(): string {
  return crypto.randomUUID().slice(0, 8);
}
