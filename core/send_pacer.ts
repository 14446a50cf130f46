/**
 * `SendPacer`: a spoke's outgoing events, paced to the inbound limits its hub
 * announced, held in a bounded backlog while they cannot go yet.
 *
 * @module
 */

import type { InboundRateLimits } from "./inbound_rate_limit.ts";
import { TokenBucket } from "./token_bucket.ts";

/**
 * The share of a hub's announced rates a {@linkcode SendPacer} uses: 90%.
 * The rest is headroom for clock drift between the two ends.
 *
 * @example
 * ```ts
 * import { PACING_MARGIN } from "@alkdev/pubsub";
 *
 * console.log(PACING_MARGIN); // 0.9
 * ```
 */
export const PACING_MARGIN = 0.9;

/**
 * The share of a hub's announced bursts a {@linkcode SendPacer} uses: half.
 * The hub counts frames when they arrive, and frames sent over a stretch of
 * time can arrive together (a network or event-loop stall), which the hub's
 * full bucket cannot absorb; the other half absorbs stalls up to
 * `burst / 2 / rate` (a second with the default limits) and the control
 * frames the pacer does not hold back.
 *
 * @example
 * ```ts
 * import { PACING_BURST_SHARE } from "@alkdev/pubsub";
 *
 * console.log(PACING_BURST_SHARE); // 0.5
 * ```
 */
export const PACING_BURST_SHARE = 0.5;

/** How often a pacer held back by the transport's own send budget looks again, in ms. */
const BUDGET_POLL = 2;

/**
 * What a {@linkcode SendPacer} needs from its transport.
 *
 * @typeParam F The frame type.
 *
 * @example
 * ```ts
 * import type { SendPacerOptions } from "@alkdev/pubsub";
 *
 * const options: SendPacerOptions<string> = {
 *   size: (frame) => frame.length,
 *   transmit: (frame) => console.log("send", frame),
 *   maxFrames: 1024,
 *   maxBytes: 1024 * 1024,
 * };
 * ```
 */
export interface SendPacerOptions<F> {
  /** The frame's size as the hub's inbound limits count it. */
  size(frame: F): number;
  /**
   * Hands a frame to the transport. The transport charges every frame it
   * writes, paced or not, with {@linkcode SendPacer.charge}.
   */
  transmit(frame: F): void;
  /** Whether the transport can take a frame of `size` now (open, within its own send budget). @default {always} */
  ready?(size: number): boolean;
  /** The most frames held. */
  maxFrames: number;
  /** The most bytes (as `size` counts them) held. */
  maxBytes: number;
  /**
   * Frames were dropped, oldest first, because the backlog was full;
   * `first` is `true` for the first drop since the backlog last drained
   * (report once per overflow).
   */
  onDrop?(count: number, first: boolean): void;
  /** The backlog emptied. */
  onDrain?(): void;
}

/**
 * Sends frames no faster than a peer's inbound limits allow
 * ({@linkcode PACING_MARGIN} of its announced rates and
 * {@linkcode PACING_BURST_SHARE} of its bursts, as two
 * {@linkcode TokenBucket}s) and no faster than the transport takes them
 * (`ready`), holding the rest in order in a bounded backlog: past
 * `maxFrames` or `maxBytes` the oldest held frames are dropped and
 * reported through `onDrop`. A frame goes at once when nothing is held and
 * the buckets and the transport allow it; otherwise one timer runs while
 * frames are held (until the buckets refill, or {@linkcode BUDGET_POLL} ms
 * while the transport is full), and none while the backlog is empty.
 * While paused (disconnected) it only holds.
 *
 * @typeParam F The frame type.
 *
 * @example A hub taking ten frames a second, bursts of twenty: the eleventh waits
 * ```ts
 * import { SendPacer } from "@alkdev/pubsub";
 *
 * const sent: number[] = [];
 * const pacer: SendPacer<number> = new SendPacer<number>({
 *   size: () => 1,
 *   transmit: (n) => (sent.push(n), pacer.charge(1)),
 *   maxFrames: 100,
 *   maxBytes: 100,
 * });
 * pacer.limits({ framesPerSecond: 10, frameBurst: 20 }); // paced to 9/s, bursts of 10
 * pacer.resume();
 * for (let i = 0; i < 12; i++) pacer.push(i);
 * console.log(sent.length, pacer.length); // 10 2
 * pacer.close();
 * ```
 */
