/**
 * Inbound rate limits of one connection: frames per second and bytes per
 * second, as two token buckets (core/token_bucket.ts's algorithm, in the
 * limiter's own fields).
 *
 * @module
 */

/**
 * Inbound rate limits of one connection. A transport that cannot pause
 * reading (a WebSocket) closes a connection over either limit; one that can
 * (a QUIC stream read in a loop) may wait for tokens instead.
 *
 * @example
 * ```ts
 * import type { InboundRateLimits } from "@alkdev/pubsub";
 *
 * const limits: InboundRateLimits = { framesPerSecond: 1000, frameBurst: 2000 };
 * ```
 */
export interface InboundRateLimits {
  /** Frames per second, sustained. `Infinity` for no limit. */
  framesPerSecond?: number;
  /** Frames accepted in one burst. @default {2 × framesPerSecond} */
  frameBurst?: number;
  /** Bytes per second, sustained. `Infinity` for no limit. */
  bytesPerSecond?: number;
  /** Bytes accepted in one burst; never less than the largest frame allowed. @default {2 × bytesPerSecond} */
  byteBurst?: number;
}

/**
 * Which limit a frame broke: `"frames"` or `"bytes"`.
 *
 * @example
 * ```ts
 * import type { InboundRateExceeded } from "@alkdev/pubsub";
 *
 * const which: InboundRateExceeded = "bytes";
 * ```
 */
export type InboundRateExceeded = "frames" | "bytes";

/**
 * The default inbound limits of every hub (WebSocket, Bun and iroh), per
 * connection after its handshake: 25,000 frames/s with bursts of 100,000,
 * and 8 MiB/s with bursts of 16 MiB. A paced library spoke sends up to half
 * the burst at once; a flood is closed within about a second (see
 * docs/architecture/websocket.md, "Limits against abuse").
 *
 * @example
 * ```ts
 * import { DEFAULT_HUB_INBOUND_LIMITS } from "@alkdev/pubsub";
 *
 * console.log(DEFAULT_HUB_INBOUND_LIMITS.framesPerSecond); // 25000
 * ```
 */
export const DEFAULT_HUB_INBOUND_LIMITS: Readonly<Required<InboundRateLimits>> = Object.freeze({
  framesPerSecond: 25_000,
  frameBurst: 100_000,
  bytesPerSecond: 8 * 1024 * 1024,
  byteBurst: 16 * 1024 * 1024,
});

/** The default clock: one function for every limiter. */
const performanceNow = (): number => performance.now();

/** Checks a finite rate and its burst as `TokenBucket`'s constructor does. */
function checkBucket(rate: number, burst: number): void {
  if (!(rate > 0)) throw new RangeError(`Expected the rate to be a positive number, got ${String(rate)}`);
  if (!(burst > 0)) throw new RangeError(`Expected the burst to be a positive number, got ${String(burst)}`);
}

/**
 * Two token buckets, frames and bytes, checked for each received frame.
 *
 * Each behaves as `TokenBucket.nearExact`: it reads the clock once
 * per 1/1024 of its burst taken, never grants what an exact bucket would
 * refuse, and refuses at most that share of the burst sooner. The buckets
 * live in the limiter's own fields and are refilled together from one clock
 * reading (a refill is exact at any time, so an extra one only makes the
 * other bucket more exact): a hub keeps one limiter per connection, one
 * object each.
 *
 * @example
 * ```ts
 * import { InboundRateLimiter } from "@alkdev/pubsub";
 *
 * const limiter = new InboundRateLimiter({ framesPerSecond: 5, frameBurst: 5, bytesPerSecond: 1000 }, 100);
 * const results = [];
 * for (let i = 0; i < 6; i++) results.push(limiter.admit(10));
 * console.log(results); // [undefined, undefined, undefined, undefined, undefined, "frames"]
 * console.log(limiter.admit(5000)); // "bytes"
 * ```
 */
export class InboundRateLimiter {
  /** Frames per second; 0: not limited. */
  #frameRate = 0;
  #frameBurst = 0;
  #frames = 0;
  /** Frames taken without reading the clock since it was last read. */
  #framesTaken = 0;
  /** Bytes per second; 0: not limited. */
  #byteRate = 0;
  #byteBurst = 0;
  #bytes = 0;
  /** Bytes taken without reading the clock since it was last read. */
  #bytesTaken = 0;
  /** The clock's last reading, when both buckets were last refilled. */
  #last: number;
  #now: () => number;

  /**
   * Constructs full buckets.
   *
   * @param limits The rates and bursts; a missing or infinite rate is not limited.
   * @param maxFrameBytes The largest frame the connection accepts; the byte burst is raised to it so one frame always fits.
   * @param now The clock in milliseconds. @default {performance.now}
   * @throws {RangeError} If a finite rate, or its burst, is not a positive number.
   */
  constructor(limits: InboundRateLimits, maxFrameBytes = 0, now: () => number = performanceNow) {
    const fps = limits.framesPerSecond ?? Infinity;
    const bps = limits.bytesPerSecond ?? Infinity;
    if (Number.isFinite(fps)) {
      const burst = limits.frameBurst ?? 2 * fps;
      checkBucket(fps, burst);
      this.#frameRate = fps;
      this.#frames = this.#frameBurst = burst;
    }
    if (Number.isFinite(bps)) {
      const burst = Math.max(limits.byteBurst ?? 2 * bps, maxFrameBytes);
      checkBucket(bps, burst);
      this.#byteRate = bps;
      this.#bytes = this.#byteBurst = burst;
    }
    this.#now = now;
    this.#last = now();
  }

  /**
   * Charges one received frame of `size` bytes.
   *
   * @param size The frame's size in bytes.
   * @returns `undefined` if within both limits, else the limit it broke.
   */
  admit(size: number): InboundRateExceeded | undefined {
    if (this.#frameRate !== 0) {
      if (this.#framesTaken < this.#frameBurst / 1024 && this.#frames >= 1) {
        this.#frames--;
        this.#framesTaken++;
      } else {
        this.#refill();
        if (this.#frames < 1) return "frames";
        this.#frames--;
      }
    }
    if (this.#byteRate !== 0) {
      if (this.#bytesTaken < this.#byteBurst / 1024 && this.#bytes >= size) {
        this.#bytes -= size;
        this.#bytesTaken += size;
      } else {
        this.#refill();
        if (this.#bytes < size) return "bytes";
        this.#bytes -= size;
      }
    }
    return undefined;
  }

  /**
   * Credits both buckets with the time since the last reading, capped at their bursts. What was taken without a
   * reading may have been taken at any time since: it is charged as if taken now, after the cap (never more tokens
   * than an exact bucket), as in `TokenBucket`.
   */
  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#last;
    this.#last = now;
    const framesTaken = this.#framesTaken;
    const bytesTaken = this.#bytesTaken;
    this.#framesTaken = this.#bytesTaken = 0;
    if (!(elapsed > 0)) return;
    if (this.#frameRate !== 0) {
      this.#frames = Math.min(this.#frameBurst, this.#frames + framesTaken + elapsed * this.#frameRate / 1000) -
        framesTaken;
    }
    if (this.#byteRate !== 0) {
      this.#bytes = Math.min(this.#byteBurst, this.#bytes + bytesTaken + elapsed * this.#byteRate / 1000) - bytesTaken;
    }
  }
}
