/**
 * Inbound rate limits of one connection: frames per second and bytes per
 * second, as two token buckets held in the limiter's own fields (the
 * arithmetic of core/bucket_refill.ts, shared with `TokenBucket`).
 *
 * @module
 */

import { checkBucket, NEAR_EXACT_SHARE, performanceNow, refilled } from "./bucket_refill.ts";

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

/**
 * A hub's inbound limits option filled in from `defaults`: a missing rate
 * gets the default rate and burst; a given rate without its burst gets a
 * burst of twice the rate. Does not check the values.
 *
 * @param given The option as the user gave it (`undefined`: the defaults).
 * @param defaults The hub's defaults.
 * @returns Every rate and burst.
 *
 * @example
 * ```ts
 * import { DEFAULT_HUB_INBOUND_LIMITS, inboundLimitsWithDefaults } from "@alkdev/pubsub";
 *
 * const limits = inboundLimitsWithDefaults({ framesPerSecond: 1_000 }, DEFAULT_HUB_INBOUND_LIMITS);
 * console.log(limits.frameBurst, limits.byteBurst); // 2000 16777216
 * ```
 */
export function inboundLimitsWithDefaults(
  given: InboundRateLimits | undefined,
  defaults: Readonly<Required<InboundRateLimits>>,
): Required<InboundRateLimits> {
  const framesPerSecond = given?.framesPerSecond ?? defaults.framesPerSecond;
  const bytesPerSecond = given?.bytesPerSecond ?? defaults.bytesPerSecond;
  return {
    framesPerSecond,
    frameBurst: given?.frameBurst ??
      (given?.framesPerSecond === undefined ? defaults.frameBurst : 2 * framesPerSecond),
    bytesPerSecond,
    byteBurst: given?.byteBurst ?? (given?.bytesPerSecond === undefined ? defaults.byteBurst : 2 * bytesPerSecond),
  };
}

/** A limiter's rates and bursts (a rate of 0: not limited), shared by the limiters made alike. */
interface Rates {
  readonly frameRate: number;
  readonly frameBurst: number;
  readonly byteRate: number;
  readonly byteBurst: number;
  readonly now: () => number;
  /** What they were made from. */
  readonly framesPerSecond: number | undefined;
  readonly frameBurstOption: number | undefined;
  readonly bytesPerSecond: number | undefined;
  readonly byteBurstOption: number | undefined;
  readonly maxFrameBytes: number;
}

/**
 * The last rates made from each limits object: a hub makes every connection's limiter from the same one, so its
 * limiters share one `Rates` and each keeps only its tokens.
 */
const lastRates = new WeakMap<InboundRateLimits, Rates>();

/** The rates of `limits`, shared with the last limiter made alike (the options read again, in case they changed). */
function ratesOf(limits: InboundRateLimits, maxFrameBytes: number, now: () => number): Rates {
  const last = lastRates.get(limits);
  if (
    last !== undefined && last.maxFrameBytes === maxFrameBytes && last.now === now &&
    last.framesPerSecond === limits.framesPerSecond && last.frameBurstOption === limits.frameBurst &&
    last.bytesPerSecond === limits.bytesPerSecond && last.byteBurstOption === limits.byteBurst
  ) return last;
  const fps = limits.framesPerSecond ?? Infinity;
  const bps = limits.bytesPerSecond ?? Infinity;
  let frameRate = 0, frameBurst = 0, byteRate = 0, byteBurst = 0;
  if (Number.isFinite(fps)) {
    frameBurst = limits.frameBurst ?? 2 * fps;
    checkBucket(fps, frameBurst);
    frameRate = fps;
  }
  if (Number.isFinite(bps)) {
    byteBurst = Math.max(limits.byteBurst ?? 2 * bps, maxFrameBytes);
    checkBucket(bps, byteBurst);
    byteRate = bps;
  }
  const rates: Rates = {
    frameRate,
    frameBurst,
    byteRate,
    byteBurst,
    now,
    framesPerSecond: limits.framesPerSecond,
    frameBurstOption: limits.frameBurst,
    bytesPerSecond: limits.bytesPerSecond,
    byteBurstOption: limits.byteBurst,
    maxFrameBytes,
  };
  lastRates.set(limits, rates);
  return rates;
}

/**
 * Two token buckets, frames and bytes, checked for each received frame.
 *
 * Each behaves as `TokenBucket.nearExact`: it reads the clock once
 * per 1/1024 of its burst taken, never grants what an exact bucket would
 * refuse, and refuses at most that share of the burst sooner. The buckets
 * live in the limiter's own fields and are refilled together from one clock
 * reading (a refill is exact at any time, so an extra one only makes the
 * other bucket more exact); the rates are shared by the limiters made from
 * one limits object: a hub keeps one limiter per connection, a small object
 * each.
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
  #rates: Rates;
  #frames: number;
  /** Frames taken without reading the clock since it was last read. */
  #framesTaken = 0;
  #bytes: number;
  /** Bytes taken without reading the clock since it was last read. */
  #bytesTaken = 0;
  /** The clock's last reading, when both buckets were last refilled. */
  #last: number;

  /**
   * Constructs full buckets.
   *
   * @param limits The rates and bursts; a missing or infinite rate is not limited.
   * @param maxFrameBytes The largest frame the connection accepts; the byte burst is raised to it so one frame always fits.
   * @param now The clock in milliseconds. @default {performance.now}
   * @throws {RangeError} If a finite rate, or its burst, is not a positive number.
   */
  constructor(limits: InboundRateLimits, maxFrameBytes = 0, now: () => number = performanceNow) {
    const rates = this.#rates = ratesOf(limits, maxFrameBytes, now);
    this.#frames = rates.frameBurst;
    this.#bytes = rates.byteBurst;
    this.#last = now();
  }

  /**
   * Charges one received frame of `size` bytes.
   *
   * @param size The frame's size in bytes.
   * @returns `undefined` if within both limits, else the limit it broke.
   */
  admit(size: number): InboundRateExceeded | undefined {
    const rates = this.#rates;
    if (rates.frameRate !== 0) {
      if (this.#framesTaken < rates.frameBurst * NEAR_EXACT_SHARE && this.#frames >= 1) {
        this.#frames--;
        this.#framesTaken++;
      } else {
        this.#refill();
        if (this.#frames < 1) return "frames";
        this.#frames--;
      }
    }
    if (rates.byteRate !== 0) {
      if (this.#bytesTaken < rates.byteBurst * NEAR_EXACT_SHARE && this.#bytes >= size) {
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
    const rates = this.#rates;
    const now = rates.now();
    const elapsed = now - this.#last;
    this.#last = now;
    const framesTaken = this.#framesTaken;
    const bytesTaken = this.#bytesTaken;
    this.#framesTaken = this.#bytesTaken = 0;
    if (!(elapsed > 0)) return;
    if (rates.frameRate !== 0) {
      this.#frames = refilled(this.#frames, framesTaken, elapsed, rates.frameRate, rates.frameBurst);
    }
    if (rates.byteRate !== 0) this.#bytes = refilled(this.#bytes, bytesTaken, elapsed, rates.byteRate, rates.byteBurst);
  }
}
