/**
 * The attacks of issue 15, each on a real hub in its own process (fixtures/abuse_hub.ts) with two legitimate spokes
 * carrying sequence-numbered events at 100/s each way, and an attacker in a third process (fixtures/attacker.ts).
 * Each asserts: the hub survives, the legitimate spokes lose nothing and are never disconnected, the hub's RSS (its
 * own `process.memoryUsage().rss`, sampled every 10 ms) rises by at most 64 MiB at peak, and the attacker is closed
 * with the documented code. The same bodies run against the Deno hub (abuse_test.ts) and the Bun hub
 * (tests/runtimes/abuse_test.ts).
 */

import assert from "node:assert/strict";
import { CloseCode, connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { Child, denoChild } from "../child.ts";
import { assertLegitIntact, endAttack, Legit, legitLost } from "../legit_spoke.ts";

/** The hub runtimes the abuse hub runs on. */
export type AbuseRuntime = "deno" | "bun";

const MiB = 1024 * 1024;
const fixtures = new URL("./fixtures/", import.meta.url);

/** A legitimate spoke (tests/legit_spoke.ts) on the hub's `/legit` path. */
function legitSpoke(name: string, port: number): Legit {
  return new Legit(
    name,
    connectWebSocketEventTarget(`ws://127.0.0.1:${port}/legit`, { credentials: "secret", onError: () => {} }),
  );
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

/** The abuse hub (fixtures/abuse_hub.ts) on `runtime`; Bun runs the source with NODE_PATH for its one npm import. */
function hubChild(runtime: AbuseRuntime, args: string[]): Child {
  if (runtime === "deno") return denoChild(new URL("abuse_hub.ts", fixtures), args, ["--allow-net=127.0.0.1"]);
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
  const legit = [legitSpoke("a", port), legitSpoke("b", port)];
  let attacker: Child | undefined;
  try {
    await Promise.all(legit.map((l) => l.start()));
    await new Promise((r) => setTimeout(r, 1_000)); // warm up with legitimate traffic only
    await hub.send("mark");
    const { mark: before } = await hub.next((l) => "mark" in l, 10_000, "hub mark") as { mark: number };
    attacker = denoChild(new URL("attacker.ts", fixtures), [mode, String(port), String(count)], [
      "--allow-net=127.0.0.1",
    ]);
    await attacker.next((l) => "ready" in l, 15_000, "attacker ready");
    const attackerCloses = () => hub.lines.filter((l) => l.path === "/attacker" && "disconnect" in l);
    const report = await endAttack(hub, legit, attackerCloses, { count: closes, ms: 15_000, after });
    const rise = report.peak - before;
    const measured = {
      runtime,
      mode,
      before: (before / MiB).toFixed(0),
      peak: (report.peak / MiB).toFixed(0),
      rise: (rise / MiB).toFixed(1),
      legitLost: legitLost(legit, report),
      codes: attackerCloses().map((l) => l.disconnect),
    };
    console.log(JSON.stringify(measured));
    // The attacker was closed with the documented code.
    assert.deepEqual(attackerCloses().map((l) => l.disconnect), Array(closes).fill(code));
    // The legitimate spokes were never dropped and lost nothing, either way.
    assertLegitIntact(legit, report);
    assert.deepEqual(hub.lines.filter((l) => l.path === "/legit"), []);
    assert.ok(rise <= 64 * MiB, `the hub's RSS rose by ${(rise / MiB).toFixed(1)} MiB`);
  } finally {
    await attacker?.kill();
    await Promise.all(legit.map((l) => l.close()));
    await hub.stop();
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
      const first = legitSpoke("first", port);
      await first.start();
      await first.close();
      await new Promise((r) => setTimeout(r, 500));
      await hub.send("mark");
      const { mark: before } = await hub.next((l) => "mark" in l, 10_000, "hub mark") as { mark: number };
      idle = denoChild(new URL("attacker.ts", fixtures), ["idle", String(port), String(connections)], [
        "--allow-net=127.0.0.1",
      ]);
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
