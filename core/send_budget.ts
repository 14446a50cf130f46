/**
 * The memory budget of one connection's outgoing queue, counted the way a
 * runtime really pays for it: payload bytes plus a fixed overhead per frame
 * still in flight.
 *
 * @module
 */

/**
 * The default per-frame overhead, in bytes, charged for each frame handed to
 * a transport and not yet written to the network. Measured on Deno 2.9: each
 * queued `WebSocket.send` holds about 850–920 bytes besides its payload
 * (a spawned write task and its frame), so an 8-byte `["pong"]` really costs
 * about 1 KiB while it waits.
 *
 * @example
 * ```ts
 * import { DEFAULT_FRAME_OVERHEAD } from "@alkdev/pubsub";
 *
 * console.log(DEFAULT_FRAME_OVERHEAD); // 1024
 * ```
 */
export const DEFAULT_FRAME_OVERHEAD = 1024;

/**
 * Options of a {@linkcode SendBudget}.
 *
 * @example
 * ```ts
 * import type { SendBudgetOptions } from "@alkdev/pubsub";
 *
 * const options: SendBudgetOptions = { limit: 8 * 1024 * 1024, frameOverhead: 1024 };
 * ```
 */
export interface SendBudgetOptions {
  /** The most bytes (payload plus overhead) allowed in flight. Can be changed later (`budget.limit`). */
  limit: number;
  /**
   * Bytes charged per frame in flight on top of its payload.
   *
   * @default {1024}
   */
  frameOverhead?: number;
}

/**
 * Counts what one connection's unsent frames cost: `bytes + frames × frameOverhead`,
 * and says whether one more frame fits under `limit`. Transport-neutral; it
 * learns which frames have left in one of two ways:
 *
 * - a transport whose writes report completion (a QUIC stream's `write`
 *   promise) calls {@linkcode SendBudget.release} as each write settles,
 *   oldest first;
 * - a transport that only exposes a count of queued bytes (a WebSocket's
 *   `bufferedAmount`) calls {@linkcode SendBudget.observe} with it before
 *   a send: every frame whose bytes must have left is released. Observing
 *   only releases, so a frame that {@linkcode SendBudget.fits} without it
 *   fits after it too: a transport whose count is costly to read (Deno's
 *   `bufferedAmount` calls into the runtime) reads it only when a frame
 *   does not fit without it. The count
 *   may include framing bytes or count UTF-8 where the budget counted UTF-16
 *   units; the budget then over-counts frames in flight by at most that
 *   difference in the bytes still queued, never under-counts, and is exact
 *   again whenever the queue empties.
 *
 * Frames in flight are remembered as cumulative byte offsets: the newest
 * one's end is the bytes charged so far, the older ones' ends wait in an
 * array, created only while two or more are in flight. A transport whose
 * queue empties between sends (Node's `ws` writing to a reading peer) thus
 * allocates nothing per frame, and an idle budget holds no array (a budget
 * is six fields: a hub has one per connection).
 *
 * @example A WebSocket-style transport
 * ```ts
 * import { SendBudget } from "@alkdev/pubsub";
 *
 * const budget = new SendBudget({ limit: 4096, frameOverhead: 1024 });
 * let queued = 0; // stands for socket.bufferedAmount
 * const sent: boolean[] = [];
 * for (let i = 0; i < 5; i++) {
 *   budget.observe(queued);
 *   const fits = budget.fits(100);
 *   if (fits) {
 *     budget.charge(100);
 *     queued += 100;
 *   }
 *   sent.push(fits);
 * }
 * console.log(sent, budget.frames, budget.cost); // [true, true, true, false, false] 3 3372
 * queued = 0; // the socket flushed everything
 * budget.observe(queued);
 * console.log(budget.frames, budget.cost); // 0 0
 * ```
 */
export class SendBudget {
  /** The most bytes (payload plus overhead) allowed in flight. */
  limit: number;
  /** Bytes charged per frame in flight on top of its payload. */
  readonly frameOverhead: number;
  /** Frames in flight. */
  #frames = 0;
  /** The ends of the frames in flight but the newest (which ends at `#charged`), oldest first, from `head`. */
  #older: { ends: number[]; head: number } | undefined;
  /** Bytes charged since the start. */
  #charged = 0;
  /** Bytes known to have left. */
  #released = 0;

