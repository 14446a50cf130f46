/**
 * `NotifyQueue`: the target's outgoing side. Internal: not exported from the
 * package.
 *
 * @module
 */

import { PostgresPublishError } from "./errors.ts";
import { NOTIFY_SQL } from "./notify.ts";
import type { PgQueryable } from "./types.ts";

/** The most events in one `pg_notify` query. */
const MAX_BATCH = 1000;
const BATCH_SQL = "SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)";

interface Outgoing {
  channel: string;
  payload: string;
}

/**
 * Sends notifications through a client: a single event as
 * `SELECT pg_notify($1, $2)`, the events queued while earlier queries ran
 * together in the next one. At most `inFlight` queries are handed to the
 * client before the first completes: a `pg.Client` runs them one after
 * another on its one connection, so their order holds; a pool needs 1. A
 * failed query, and an event beyond `maxQueued`, go to `report`.
 *
 * @example
 * ```ts
 * import { NotifyQueue } from "./notify_queue.ts";
 *
 * const queue = new NotifyQueue({ query: () => Promise.resolve() }, 10, 1, console.error);
 * queue.push("alk.events:ping:1", '{"type":"ping","id":"1"}');
 * await queue.flushed();
 * ```
 */
export class NotifyQueue {
  #client: PgQueryable;
  #maxQueued: number;
  #maxInFlight: number;
  #report: (error: PostgresPublishError) => void;
  #queue: Outgoing[] = [];
  #inFlight = 0;
  #scheduled = false;
  #idle: (() => void)[] = [];

  /**
   * @param client Runs the queries.
   * @param maxQueued The most events waiting.
   * @param inFlight The most queries handed to the client at once.
   * @param report Receives failed queries and dropped events.
   */
  constructor(
    client: PgQueryable,
    maxQueued: number,
    inFlight: number,
    report: (error: PostgresPublishError) => void,
  ) {
    this.#client = client;
    this.#maxQueued = maxQueued;
    this.#maxInFlight = inFlight;
    this.#report = report;
  }

  /** Queues one notification (or reports it dropped, when `maxQueued` wait already). */
  push(channel: string, payload: string): void {
    if (this.#queue.length >= this.#maxQueued) {
      this.#report(
        new PostgresPublishError(channel, new Error(`${this.#maxQueued} events are already waiting to be sent`)),
      );
      return;
    }
    this.#queue.push({ channel, payload });
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#pump); // after the rest of this synchronous run has queued its events too
    }
  }

  /** Settles once every queued notification was sent (or reported). */
  flushed(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump = (): void => {
    this.#scheduled = false;
    while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) {
      this.#inFlight++;
      void this.#send(this.#takeBatch());
    }
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  };

  async #send(batch: Outgoing[]): Promise<void> {
    try {
      if (batch.length === 1) await this.#client.query(NOTIFY_SQL, [batch[0].channel, batch[0].payload]);
      else await this.#client.query(BATCH_SQL, [batch.map((o) => o.channel), batch.map((o) => o.payload)]);
    } catch (error) {
      this.#report(new PostgresPublishError(batch[0].channel, error));
    }
    this.#inFlight--;
    this.#pump();
  }

  /**
   * Takes the next events for one query: up to `MAX_BATCH`, and never two
   * identical (channel, payload) pairs, which PostgreSQL would fold into one
   * notification within a transaction.
   */
  #takeBatch(): Outgoing[] {
    const queue = this.#queue;
    let end = Math.min(queue.length, MAX_BATCH);
    if (end > 1) {
      const seen = new Set<string>();
      for (let i = 0; i < end; i++) {
        const key = queue[i].channel + "\0" + queue[i].payload;
        if (seen.has(key)) {
          end = i;
          break;
        }
        seen.add(key);
      }
    }
    if (end === queue.length) {
      this.#queue = [];
      return queue;
    }
    return queue.splice(0, end);
  }
}
