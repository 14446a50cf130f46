/**
 * The Redis target's streams mode: every publish is numbered and kept in a
 * Redis Stream per topic (bounded by `MAXLEN ~` and, by age, `MINID ~`) and
 * announced on the topic's pub/sub channel with its position, in one Lua
 * script; `history()` reads a topic's stream back. Several hub processes over
 * one Redis so agree on every offset and epoch, and a spoke that fails over
 * recovers from any of them. See docs/architecture/redis.md#streams-mode.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Codec } from "../../core/envelope.ts";
import { toEnvelope } from "../../core/envelope.ts";
import { EnvelopeError } from "../../core/errors.ts";
import { type HistoryRecovery, newEpoch, type StreamPosition } from "../../core/topic_history.ts";
import type { EventEnvelope } from "../../core/types.ts";

/**
 * Options of the streams mode (`streams` in the Redis target's options).
 *
 * @example
 * ```ts
 * import type { RedisStreamsOptions } from "@alkdev/pubsub/redis";
 *
 * const streams: RedisStreamsOptions = { maxLen: 1000, ttl: 300_000 };
 * ```
 */
export interface RedisStreamsOptions {
  /**
   * About how many events each topic's stream keeps (`XADD … MAXLEN ~`;
   * Redis may keep a few more, never fewer). Also the most events one
   * resubscribe replays.
   *
   * @default {1000}
   */
  maxLen?: number;
  /**
   * How long events are kept, in milliseconds (`XTRIM … MINID ~`, and older
   * entries are never replayed); an idle stream key expires after it.
   *
   * @default {120000}
   */
  ttl?: number;
}

const DEFAULT_MAX_LEN = 1000;
const DEFAULT_TTL = 120_000;
/** How long a topic's epoch and counter outlive its last publish, at least: a day. */
const MIN_META_TTL = 86_400_000;

/** Lua: the topic's epoch `e`, set to the candidate `ARGV[i]` (and its stream emptied) if it has none. */
const EPOCH = (i: number) => `
local e = redis.call('HGET', KEYS[2], 'e')
if not e then
  e = ARGV[${i}]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', e, 'n', 0)
end`;

// KEYS: stream, meta. ARGV: message, maxLen, ttl, metaTtl, candidate epoch, channel.
const PUBLISH_SCRIPT = `${EPOCH(5)}
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'n', n, 'd', ARGV[1])
redis.call('XTRIM', KEYS[1], 'MINID', '~', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return redis.call('PUBLISH', ARGV[6], e .. ' ' .. n .. ' ' .. ARGV[1])
`;

// KEYS: stream, meta. ARGV: candidate epoch, metaTtl, count. Returns epoch, top offset, now (ms), newest entries.
const HISTORY_SCRIPT = `${EPOCH(1)}
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local n = redis.call('HGET', KEYS[2], 'n')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[3])
local entries = {}
if count > 0 then entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', count) end
return {e, n, tostring(now), entries}
`;

/**
 * What the streams mode needs of the publish client (an ioredis `Redis` has both).
 *
 * @example
 * ```ts
 * import type { ScriptClient } from "@alkdev/pubsub/redis";
 *
 * const client: ScriptClient = { eval: () => Promise.resolve(1), evalsha: () => Promise.resolve(1) };
 * ```
 */
export interface ScriptClient {
  /** EVALSHA. */
  evalsha?(sha: string, numKeys: number, ...args: (string | number | Uint8Array)[]): Promise<unknown>;
  /** EVAL. */
  eval?(script: string, numKeys: number, ...args: (string | number | Uint8Array)[]): Promise<unknown>;
}

/** The streams machinery of one Redis target. */
export class RedisStreams {
  readonly maxLen: number;
  readonly ttl: number;
  readonly #metaTtl: number;
  readonly #client: ScriptClient;
  readonly #prefix: string;
  readonly #codec: Codec;

  constructor(client: ScriptClient, prefix: string, codec: Codec, options: RedisStreamsOptions) {
    if (typeof client.evalsha !== "function" || typeof client.eval !== "function") {
      throw new TypeError("Cannot use Redis streams: the publish client has no eval/evalsha");
    }
    this.maxLen = positiveInteger("maxLen", options.maxLen ?? DEFAULT_MAX_LEN);
    this.ttl = positiveInteger("ttl", options.ttl ?? DEFAULT_TTL);
    this.#metaTtl = Math.max(this.ttl, MIN_META_TTL);
    this.#client = client;
    this.#prefix = prefix;
    this.#codec = codec;
  }

  /** The stream key and the meta key (epoch, counter) of a topic, in one hash slot. */
  keys(topic: string): [string, string] {
    return [`${this.#prefix}{${topic}}:stream`, `${this.#prefix}{${topic}}:meta`];
  }

