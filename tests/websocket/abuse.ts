/**
 * The attacks of issue 15, each on a real hub in its own process (fixtures/abuse_hub.ts) with two legitimate spokes
 * carrying sequence-numbered events at 100/s each way, and an attacker in a third process (fixtures/attacker.ts).
 * Each asserts: the hub survives, the legitimate spokes lose nothing and are never disconnected, the hub's RSS (its
 * own `process.memoryUsage().rss`, sampled every 10 ms) rises by at most 64 MiB at peak, and the attacker is closed
 * with the documented code. The same bodies run against the Deno hub (abuse_test.ts) and the Bun hub
 * (tests/runtimes/abuse_test.ts).
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSub } from "../../mod.ts";
import { CloseCode, connectWebSocketEventTarget, type WebSocketSpoke } from "../../adapters/websocket/mod.ts";

/** The hub runtimes the abuse hub runs on. */
export type AbuseRuntime = "deno" | "bun";

type Events = { down: { seq: number }; up: { from: string; seq: number }; bulk: string };

const MiB = 1024 * 1024;
const fixtures = new URL("./fixtures/", import.meta.url);

/** A child process that prints one JSON object a line. */
class Child {
  readonly process: Deno.ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  #waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] =
    [];
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly done: Promise<void>;
  stderr = "";

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

/** A legitimate spoke: publishes `up` events at 100/s and checks the hub's `down` events arrive with no gap. */
class Legit {
  readonly spoke: WebSocketSpoke;
  readonly pubsub: PubSub<Events>;
  readonly disconnects: unknown[] = [];
  sent = 0;
  received = 0;
  gaps = 0;
  #last = -1;
  #timer: ReturnType<typeof setInterval> | undefined;
  #reader: Promise<void>;

