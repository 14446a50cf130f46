/**
 * Fairness between connections: a connection whose inbound frames hold the
 * event loop for a whole slice within one synchronous run (a chunk of frames
 * handed over at once) yields it, so one connection's burst cannot hold the
 * loop while the others' frames wait. A connection whose frames are handed
 * over one at a time never waits: the runtime interleaves them with the
 * other connections' I/O itself.
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
   * Items one lane runs within one synchronous run (until the next microtask
   * checkpoint) before the rest of its items wait for later turns, taken
   * round-robin with the other lanes' waiting items. Items handed over in
   * separate runs never wait.
   *
   * @default {256}
   */
  slice?: number;
  /** Called if a deferred item's `run` throws. @default {console.error} */
  onError?: (error: unknown) => void;
}

/**
 * What runs a lane's items, as an object: a connection can be its own lane's
 * handler (no closure per connection), where a function would capture it.
 *
 * @typeParam T The item type.
 *
 * @example
 * ```ts
 * import { FairScheduler, type FairLaneHandler } from "@alkdev/pubsub";
 *
 * class Connection implements FairLaneHandler<string> {
 *   readonly lane = new FairScheduler().lane<string>(this, 1024);
 *   handleItem(frame: string): void {
 *     console.log("frame", frame);
 *   }
 * }
 * new Connection().lane.push("hello"); // frame hello
 * ```
 */
export interface FairLaneHandler<T> {
  /** Handles one item. */
  handleItem(item: T): void;
  /**
   * With it, the lane is only lent while in use: once a whole runtime turn
   * has passed in which it took no item, with nothing waiting, the scheduler
   * closes it and calls this; the handler drops it and takes a new lane for
   * its next item. An idle lane is the same as a new one (its counts only
   * matter within a turn), so fairness is unchanged; an idle connection
   * holds no lane (a hub has many), and one whose items come every turn
   * keeps its lane.
   */
  laneReturned?(lane: FairLane<T>): void;
}

/**
 * The default slice of a {@linkcode FairScheduler}: 256 items per lane per synchronous run.
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
 *   within the current synchronous run (up to the next microtask
 *   checkpoint). Items handed over in separate runs never wait, however
 *   many and however fast: Deno dispatches each WebSocket `message` event in
 *   its own run and interleaves the connections' events itself, and it reads
 *   a connection's next frame only as its events are dispatched, so handling
 *   each frame at once is what pushes back on a fast peer (its frames wait
 *   in the kernel, then in the peer's `bufferedAmount`) instead of piling up
 *   in the hub's memory.
 * - A lane that runs a whole slice within one run is holding the event loop
 *   (a runtime that parses a whole socket chunk into `message` events at
 *   once, as Node's `ws` does). Its further items wait, in order, in its
 *   bounded backlog, and the scheduler yields with {@linkcode nextTurn}
 *   (`setImmediate`, about 5 µs, not `setTimeout(0)`, which Deno and Node
 *   clamp to 1–2 ms): the runtime delivers the other connections' I/O, then
 *   up to `slice` waiting items of each waiting lane run, round-robin,
 *   and this repeats while items wait.
 * - A lane that runs more than its `maxBacklog` items within one runtime
 *   turn (macrotask) without ever waiting is holding the event loop too
 *   (while one connection's frames keep coming, Deno runs no timer):
 *   {@linkcode FairLane.push} refuses, as for a full backlog, and the caller
 *   drops the peer.
 *
 * The scheduler queues one microtask per synchronous run in which a lane
 * starts a slice, to mark the run's end (on Deno that is one per frame, the
 * cost of a `queueMicrotask`), and one `nextTurn` per runtime turn in which
 * a lane runs or items wait; an idle scheduler holds no timer and no
 * immediate. Order is kept within a
 * lane.
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
 * console.log(order); // ["a1", "a2", "b1"]: a ran a whole slice in this run; a3 and a4 wait for the next turn
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * console.log(order); // ["a1", "a2", "b1", "a3", "a4"]
 * ```
 */
