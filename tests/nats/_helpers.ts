/** Shared helpers for the NATS tests: connections, target pairs, a private nats-server. */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { ConformancePair } from "../../testing/mod.ts";
import { createNatsEventTarget, type NatsEventTarget, type NatsEventTargetOptions } from "../../adapters/nats/mod.ts";
import type { PubSubError } from "../../mod.ts";
import { freePort } from "../_util.ts";

export { freePort, waitFor } from "../_util.ts";

/** The shared NATS server, as the brief and CI provide it. */
export const NATS_URL: string = Deno.env.get("NATS_URL") ?? "127.0.0.1:4222";

/** A prefix no other test (or parallel run) uses. */
export function uniquePrefix(name: string): string {
  return `alk.test.${name}.${crypto.randomUUID().slice(0, 8)}`;
}

/** A connection to `servers` (the shared server by default). */
export function natsConnect(
  servers: string = NATS_URL,
  options: Record<string, unknown> = {},
): Promise<NatsConnection> {
  return connect({ servers, ...options });
}

/** Errors collected by a target's onError. */
export interface Collected {
  errors: { error: PubSubError; subject?: string; operation: string }[];
}

/** A target on its own connection; `close()` closes the target, then the connection. */
export async function targetWithConnection(
  options: Omit<NatsEventTargetOptions, "connection"> & { servers?: string; natsOptions?: Record<string, unknown> } =
    {},
): Promise<{ target: NatsEventTarget; connection: NatsConnection; collected: Collected; close(): Promise<void> }> {
  const { servers, natsOptions, ...rest } = options;
  const connection = await natsConnect(servers, natsOptions);
  const collected: Collected = { errors: [] };
  const target = createNatsEventTarget({
    ...rest,
    connection,
    onError: rest.onError ?? ((error, context) => collected.errors.push({ error, ...context })),
    onListenerError: rest.onListenerError ?? (() => {}),
  });
  return {
    target,
    connection,
    collected,
    async close() {
      await target.close();
      if (!connection.isClosed()) await connection.close();
    },
  };
}

/** Two targets on separate connections sharing a prefix: a conformance pair. */
export async function natsPair(prefix: string): Promise<ConformancePair> {
  const [a, b] = await Promise.all([targetWithConnection({ prefix }), targetWithConnection({ prefix })]);
  return {
    a: a.target,
    b: b.target,
    listenerCount: (t, topic) => (t as NatsEventTarget).listenerCount(topic),
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** A private nats-server on free ports (client and monitoring), started and stopped by the test. */
export interface PrivateServer {
  url: string;
  port: number;
  monitorPort: number;
  /** Starts (or restarts) the server on the same ports and waits until it answers. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** GETs a monitoring endpoint (`/subsz`, `/connz?subs=1`) as JSON. */
  monitor(path: string): Promise<Record<string, unknown>>;
}

/** Whether the nats-server binary can be run here. */
export function hasNatsServer(): boolean {
  try {
    const { code } = new Deno.Command("nats-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return code === 0;
  } catch {
    return false;
  }
}

/** A private nats-server on free ports, started (fresh ports are tried if the first ones were taken meanwhile). */
export async function privateServer(): Promise<PrivateServer> {
  for (let attempt = 1;; attempt++) {
    const server = serverOn(freePort(), freePort());
    try {
      await server.start();
      return server;
    } catch (error) {
      await server.kill();
      if (attempt === 3) throw error;
    }
  }
}

function serverOn(port: number, monitorPort: number): PrivateServer {
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<Deno.CommandStatus> | undefined;
  const server: PrivateServer = {
    url: `127.0.0.1:${port}`,
    port,
    monitorPort,
    async start() {
      child = new Deno.Command("nats-server", {
        args: ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort)],
        stdout: "null",
        stderr: "null",
      }).spawn();
      exited = child.status;
      let gone: Deno.CommandStatus | undefined;
      exited.then((status) => gone = status);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if (gone !== undefined) throw new Error(`nats-server on port ${port} exited with code ${gone.code}`);
        try {
          const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`);
          await response.body?.cancel();
          if (response.ok) return;
        } catch {
          // not up yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`nats-server on port ${port} did not answer within 15 s`);
    },
    async kill() {
      if (child === undefined) return;
      const running = child;
      child = undefined;
      try {
        running.kill("SIGKILL");
      } catch {
        // already gone
      }
      await exited;
    },
    async monitor(path: string) {
      const response = await fetch(`http://127.0.0.1:${monitorPort}${path}`);
      return await response.json();
    },
  };
  return server;
}