  constructor(readonly name: string, port: number) {
    this.spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${port}/legit`, {
      credentials: "secret",
      onError: () => {},
    });
    this.spoke.addEventListener("disconnect", (event) => this.disconnects.push((event as CustomEvent).detail));
    this.pubsub = createPubSub<Events>({ eventTarget: this.spoke });
    const down = this.pubsub.subscribe("down", "1", { bufferSize: 1_000_000 });
    this.#reader = (async () => {
      for await (const { seq } of down) {
        if (this.#last !== -1 && seq !== this.#last + 1) this.gaps++;
        this.#last = seq;
        this.received++;
      }
    })();
  }

  async start(): Promise<void> {
    await this.pubsub.ready("down", "1");
    this.#timer = setInterval(() => {
      for (let i = 0; i < 5; i++) this.pubsub.publish("up", "1", { from: this.name, seq: this.sent++ });
    }, 50);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async close(): Promise<void> {
    this.stop();
    this.pubsub.close();
    this.spoke.close();
    await this.spoke.closed;
    await this.#reader;
  }
}

interface Attack {
  mode: string;
  count?: number;
  hubArgs?: string[];
  /** The close code the hub must close the attacker with. */
  code: number;
  /** How many attacker connections must be closed with it. */
  closes?: number;
  /** Milliseconds the attack runs after the attacker is closed. */
  after?: number;
}

/** A Deno process running a fixture with `permissions`. */
function denoChild(script: string, args: string[], permissions: string[]): Child {
  return new Child(Deno.execPath(), ["run", ...permissions, new URL(script, fixtures).pathname, ...args]);
}

/** The abuse hub (fixtures/abuse_hub.ts) on `runtime`; Bun runs the source with NODE_PATH for its one npm import. */
function hubChild(runtime: AbuseRuntime, args: string[]): Child {
  if (runtime === "deno") return denoChild("abuse_hub.ts", args, ["--allow-net=127.0.0.1"]);
  const scratch = Deno.env.get("PUBSUB_SCRATCH");
  return new Child(Deno.env.get("BUN") ?? "bun", [new URL("abuse_hub.ts", fixtures).pathname, ...args], {
    NODE_PATH: `${scratch}/node_modules`,
  });
}

async function attack(
  runtime: AbuseRuntime,
  { mode, count = 1, hubArgs = [], code, closes = count, after = 2_000 }: Attack,
) {
  const hub = hubChild(runtime, hubArgs);
  const { port } = await hub.next((l) => "port" in l, 15_000, "hub port") as { port: number };
  const legit = [new Legit("a", port), new Legit("b", port)];
  let attacker: Child | undefined;
  try {
    await Promise.all(legit.map((l) => l.start()));
    await new Promise((r) => setTimeout(r, 1_000)); // warm up with legitimate traffic only
    await hub.send("mark");
    const { mark: before } = await hub.next((l) => "mark" in l, 10_000, "hub mark") as { mark: number };
    attacker = denoChild("attacker.ts", [mode, String(port), String(count)], ["--allow-net=127.0.0.1"]);
    await attacker.next((l) => "ready" in l, 15_000, "attacker ready");
    const attackerCloses = () => hub.lines.filter((l) => l.path === "/attacker" && "disconnect" in l);
    const deadline = Date.now() + 15_000;
    while (attackerCloses().length < closes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, after)); // the attacker goes on writing; legitimate traffic goes on
    for (const l of legit) l.stop();
    await new Promise((r) => setTimeout(r, 500)); // let in-flight events land
    await hub.send("report");
    const { tally, sent, peak } = await hub.next((l) => "tally" in l, 10_000, "hub report (is the hub alive?)") as {
      tally: Record<string, { count: number; gaps: number }>;
      sent: number;
      peak: number;
    };
    const rise = peak - before;
    const measured = {
      runtime,
      mode,
      before: (before / MiB).toFixed(0),
      peak: (peak / MiB).toFixed(0),
      rise: (rise / MiB).toFixed(1),
      legitLost: legit.reduce((n, l) => n + l.gaps, 0) + legit.reduce((n, l) => n + tally[l.name].gaps, 0) +
        legit.reduce((n, l) => n + (l.sent - tally[l.name].count), 0),
      codes: attackerCloses().map((l) => l.disconnect),
    };
    console.log(JSON.stringify(measured));
    // The attacker was closed with the documented code.
    assert.deepEqual(attackerCloses().map((l) => l.disconnect), Array(closes).fill(code));
    // The legitimate spokes were never dropped and lost nothing, either way.
    for (const l of legit) {
      assert.deepEqual(l.disconnects, [], `${l.name} was disconnected`);
      assert.equal(l.spoke.state, "open");
      assert.equal(l.gaps, 0, `${l.name} missed down events`);
      assert.ok(l.received >= 150, `${l.name} received only ${l.received} down events`);
      assert.ok(sent - l.received <= 25, `${l.name} received ${l.received} of ${sent} down events`);
      assert.equal(tally[l.name].gaps, 0, `the hub missed up events from ${l.name}`);
      assert.equal(tally[l.name].count, l.sent, `the hub got ${tally[l.name].count} of ${l.sent} up events`);
    }
    assert.deepEqual(hub.lines.filter((l) => l.path === "/legit"), []);
    assert.ok(rise <= 64 * MiB, `the hub's RSS rose by ${(rise / MiB).toFixed(1)} MiB`);
  } finally {
    await attacker?.kill();
    await Promise.all(legit.map((l) => l.close()));
    await hub.send("stop").catch(() => {});
    await hub.process.status;
    await hub.done;
  }
}

/**
 * Registers the abuse tests against the hub on `runtime`, named `${prefix}: …`.
 *
 * @param ignore Register them ignored (Bun without a scratch project).
 */
export function abuseTests(runtime: AbuseRuntime, prefix: string, ignore = false): void {
  const test = (name: string, fn: () => Promise<void>) => Deno.test({ name: `${prefix}: ${name}`, ignore, fn });

  test("an unauthenticated socket flooding pings and never reading is closed with 4400", async () => {
    // Before the hello the hub answers nothing: a ping there is a protocol error.
    await attack(runtime, { mode: "ping", code: CloseCode.BadRequest });
  });

  test("two authenticated sockets flooding pings and never reading are closed with 4008", async () => {
    await attack(runtime, { mode: "ping-auth", count: 2, code: CloseCode.RateLimited });
  });

  test("an authenticated socket that never reads while events flow is closed with 4013", async () => {
    // Deno's budget charges ~900 bytes per queued frame, so 2 MB/s of 100-byte frames pass its 16 MiB within a second or
    // two. Bun queues the bytes alone: at that rate the heartbeat (5 s) would close the non-reader first (4000), so
    // its budget is 4 MiB here.
    const hubArgs = runtime === "bun" ? ["--bulk=20000", "--high-water-mark=4194304"] : ["--bulk=20000"];
    await attack(runtime, { mode: "slow", hubArgs, code: CloseCode.SlowConsumer });
  });

  test("an authenticated socket flooding valid frames is closed with 4008", async () => {
    await attack(runtime, { mode: "valid", code: CloseCode.RateLimited });
  });

  test("an authenticated socket flooding invalid frames is closed with 4400", async () => {
    await attack(runtime, { mode: "invalid", code: CloseCode.BadRequest });
  });

  test("frames nested 100,000 levels deep are refused before parsing and close with 4400", async () => {
    await attack(runtime, { mode: "deep", count: 8, code: CloseCode.BadRequest });
  });

  test("2,000 idle authenticated connections cost the hub at most 64 KiB of RSS each", async () => {
    const connections = 2_000;
    const hub = hubChild(runtime, ["--quiet"]);
    let idle: Child | undefined;
    try {
      const { port } = await hub.next((l) => "port" in l, 15_000, "hub port") as { port: number };
      // A first connection warms the server up, so the mark does not count one-off allocations.
      const first = new Legit("first", port);
      await first.start();
      await first.close();
      await new Promise((r) => setTimeout(r, 500));
      await hub.send("mark");
      const { mark: before } = await hub.next((l) => "mark" in l, 10_000, "hub mark") as { mark: number };
      idle = denoChild("attacker.ts", ["idle", String(port), String(connections)], ["--allow-net=127.0.0.1"]);
      await idle.next((l) => "ready" in l, 20_000, "all idle connections authenticated");
      await new Promise((r) => setTimeout(r, 2_500)); // a couple of heartbeats
      await hub.send("count");
      assert.deepEqual(await hub.next((l) => "connections" in l, 10_000, "hub count"), { connections });
      await hub.send("report");
      const { rss } = await hub.next((l) => "tally" in l, 10_000, "hub report") as { rss: number };
      const perConnection = (rss - before) / connections;
      console.log(
        JSON.stringify({
          runtime,
          connections,
          before: before / MiB,
          after: rss / MiB,
          perConnectionKiB: perConnection / 1024,
        }),
      );
      assert.ok(perConnection <= 64 * 1024, `${(perConnection / 1024).toFixed(1)} KiB per idle connection`);
      // None was dropped: the hub answered their handshakes and their heartbeats.
      assert.deepEqual(hub.lines.filter((l) => l.path === "/idle"), []);
    } finally {
      await idle?.kill();
      await hub.send("stop").catch(() => {});
      await hub.process.status;
      await hub.done;
    }
  });
}