  /** Whether the publish script is known to be loaded (EVALSHA succeeded): publishes may then be pipelined. */
  loaded = false;

  /** XADDs and PUBLISHes one event; resolves to PUBLISH's receiver count. */
  async publish(topic: string, channel: string, message: string | Uint8Array): Promise<number> {
    const [, numKeys, ...rest] = this.command(topic, channel, message);
    const result = await this.#run(PUBLISH_SCRIPT, rest.slice(0, numKeys) as string[], rest.slice(numKeys));
    this.loaded = true;
    return result as number;
  }

  /** The EVALSHA arguments of one publish, for a pipeline. */
  command(
    topic: string,
    channel: string,
    message: string | Uint8Array,
  ): [string, number, ...(string | number | Uint8Array)[]] {
    const [stream, meta] = this.keys(topic);
    return [sha1(PUBLISH_SCRIPT), 2, stream, meta, message, this.maxLen, this.ttl, this.#metaTtl, newEpoch(), channel];
  }

  /** What a reader at `since` missed of `topic`, from its stream. */
  async history(topic: string, since: StreamPosition | undefined): Promise<HistoryRecovery<EventEnvelope>> {
    // Only as many entries as are needed, and at most maxLen (older ones count as lost).
    const [epochBefore, topBefore] = [since?.epoch, since?.offset ?? 0];
    const reply = await this.#run(HISTORY_SCRIPT, this.keys(topic), [
      newEpoch(),
      this.#metaTtl,
      since === undefined ? 0 : this.maxLen,
    ]) as [string, string, string, [string, string[]][]];
    const epoch = String(reply[0]);
    const top = Number(reply[1]);
    const now = Number(reply[2]);
    if (since === undefined) return { epoch, from: top, entries: [] };
    if (epochBefore !== epoch || topBefore > top) return { epoch, from: top, entries: [], missed: null };
    const oldest = now - this.ttl;
    const entries: { offset: number; value: EventEnvelope }[] = [];
    for (let i = reply[3].length - 1; i >= 0; i--) {
      const [id, fields] = reply[3][i];
      const offset = Number(field(fields, "n"));
      if (!(offset > topBefore) || Number(String(id).split("-")[0]) < oldest) continue;
      entries.push({ offset, value: this.#decode(field(fields, "d"), topic) });
    }
    // The kept entries are the newest ones, contiguous up to the top.
    const from = entries.length === 0 ? top : entries[0].offset - 1;
    const recovery: HistoryRecovery<EventEnvelope> = { epoch, from, entries };
    if (from > topBefore) recovery.missed = from - topBefore;
    return recovery;
  }

  /**
   * Splits a live message (`"<epoch> <offset> <encoded envelope>"`) into its
   * position and encoded envelope; `undefined` if it is not one.
   */
  parseLive(data: string | Uint8Array): { position: StreamPosition; data: string | Uint8Array } | undefined {
    if (typeof data === "string") {
      const first = data.indexOf(" ");
      const second = first < 1 ? -1 : data.indexOf(" ", first + 1);
      if (second < 0) return undefined;
      const offset = Number(data.slice(first + 1, second));
      if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
      return { position: { epoch: data.slice(0, first), offset }, data: data.slice(second + 1) };
    }
    const first = data.indexOf(0x20);
    const second = first < 1 ? -1 : data.indexOf(0x20, first + 1);
    if (second < 0) return undefined;
    const text = new TextDecoder().decode(data.subarray(0, second));
    const offset = Number(text.slice(first + 1));
    if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
    return { position: { epoch: text.slice(0, first), offset }, data: data.subarray(second + 1) };
  }

  #decode(data: string, topic: string): EventEnvelope {
    let value: unknown;
    try {
      value = this.#codec.decode(data);
    } catch (cause) {
      throw new EnvelopeError(`Cannot decode an entry of the Redis stream of ${JSON.stringify(topic)}`, { cause });
    }
    return toEnvelope(value);
  }

  async #run(script: string, keys: string[], args: (string | number | Uint8Array)[]): Promise<unknown> {
    const client = this.#client;
    try {
      return await client.evalsha!(sha1(script), keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      return await client.eval!(script, keys.length, ...keys, ...args);
    }
  }
}

const shas = new Map<string, string>();

function sha1(script: string): string {
  let sha = shas.get(script);
  if (sha === undefined) shas.set(script, sha = createHash("sha1").update(script).digest("hex"));
  return sha;
}

function field(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (String(fields[i]) === name) return String(fields[i + 1]);
  return "";
}

function positiveInteger(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`Expected streams.${name} to be a positive integer, got ${String(value)}`);
  }
  return value;
}