export class SendPacer<F> {
  #options: SendPacerOptions<F>;
  #frames: TokenBucket | undefined;
  #bytes: TokenBucket | undefined;
  #queue: F[] = [];
  #head = 0;
  #heldBytes = 0;
  #paused = true;
  #overflowing = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Constructs a paused pacer without limits.
   *
   * @param options The transport's callbacks and the backlog's bounds.
   */
  constructor(options: SendPacerOptions<F>) {
    this.#options = options;
  }

  /** Frames held. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Bytes held (as `size` counts them). */
  get bytes(): number {
    return this.#heldBytes;
  }

  /**
   * Sets the peer's inbound limits (from its welcome); `undefined` paces
   * only to the transport. The buckets start full.
   *
   * @param limits The announced limits.
   */
  limits(limits: InboundRateLimits | undefined): void {
    this.#frames = bucket(limits?.framesPerSecond, limits?.frameBurst);
    this.#bytes = bucket(limits?.bytesPerSecond, limits?.byteBurst);
  }

  /**
   * Counts a frame the transport wrote (paced or not) against the limits.
   *
   * @param size Its size as `size` counts it.
   */
  charge(size: number): void {
    this.#frames?.spend(1);
    this.#bytes?.spend(size);
  }

  /**
   * Sends `frame` now if nothing is held and the limits and the transport
   * allow; holds it otherwise.
   *
   * @param frame The frame.
   */
  push(frame: F): void {
    if (this.#closed) return;
    const size = this.#options.size(frame);
    if (this.length === 0 && !this.#paused && this.#wait(size) === 0) {
      this.#options.transmit(frame);
      return;
    }
    this.#queue.push(frame);
    this.#heldBytes += size;
    let dropped = 0;
    while (this.length > 1 && (this.length > this.#options.maxFrames || this.#heldBytes > this.#options.maxBytes)) {
      this.#heldBytes -= this.#options.size(this.#queue[this.#head]);
      this.#queue[this.#head++] = undefined as F;
      dropped++;
    }
    if (dropped > 0) {
      this.#options.onDrop?.(dropped, !this.#overflowing);
      this.#overflowing = true;
    }
    if (!this.#paused) this.#schedule(0);
  }

  /** Stops sending (the transport closed); frames are held until {@linkcode SendPacer.resume}. */
  pause(): void {
    this.#paused = true;
    this.#cancel();
  }

  /** Sends what is held, paced, from now on. */
  resume(): void {
    if (this.#closed) return;
    this.#paused = false;
    this.flush();
  }

  /** Sends as much of the backlog as the limits and the transport allow now, and schedules the rest. */
  flush(): void {
    this.#cancel();
    if (this.#paused || this.#closed) return;
    const queue = this.#queue;
    const held = this.length;
    let wait = 0;
    while (this.#head < queue.length && !this.#paused) {
      const frame = queue[this.#head];
      const size = this.#options.size(frame);
      wait = this.#wait(size);
      if (wait > 0) break;
      queue[this.#head++] = undefined as F;
      this.#heldBytes -= size;
      this.#options.transmit(frame);
    }
    if (this.#queue !== queue || this.#closed) return;
    if (this.#head < queue.length) {
      if (this.#head > 1024 && this.#head * 2 > queue.length) {
        this.#queue = queue.slice(this.#head);
        this.#head = 0;
      }
      if (!this.#paused) this.#schedule(wait);
      return;
    }
    this.#queue = [];
    this.#head = 0;
    this.#heldBytes = 0;
    this.#overflowing = false;
    if (held > 0) this.#options.onDrain?.();
  }

  /**
   * Drops the backlog and stops the timer. Idempotent.
   *
   * @returns How many frames were still held.
   */
  close(): number {
    const held = this.length;
    this.#closed = true;
    this.#cancel();
    this.#queue = [];
    this.#head = 0;
    this.#heldBytes = 0;
    return held;
  }

  /** Milliseconds until a frame of `size` may go: 0 now. */
  #wait(size: number): number {
    const ready = this.#options.ready;
    if (ready !== undefined && !ready(size)) return BUDGET_POLL;
    const frames = this.#frames?.waitFor(1) ?? 0;
    const bytes = this.#bytes === undefined ? 0 : this.#bytes.waitFor(Math.min(size, this.#bytes.burst));
    return Math.max(frames, bytes);
  }

  #schedule(wait: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, Math.max(1, Math.ceil(wait)));
  }

  #cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The inbound limits a hub announced in its welcome (`info.limits`), if
 * they are well-formed: an object whose present fields are positive numbers.
 *
 * @param value The welcome's `limits` field.
 * @returns The limits, or `undefined` (no limits known).
 *
 * @example
 * ```ts
 * import { parseAnnouncedLimits } from "@alkdev/pubsub";
 *
 * console.log(parseAnnouncedLimits({ framesPerSecond: 10000, frameBurst: 20000 })?.frameBurst); // 20000
 * console.log(parseAnnouncedLimits("fast")); // undefined
 * ```
 */
export function parseAnnouncedLimits(value: unknown): InboundRateLimits | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const limits: InboundRateLimits = {};
  for (const key of ["framesPerSecond", "frameBurst", "bytesPerSecond", "byteBurst"] as const) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    if (typeof field !== "number" || !(field > 0)) return undefined;
    limits[key] = field;
  }
  return limits;
}

function bucket(rate: number | undefined, burst: number | undefined): TokenBucket | undefined {
  if (rate === undefined || !Number.isFinite(rate)) return undefined;
  const capacity = Math.max(1, Math.floor((burst ?? 2 * rate) * PACING_BURST_SHARE));
  // Near-exact (one clock reading per thousandth of the burst): never sends sooner than an exact bucket would.
  return TokenBucket.nearExact(rate * PACING_MARGIN, capacity);
}

/**
 * The inbound limits a hub announces in its welcome (`info.limits`): the
 * finite rates with their effective bursts (the burst defaults of
 * {@linkcode InboundRateLimits} applied, the byte burst raised to the
 * largest frame accepted); `undefined` when nothing is limited.
 *
 * @param limits The hub's inbound limits, or `undefined` for none.
 * @param maxFrameBytes The largest frame the hub accepts. @default {0}
 * @returns The JSON-safe limits, or `undefined`.
 *
 * @example
 * ```ts
 * import { announcedLimits } from "@alkdev/pubsub";
 *
 * console.log(announcedLimits({ framesPerSecond: 100 })); // { framesPerSecond: 100, frameBurst: 200 }
 * ```
 */
export function announcedLimits(
  limits: InboundRateLimits | undefined,
  maxFrameBytes = 0,
): InboundRateLimits | undefined {
  if (limits === undefined) return undefined;
  const out: InboundRateLimits = {};
  const fps = limits.framesPerSecond;
  if (fps !== undefined && Number.isFinite(fps)) {
    out.framesPerSecond = fps;
    out.frameBurst = limits.frameBurst ?? 2 * fps;
  }
  const bps = limits.bytesPerSecond;
  if (bps !== undefined && Number.isFinite(bps)) {
    out.bytesPerSecond = bps;
    out.byteBurst = Math.max(limits.byteBurst ?? 2 * bps, maxFrameBytes);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
