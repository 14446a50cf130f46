/**
 * Fairness between connections: a connection whose inbound frames hold the
 * event loop for a whole slice within one turn yields it, so one
 * connection's burst cannot hold the loop while the others' frames wait. A
 * connection that does not hold the loop never waits.
 *
 * @module
 */

import { nextTurn } from "./next_turn.ts";

/**
 * Options of a {@linkcode FairScheduler}.
 *
 * @example
 * ```ts
 * import type { FairSchedulerOptions } from "@alkdev/pubsub";
 *
 * const options: FairSchedulerOptions = { slice: 32 };
 * ```
 */
export interface FairSchedulerOptions {
  /**
   * Items one lane runs within one runtime turn (macrotask) before the rest
   * of its items wait for later turns, taken round-robin with the other
   * lanes' waiting items. Items spread over several turns never wait.
   *
   * @default {256}
   */
  slice?: number;
  /** Called if a deferred item's `run` throws. @default {console.error} */
  onError?: (error: unknown) => void;
}

/**
 * The default slice of a {@linkcode FairScheduler}: 256 items per lane per turn.
 *
 * @example
 * ```ts
 * import { DEFAULT_FAIR_SLICE } from "@alkdev/pubsub";
 *
 * console.log(DEFAULT_FAIR_SLICE); // 256
 * ```
 */
export const DEFAULT_FAIR_SLICE = 256;

/**
 * Shares the event loop between lanes (one per connection) without timers.
 *
 * - A lane runs each item at once while it has not run a whole `slice`
 *   within the runtime's current turn (macrotask). Items that arrive spread
 *   over time never wait, however many there are: the budget starts afresh
 *   as soon as the runtime's turn has moved on.
 * - A lane that runs a whole slice within one turn is holding the event loop
 *   (Deno delivers tens of thousands of one connection's `message` events in
 *   one turn, while the other connections' frames wait in the runtime where
 *   no scheduler can see them). Its further items wait, in order, in its
 *   bounded backlog, and the scheduler yields with {@linkcode nextTurn}
 *   (`setImmediate`, about 5 µs, not `setTimeout(0)`, which Deno and Node
 *   clamp to 1–2 ms): the runtime delivers the other connections' I/O, then
 *   up to `slice` waiting items of each waiting lane run, round-robin,
 *   and this repeats (a yield of about 5 µs per slice) while items wait.
 *
 * To know when the runtime's turn moves on, a lane arms one `nextTurn` when
 * it starts a slice (one per `slice` items, not one per item); nothing is
 * armed while no lane runs or waits, so an idle scheduler holds no timer and
 * no immediate. Order is kept within a lane.
 *
 * Transports that push frames (a WebSocket's `message` events) use it to
 * bound each connection's share; transports that pull frames can instead
 * `await` a turn when {@linkcode FairLane.push} leaves items waiting.
 *
 * @example
 * ```ts
 * import { FairScheduler } from "@alkdev/pubsub";
 *
 * const scheduler = new FairScheduler({ slice: 2 });
 * const order: string[] = [];
 * const a = scheduler.lane<string>((item) => order.push(item), 100);
 * const b = scheduler.lane<string>((item) => order.push(item), 100);
 * for (const item of ["a1", "a2", "a3", "a4"]) a.push(item);
 * b.push("b1");
 * console.log(order); // ["a1", "a2", "b1"]: a ran a whole slice in this turn; a3 and a4 wait for the next
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * console.log(order); // ["a1", "a2", "b1", "a3", "a4"]
 * ```
 */
export class FairScheduler {
  /** Items per lane per turn. */
  readonly slice: number;
  /** @internal The runtime turns seen since the scheduler started (bumped by the armed `nextTurn`). */
  turn = 0;
  #waiting: FairLane<never>[] = [];
  #armed = false;
  #onError: (error: unknown) => void;

  /**
   * Constructs a scheduler; share one between the connections that should be fair to each other.
   *
   * @param options The slice.
   * @throws {RangeError} If `slice` is not a positive integer.
   */
  constructor(options: FairSchedulerOptions = {}) {
    const slice = options.slice ?? DEFAULT_FAIR_SLICE;
    if (!Number.isInteger(slice) || slice < 1) {
      throw new RangeError(`Expected slice to be a positive integer, got ${String(slice)}`);
    }
    this.slice = slice;
    this.#onError = options.onError ?? ((error) => console.error(error));
  }

  /**
   * Creates a lane for one connection.
   *
   * @typeParam T The item type (e.g. a received frame).
   * @param run Handles one item.
   * @param maxBacklog The most items that may wait; {@linkcode FairLane.push} returns `false` past it.
   * @returns The lane; `close()` it with its connection.
   */
  lane<T>(run: (item: T) => void, maxBacklog = Infinity): FairLane<T> {
    return new FairLane<T>(this, run, maxBacklog);
  }