export class FairScheduler {
  /** Items per lane per synchronous run. */
  readonly slice: number;
  /** @internal The synchronous runs seen since the scheduler started (bumped by the armed microtask). */
  run = 0;
  /** @internal The runtime turns (macrotasks) seen since the scheduler started (bumped by the armed `nextTurn`). */
  turn = 0;
  #waiting: FairLane<never>[] = [];
  /**
   * Lent lanes (their handler has `laneReturned`) that took an item in this turn or the last, or have items waiting:
   * each is returned at the start of a turn once it took none in the turn before, with nothing waiting.
   */
  #lent: FairLane<never>[] = [];
  #armed = false;
  #runArmed = false;
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
   * @param run Handles one item: a function, or an object whose `handleItem` does.
   * @param maxBacklog The most items that may wait; {@linkcode FairLane.push} returns `false` past it.
   * @returns The lane; `close()` it with its connection.
   */
  lane<T>(run: ((item: T) => void) | FairLaneHandler<T>, maxBacklog = Infinity): FairLane<T> {
    return new FairLane<T>(this, typeof run === "function" ? { handleItem: run } : run, maxBacklog);
  }

  /** Lanes with items waiting, in the order they started waiting. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** @internal Makes sure waiting lanes run at the next macrotask. */
  arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    nextTurn(this.#nextTurn);
  }

  /** @internal Makes sure the synchronous-run counter moves on at the next microtask checkpoint. */
  armRun(): void {
    if (this.#runArmed) return;
    this.#runArmed = true;
    queueMicrotask(this.#nextRun);
  }

  #nextRun = (): void => {
    this.#runArmed = false;
    this.run++;
  };

  /** @internal A lane started waiting. */
  enqueue(lane: FairLane<never>): void {
    this.#waiting.push(lane);
    this.arm();
  }

  /** @internal A lent lane took its first item in this turn, and none in the last. */
  inUse(lane: FairLane<never>): void {
    this.#lent.push(lane);
  }

  /** @internal A lane stopped waiting (closed). */
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
    if (this.#lent.length > 0) {
      const lent = this.#lent;
      this.#lent = [];
      for (const lane of lent) if (!lane.returnIfIdle(this.turn - 1)) this.#lent.push(lane);
    }
    if (this.#waiting.length > 0) {
      const lanes = this.#waiting;
      this.#waiting = [];
      // A slice per lane per turn, also for a lane that waits alone: what its items do synchronously (deliver to a
      // subscription's bounded buffer, say) then gets turns to drain too.
      for (const lane of lanes) if (lane.runWaiting(this.slice)) this.#waiting.push(lane);
    }
    // Another turn while items wait, or lent lanes may become idle.
    if (this.#waiting.length > 0 || this.#lent.length > 0) this.arm();
  };
}

/** A lane's waiting items, from `head`. */
interface Backlog<T> {
  items: T[];
  head: number;
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
  #handler: FairLaneHandler<T>;
  #maxBacklog: number;
  /** The scheduler's synchronous run when the current slice started. */
  #mark = -1;
  /** The scheduler's turn (macrotask) when {@linkcode FairLane.#inTurn} started counting. */
  #turnMark = -Infinity;
  /** Items this lane ran at once within the scheduler's current turn. */
  #inTurn = 0;
  /** Items run in the current slice; starts full, so the first item starts a slice (and arms its probe). */
  #used: number;
  /** Items waiting, created when the first has to; `null` once closed. Eight fields: a hub has one per connection. */
  #backlog: Backlog<T> | undefined | null;

  /** @internal Use {@linkcode FairScheduler.lane}. */
  constructor(scheduler: FairScheduler, handler: FairLaneHandler<T>, maxBacklog: number) {
    this.#scheduler = scheduler;
    this.#handler = handler;
    this.#maxBacklog = maxBacklog;
    this.#used = scheduler.slice;
  }

