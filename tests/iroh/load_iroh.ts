/**
 * Loads `@number0/iroh` from tools/node_modules (installed there by npm, since
 * Deno's npm resolver cannot install its optional platform packages) and binds
 * loopback endpoints for the tests, the bench and the Node fixture.
 *
 * Where the native addon cannot load (not Linux x64, addon missing), `iroh` is
 * `undefined` and `skipReason` says why, so tests can skip with a message;
 * with `CI=true` a load failure throws instead, so CI never skips.
 */

import { createRequire } from "node:module";
import process from "node:process";
import type * as IrohModule from "../../tools/node_modules/@number0/iroh/index.d.ts";

/** The binding's module type. */
export type Iroh = typeof IrohModule;
/** An endpoint. */
export type Endpoint = IrohModule.Endpoint;
/** A connection. */
export type Connection = IrohModule.Connection;

function load(): { iroh: Iroh | undefined; skipReason: string | undefined } {
  try {
    const require = createRequire(new URL("../../tools/", import.meta.url));
    // The package's "main" names a missing file, so Node's resolver falls back to index.js with a
    // DEP0128 warning on every load; it is harmless, so keep it out of the test output.
    const proc = process as { noDeprecation?: boolean };
    const noDeprecation = proc.noDeprecation;
    proc.noDeprecation = true;
    try {
      return { iroh: require("@number0/iroh") as Iroh, skipReason: undefined };
    } finally {
      proc.noDeprecation = noDeprecation;
    }
  } catch (error) {
    const reason = `@number0/iroh cannot load on ${Deno.build.os}-${Deno.build.arch}: ${
      error instanceof Error ? error.message.split("\n")[0] : String(error)
    }`;
    if (Deno.env.get("CI") === "true") throw new Error(`${reason} (CI=true: refusing to skip)`, { cause: error });
    console.warn(`Skipping iroh tests: ${reason}`);
    return { iroh: undefined, skipReason: reason };
  }
}

const loaded = load();

/** The binding, or `undefined` where it cannot load outside CI. */
export const iroh: Iroh | undefined = loaded.iroh;
/** Why the binding did not load, if it did not. */
export const skipReason: string | undefined = loaded.skipReason;

/** The test ALPN. */
export const ALPN: number[] = Array.from(new TextEncoder().encode("alkdev/pubsub/test/1"));

/** Binds an endpoint on 127.0.0.1 with the minimal preset (no relays, no discovery). */
export async function bindEndpoint(alpns?: number[][]): Promise<Endpoint> {
  const builder = iroh!.Endpoint.builder();
  iroh!.presetMinimal(builder);
  if (alpns !== undefined) builder.alpns(alpns);
  builder.bindAddr("127.0.0.1:0");
  return await builder.bind();
}

/** The IPv4 loopback addresses an endpoint listens on. */
export function loopbackAddrs(endpoint: Endpoint): string[] {
  return endpoint.boundSockets().filter((a) => a.startsWith("127.0.0.1:"));
}

/** Two endpoints and one established connection between them. */
export interface ConnectedPair {
  server: Endpoint;
  client: Endpoint;
  /** The dialing side's connection. */
  clientConn: Connection;
  /** The accepting side's connection. */
  serverConn: Connection;
  /** Closes both endpoints (and with them any connection left open). */
  close(): Promise<void>;
}

/** Binds a server (accepting `serverAlpn`) and a client, and connects them over loopback. */
export async function connectPair(alpn: number[] = ALPN): Promise<ConnectedPair> {
  const server = await bindEndpoint([ALPN]);
  const client = await bindEndpoint();
  const accepted = (async () => {
    const incoming = await server.acceptNext();
    if (incoming === null) throw new Error("The server endpoint closed before a connection arrived");
    return await (await incoming.accept()).connect();
  })();
  accepted.catch(() => {});
  try {
    const clientConn = await client.connect(new iroh!.EndpointAddr(server.id(), null, loopbackAddrs(server)), alpn);
    const serverConn = await accepted;
    return {
      server,
      client,
      clientConn,
      serverConn,
      close: () => closeEndpoints(client, server),
    };
  } catch (error) {
    await closeEndpoints(client, server);
    throw error;
  }
}

/** Closes endpoints, in order. */
export async function closeEndpoints(...endpoints: Endpoint[]): Promise<void> {
  for (const endpoint of endpoints) await endpoint.close();
}