  /** Lanes with items waiting, in the order they started waiting. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** @internal Makes sure the turn counter moves on at the next macrotask. */
  arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    nextTurn(this.#nextTurn);
  }

  /** @internal A lane started waiting. */
  enqueue(lane: FairLane<never>): void {
    this.#waiting.push(lane);
    this.arm();
  }

  /** @internal A lane stopped waiting (closed). The armed turn still fires once, so turns stay exact. */
  dequeue(lane: FairLane<never>): void {
    const i = this.#waiting.indexOf(lane);
    if (i !== -1) this.#waiting.splice(i, 1);
  }

  /** @internal Reports an error thrown by a deferred item. */
  report(error: unknown): void {
    this.#onError(error);
  }

  #nextTurn = (): void => {
    this.#armed = false;
    this.turn++;
    if (this.#waiting.length === 0) return;
    const lanes = this.#waiting;
    this.#waiting = [];
    // A slice per lane per turn, also for a lane that waits alone: what its items do synchronously (deliver to a
    // subscription's bounded buffer, say) then gets turns to drain too.
    for (const lane of lanes) if (lane.runWaiting(this.slice)) this.#waiting.push(lane);
    // The lanes just ran part of a slice in this turn: one more probe marks its end, waiting or not.
    this.arm();
  };
}

/**
 * One connection's lane in a {@linkcode FairScheduler}.
 *
 * @typeParam T The item type.
 *
 * @example
 * ```ts
 * import { FairScheduler } from "@alkdev/pubsub";
 *
 * const lane = new FairScheduler().lane<string>((frame) => console.log(frame), 1024);
 * if (!lane.push("frame")) console.log("too many frames waiting: drop the connection");
 * lane.close();
 * ```
 */
export class FairLane<T> {
  #scheduler: FairScheduler;
  #run: (item: T) => void;
  #maxBacklog: number;
  /** The scheduler's turn when the current slice started. */
  #mark = -1;
  /** Items run in the current slice; starts full, so the first item starts a slice (and arms its probe). */
  #used: number;
  #backlog: T[] | undefined;
  #head = 0;
  #closed = false;

  /** @internal Use {@linkcode FairScheduler.lane}. */
  constructor(scheduler: FairScheduler, run: (item: T) => void, maxBacklog: number) {
    this.#scheduler = scheduler;
    this.#run = run;
    this.#maxBacklog = maxBacklog;
    this.#used = scheduler.slice;
  }

  /** Items waiting. */
  get backlog(): number {
    return this.#backlog === undefined ? 0 : this.#backlog.length - this.#head;
  }

  /**
   * Runs `item` now unless the lane has items waiting or has run a whole
   * slice within the runtime's current turn; queues it otherwise.
   *
   * @param item The item.
   * @returns `false` if the backlog is full (the item is dropped; the caller should drop the peer).
   */
  push(item: T): boolean {
    if (this.#closed) return true;
    const scheduler = this.#scheduler;
    if (this.#backlog === undefined) {
      if (this.#used < scheduler.slice) {
        this.#used++;
        this.#run(item);
        return true;
      }
      if (this.#mark !== scheduler.turn) {
        // The runtime's turn moved on since this slice started: a fresh slice, and a probe for its turn's end.
        this.#mark = scheduler.turn;
        this.#used = 1;
        scheduler.arm();
        this.#run(item);
        return true;
      }
      // A whole slice within one turn: the lane holds the event loop; the rest waits for the next turn.
      this.#backlog = [];
      this.#head = 0;
      scheduler.enqueue(this as unknown as FairLane<never>);
    } else if (this.backlog >= this.#maxBacklog) return false;
    this.#backlog.push(item);
    return true;
  }

  /** Drops what waits and leaves the scheduler. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#backlog !== undefined) this.#scheduler.dequeue(this as unknown as FairLane<never>);
    this.#backlog = undefined;
  }

  /** @internal Runs up to `limit` waiting items; returns whether items still wait. */
  runWaiting(limit: number): boolean {
    const backlog = this.#backlog;
    if (backlog === undefined || this.#closed) return false;
    const scheduler = this.#scheduler;
    this.#mark = scheduler.turn;
    this.#used = 0;
    while (this.#used < limit && this.#head < backlog.length && !this.#closed) {
      const item = backlog[this.#head];
      backlog[this.#head++] = undefined as T;
      this.#used++;
      try {
        this.#run(item);
      } catch (error) {
        scheduler.report(error);
      }
    }
    if (this.#closed || this.#backlog !== backlog) return false;
    if (this.#head < backlog.length) return true;
    this.#backlog = undefined;
    this.#head = 0;
    return false;
  }
}