  /** Items waiting. */
  get backlog(): number {
    const backlog = this.#backlog;
    return backlog == null ? 0 : backlog.items.length - backlog.head;
  }

  /**
   * Runs `item` now unless the lane has items waiting or has run a whole
   * slice within the current synchronous run; queues it otherwise.
   *
   * @param item The item.
   * @returns `false` if the backlog is full, or the lane has run more than
   *   `maxBacklog` items within one runtime turn (macrotask), holding the
   *   event loop: the item is dropped; the caller should drop the peer.
   */
  push(item: T): boolean {
    const backlog = this.#backlog;
    if (backlog === null) return true;
    const scheduler = this.#scheduler;
    if (backlog === undefined) {
      if (this.#turnMark !== scheduler.turn) {
        // Count what this lane runs until the runtime's turn moves on (one probe per turn, shared by the lanes). A
        // lent lane that took none in the last turn starts being watched for idleness (it is not watched yet).
        if (this.#handler.laneReturned !== undefined && this.#turnMark !== scheduler.turn - 1) {
          scheduler.inUse(this as unknown as FairLane<never>);
        }
        this.#turnMark = scheduler.turn;
        this.#inTurn = 0;
        scheduler.arm();
      } else if (++this.#inTurn > this.#maxBacklog) {
        // More than a whole backlog's worth within one turn, never waiting: the lane holds the event loop (on Deno
        // no timer runs meanwhile). The caller drops the peer, as for a full backlog.
        return false;
      }
      if (this.#used < scheduler.slice) {
        this.#used++;
        this.#handler.handleItem(item);
        return true;
      }
      if (this.#mark !== scheduler.run) {
        // The synchronous run moved on since this slice started (the runtime dispatched other work, such as other
        // connections' frames, in between): a fresh slice, and a probe for this run's end.
        this.#mark = scheduler.run;
        this.#used = 1;
        scheduler.armRun();
        this.#handler.handleItem(item);
        return true;
      }
      // A whole slice within one synchronous run (a chunk of frames handed over at once): the lane holds the event
      // loop; the rest waits for the next turn.
      this.#backlog = { items: [item], head: 0 };
      scheduler.enqueue(this as unknown as FairLane<never>);
      return true;
    }
    if (backlog.items.length - backlog.head >= this.#maxBacklog) return false;
    backlog.items.push(item);
    return true;
  }

  /** Drops what waits and leaves the scheduler. Idempotent. */
  close(): void {
    const backlog = this.#backlog;
    if (backlog === null) return;
    this.#backlog = null;
    if (backlog !== undefined) this.#scheduler.dequeue(this as unknown as FairLane<never>);
  }

  /**
   * @internal A lent lane that took no item in turn `last` (the one that just ended), with nothing waiting, is closed
   * and returned to its handler. Returns whether it no longer needs watching (returned, or closed).
   */
  returnIfIdle(last: number): boolean {
    const backlog = this.#backlog;
    if (backlog === null) return true;
    if (backlog !== undefined || this.#turnMark === last) return false;
    this.#backlog = null;
    this.#handler.laneReturned!(this);
    return true;
  }

  /** @internal Runs up to `limit` waiting items; returns whether items still wait. */
  runWaiting(limit: number): boolean {
    const backlog = this.#backlog;
    if (backlog == null) return false;
    const scheduler = this.#scheduler;
    this.#mark = scheduler.run;
    scheduler.armRun();
    this.#used = 0;
    const items = backlog.items;
    // Until the items run out, or the lane closes (its backlog is then `null`).
    while (this.#used < limit && backlog.head < items.length && this.#backlog === backlog) {
      const item = items[backlog.head];
      items[backlog.head++] = undefined as T;
      this.#used++;
      try {
        this.#handler.handleItem(item);
      } catch (error) {
        scheduler.report(error);
      }
    }
    if (this.#backlog !== backlog) return false;
    if (backlog.head < items.length) return true;
    this.#backlog = undefined;
    return false;
  }
}