  /**
   * Constructs an empty budget.
   *
   * @param options The limit and the per-frame overhead.
   * @throws {RangeError} If `limit` is not positive or `frameOverhead` is negative.
   */
  constructor(options: SendBudgetOptions) {
    if (!(options.limit > 0)) throw new RangeError(`Expected limit to be a positive number, got ${options.limit}`);
    const overhead = options.frameOverhead ?? DEFAULT_FRAME_OVERHEAD;
    if (!(overhead >= 0)) {
      throw new RangeError(`Expected frameOverhead to be a non-negative number, got ${overhead}`);
    }
    this.limit = options.limit;
    this.frameOverhead = overhead;
  }

  /** Frames in flight. */
  get frames(): number {
    return this.#frames;
  }

  /** Payload bytes in flight. */
  get bytes(): number {
    return this.#charged - this.#released;
  }

  /** What the frames in flight cost: `bytes + frames × frameOverhead`. */
  get cost(): number {
    return this.bytes + this.frames * this.frameOverhead;
  }

  /**
   * Whether a frame of `size` payload bytes fits: `cost + size + frameOverhead <= limit`.
   *
   * @param size The frame's payload bytes.
   * @returns `true` if it may be sent.
   */
  fits(size: number): boolean {
    return this.cost + size + this.frameOverhead <= this.limit;
  }

  /**
   * Counts a frame handed to the transport.
   *
   * @param size The frame's payload bytes (or the same estimate the transport's queue counter uses).
   * @returns A ticket for {@linkcode SendBudget.settled}.
   */
  charge(size: number): number {
    if (this.#frames > 0) {
      // The newest frame in flight is no longer the newest: its end joins the older ones'.
      if (this.#older === undefined) this.#older = { ends: [this.#charged], head: 0 };
      else this.#older.ends.push(this.#charged);
    }
    this.#frames++;
    return this.#charged += size;
  }

  /**
   * Releases the `count` oldest frames in flight (their writes completed).
   *
   * @param count Frames to release. @default {1}
   */
  release(count = 1): void {
    if (!(count > 0) || this.#frames === 0) return;
    if (count >= this.#frames) {
      this.#empty();
      return;
    }
    // Fewer than all: the released frames are all older than the newest, so their ends are in the array.
    const older = this.#older!;
    this.#frames -= count;
    older.head += count;
    this.#released = older.ends[older.head - 1];
    this.#compact(older);
  }

  /**
   * Releases every frame that must have left, given the bytes the transport
   * still holds queued (e.g. a WebSocket's `bufferedAmount`).
   *
   * @param queuedBytes The transport's count of bytes not yet written.
   */
  observe(queuedBytes: number): void {
    if (this.#frames === 0) return;
    if (queuedBytes <= 0) {
      this.#empty();
      return;
    }
    // Some bytes are still queued, so the newest frame has not left; older ones may have.
    const older = this.#older;
    if (older === undefined) return;
    const { ends } = older;
    const left = this.#charged - queuedBytes;
    let head = older.head;
    while (head < ends.length && ends[head] <= left) head++;
    if (head === older.head) return;
    this.#released = ends[head - 1];
    this.#frames -= head - older.head;
    older.head = head;
    this.#compact(older);
  }

  /**
   * Whether the frame with `ticket` (from {@linkcode SendBudget.charge}) has left.
   *
   * @param ticket The ticket.
   * @returns `true` once released.
   */
  settled(ticket: number): boolean {
    return ticket <= this.#released;
  }

  /** Every frame in flight has left. */
  #empty(): void {
    this.#released = this.#charged;
    this.#frames = 0;
    this.#older = undefined;
  }

  /** Drops the array once only the newest frame is in flight, or its released start once that is most of it. */
  #compact(older: { ends: number[]; head: number }): void {
    const { ends, head } = older;
    if (head === ends.length) this.#older = undefined;
    else if (head > 1024 && head * 2 > ends.length) {
      older.ends = ends.slice(head);
      older.head = 0;
    }
  }
}
