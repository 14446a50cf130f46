/** Shared helpers for the Redis tests: clients, target pairs, a private redis-server. */

import { Redis, type RedisOptions } from "ioredis";
import type { ConformancePair } from "../../testing/mod.ts";
import {
  createRedisEventTarget,
  type RedisEventTarget,
  type RedisEventTargetOptions,
} from "../../adapters/redis/mod.ts";
import type { PubSubError } from "../../mod.ts";

import { waitFor } from "../_util.ts";

export { freePort, waitFor } from "../_util.ts";

/** The shared Redis, as the brief and CI provide it. */
export const REDIS_URL: string = Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379";

/** A prefix no other test (or parallel run) uses. */
export function uniquePrefix(name: string): string {
  return `alk:test:${name}:${crypto.randomUUID().slice(0, 8)}:`;
}

/** A client on REDIS_URL (or `url`) that reports no unhandled errors and is ready. */
export async function client(url: string = REDIS_URL, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, ...options });
  redis.on("error", () => {}); // connection errors are expected in the restart tests
  await redis.connect();
  return redis;
}

/** Quits clients, falling back to disconnect when the server is gone. */
export async function quitAll(...clients: Redis[]): Promise<void> {
  await Promise.all(clients.map(async (c) => {
    if (c.status === "end") return;
    if (c.status === "ready") await c.quit().catch(() => c.disconnect());
    else c.disconnect();
  }));
  // ioredis emits "end" on the next tick; let it finish so no socket or timer is left.
  await new Promise((r) => setTimeout(r, 0));
}

/** Errors collected by a target's onError. */
export interface Collected {
  errors: { error: PubSubError; channel?: string; operation: string }[];
}

/** A target with its own two connections; `close()` closes the target and both clients. */
export async function targetWithClients(
  options: Omit<RedisEventTargetOptions, "publishClient" | "subscribeClient"> & {
    url?: string;
    redisOptions?: RedisOptions;
  } = {},
): Promise<{ target: RedisEventTarget; pub: Redis; sub: Redis; collected: Collected; close(): Promise<void> }> {
  const [pub, sub] = await Promise.all([
    client(options.url, options.redisOptions),
    client(options.url, options.redisOptions),
  ]);
  const collected: Collected = { errors: [] };
  const target = createRedisEventTarget({
    ...options,
    publishClient: pub,
    subscribeClient: sub,
    onError: options.onError ?? ((error, context) => collected.errors.push({ error, ...context })),
    onListenerError: options.onListenerError ?? (() => {}),
  });
  return {
    target,
    pub,
    sub,
    collected,
    async close() {
      await target.close();
      await quitAll(pub, sub);
    },
  };
}

/** Two targets on separate connections sharing a prefix: a conformance pair. */
export async function redisPair(
  prefix: string,
  sharded = false,
  options: Pick<RedisEventTargetOptions, "streams"> = {},
): Promise<ConformancePair> {
  const [a, b] = await Promise.all([
    targetWithClients({ prefix, sharded, ...options }),
    targetWithClients({ prefix, sharded, ...options }),
  ]);
  return {
    a: a.target,
    b: b.target,
    listenerCount: (t, topic) => (t as RedisEventTarget).listenerCount(topic),
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** A redis-server child process on 127.0.0.1:`port` with no persistence. */
export class RedisServer {
  #child: Deno.ChildProcess | undefined;
  readonly port: number;
  readonly args: string[];

  constructor(port: number, extraArgs: string[] = [], readonly cwd?: string) {
    this.port = port;
    this.args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--logfile",
      "",
      "--loglevel",
      "warning",
      ...extraArgs,
    ];
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits until it answers PING. */
  async start(): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: this.args,
      cwd: this.cwd,
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor(() => this.#ping(), 10_000, `redis-server on port ${this.port}`);
  }

  /** SIGKILLs the server and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  }

  async #ping(): Promise<boolean> {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
      try {
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buf = new Uint8Array(16);
        const n = await conn.read(buf);
        return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
      } finally {
        conn.close();
      }
    } catch {
      return false;
    }
  }
}
