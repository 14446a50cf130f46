/**
 * Fairness between connections: each connection's inbound frames run in
 * bounded slices, so one connection's burst cannot hold the event loop while
 * the others' frames wait.
 *
 * @module
 */

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
   * Items one lane runs in a turn before the rest of its items wait for later
   * turns, taken round-robin with the other lanes' waiting items.
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
 * Shares the event loop between lanes (one per connection). A lane runs an
 * item at once while it has slice left in the current turn; after that, and
 * while it has items waiting, new items wait in the lane's bounded backlog.
 * When a lane first has to wait, the scheduler ends the turn at the next
 * macrotask (`setTimeout(0)`), after the runtime has delivered other
 * connections' I/O: every lane's slice starts afresh, up to `slice` waiting
 * items of each waiting lane run, round-robin, and this repeats while items
 * wait. Order is kept within a lane. The scheduler holds a timer only while
 * items wait, so an idle or lightly loaded connection costs no timer.
 *
 * Transports that push frames (a WebSocket's `message` events, which Deno
 * delivers by the tens of thousands from one connection in one turn) use it
 * to bound each connection's share; transports that pull frames can instead
 * `await` a turn when {@linkcode FairLane.push} returns with items waiting.
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
 * console.log(order); // ["a1", "a2", "b1"]: a3 and a4 wait for the next turn
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * console.log(order); // ["a1", "a2", "b1", "a3", "a4"]
 * ```
 */
export class FairScheduler {
  /** Items per lane per turn. */
  readonly slice: number;
  /** @internal The current turn. */
  turn = 0;
  #waiting: FairLane<never>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
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

  /** @internal A lane started waiting. */
  enqueue(lane: FairLane<never>): void {
    this.#waiting.push(lane);
    this.#timer ??= setTimeout(this.#nextTurn, 0);
  }

  /** @internal A lane stopped waiting (closed). */
  dequeue(lane: FairLane<never>): void {
    const i = this.#waiting.indexOf(lane);
    if (i !== -1) this.#waiting.splice(i, 1);
    if (this.#waiting.length === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** @internal Reports an error thrown by a deferred item. */
  report(error: unknown): void {
    this.#onError(error);
  }

  #nextTurn = (): void => {
    this.#timer = undefined;
    this.turn++;
    const lanes = this.#waiting;
    this.#waiting = [];
    for (const lane of lanes) if (lane.runWaiting()) this.#waiting.push(lane);
    if (this.#waiting.length > 0) this.#timer = setTimeout(this.#nextTurn, 0);
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
  #turn = -1;
  #used = 0;
  #backlog: T[] | undefined;
  #head = 0;
  #closed = false;

  /** @internal Use {@linkcode FairScheduler.lane}. */
  constructor(scheduler: FairScheduler, run: (item: T) => void, maxBacklog: number) {
    this.#scheduler = scheduler;
    this.#run = run;
    this.#maxBacklog = maxBacklog;
  }

  /** Items waiting. */
  get backlog(): number {
    return this.#backlog === undefined ? 0 : this.#backlog.length - this.#head;
  }

  /**
   * Runs `item` now if the lane has slice left in this turn and nothing waiting; queues it otherwise.
   *
   * @param item The item.
   * @returns `false` if the backlog is full (the item is dropped; the caller should drop the peer).
   */
  push(item: T): boolean {
    if (this.#closed) return true;
    const scheduler = this.#scheduler;
    if (this.#backlog === undefined) {
      if (this.#turn !== scheduler.turn) {
        this.#turn = scheduler.turn;
        this.#used = 0;
      }
      if (this.#used < scheduler.slice) {
        this.#used++;
        this.#run(item);
        return true;
      }
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

  /** @internal Runs up to a slice of waiting items; returns whether items still wait. */
  runWaiting(): boolean {
    const backlog = this.#backlog;
    if (backlog === undefined || this.#closed) return false;
    const scheduler = this.#scheduler;
    this.#turn = scheduler.turn;
    this.#used = 0;
    while (this.#used < scheduler.slice && this.#head < backlog.length && !this.#closed) {
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
