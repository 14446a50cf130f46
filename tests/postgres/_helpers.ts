/** Shared helpers for the PostgreSQL tests: clients, targets, conformance pairs. */

import pg from "pg";
import type { ConformancePair } from "../../testing/mod.ts";
import {
  createPostgresEventTarget,
  type PgListenClient,
  type PostgresErrorContext,
  type PostgresEventTarget,
  type PostgresEventTargetOptions,
} from "../../adapters/postgres/mod.ts";
import type { PubSubError } from "../../mod.ts";

export { waitFor } from "../_util.ts";

/** The shared server, as the brief and CI provide it. */
export const PG_URL: string = Deno.env.get("PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";

/** A prefix no other test (or parallel run) uses. */
export function uniquePrefix(name: string): string {
  return `t.${name.slice(0, 12)}.${crypto.randomUUID().slice(0, 8)}:`;
}

/** A connected client. */
export async function pgClient(url: string = PG_URL): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {}); // a terminated connection reports here; the test sees it on its next query
  await client.connect();
  return client;
}

/** Opens listening connections to `url`, remembering them (the tests kill them with pg_terminate_backend). */
export function connector(url: string = PG_URL): { connect: () => Promise<PgListenClient>; opened: pg.Client[] } {
  const opened: pg.Client[] = [];
  return {
    opened,
    async connect() {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      await client.connect();
      opened.push(client);
      return client;
    },
  };
}

/** Errors collected by a target's onError. */
export interface Collected {
  errors: (PostgresErrorContext & { error: PubSubError })[];
}

/** A target over its own publishing client; `close()` closes the target, then the client. */
export async function pgTarget(
  options: Partial<PostgresEventTargetOptions> & { url?: string } = {},
): Promise<{
  target: PostgresEventTarget;
  client: pg.Client;
  opened: pg.Client[];
  collected: Collected;
  close(): Promise<void>;
}> {
  const { url, ...rest } = options;
  const client = await pgClient(url);
  const { connect, opened } = connector(url);
  const collected: Collected = { errors: [] };
  const target = createPostgresEventTarget({
    client,
    connect,
    onError: (error, context) => collected.errors.push({ error, ...context }),
    onListenerError: () => {},
    ...rest,
  });
  return {
    target,
    client,
    opened,
    collected,
    async close() {
      await target.close();
      await client.end();
    },
  };
}

/** Two targets on separate connections sharing a prefix: a conformance pair. */
export async function pgPair(prefix: string): Promise<ConformancePair> {
  const [a, b] = await Promise.all([pgTarget({ prefix }), pgTarget({ prefix })]);
  return {
    a: a.target,
    b: b.target,
    listenerCount: (t, topic) => (t as PostgresEventTarget).listenerCount(topic),
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** The channels a backend is listening on, asked of the server from that very connection. */
export async function listeningChannels(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ c: string }>("SELECT pg_listening_channels() AS c");
  return result.rows.map((row) => row.c);
}
