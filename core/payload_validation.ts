/**
 * Payload validation with Standard Schema: the error an invalid payload
 * raises, the event map inferred from schemas, and the machinery that
 * `createPubSub` and `HubRouter` share: one validation per event, results
 * released in arrival order per key (a topic, a connection) whether the
 * schema answers at once or asynchronously, and a throwing schema treated as
 * an invalid payload.
 *
 * @module
 */

import { PubSubError } from "./errors.ts";
import type {
  InferSchemaOutput,
  StandardSchemaIssue,
  StandardSchemaResult,
  StandardSchemaV1,
} from "./standard_schema.ts";
import type { EventEnvelope } from "./types.ts";

/**
 * Schemas by event type: what `createPubSub({ schemas })` and the hubs'
 * `schemas` option take. Any Standard Schema v1 implementation works (zod,
 * valibot, arktype, …). Event types without a schema are not validated.
 *
 * @example
 * ```ts
 * import type { PubSubSchemas, StandardSchemaV1 } from "@alkdev/pubsub";
 *
 * declare const progress: StandardSchemaV1<{ percent: number }>;
 * const schemas: PubSubSchemas = { "job.progress": progress };
 * ```
 */
export type PubSubSchemas = { readonly [type: string]: StandardSchemaV1 };

/**
 * The event map inferred from schemas: each event type's payload is its
 * schema's output type (what subscribers receive).
 *
 * @typeParam S The schemas.
 *
 * @example
 * ```ts
 * import type { SchemaEventMap, StandardSchemaV1 } from "@alkdev/pubsub";
 *
 * type Events = SchemaEventMap<{ "job.progress": StandardSchemaV1<{ percent: number }> }>;
 * const event: Events["job.progress"] = { percent: 50 };
 * ```
 */
export type SchemaEventMap<S extends PubSubSchemas> = { -readonly [K in keyof S & string]: InferSchemaOutput<S[K]> };

/**
 * Schemas for an explicit event map: each one, if given, must output its
 * event's payload type.
 *
 * @typeParam M The event map.
 *
 * @example
 * ```ts
 * import type { SchemasFor, StandardSchemaV1 } from "@alkdev/pubsub";
 *
 * declare const percent: StandardSchemaV1<number>;
 * const schemas: SchemasFor<{ "job.progress": number; other: string }> = { "job.progress": percent };
 * ```
 */
export type SchemasFor<M> = { readonly [K in keyof M]?: StandardSchemaV1<unknown, M[K]> };

/**
 * One issue of a {@linkcode PayloadValidationError}: the schema's message and
 * where in the payload, as property keys from the root (`[]` for the payload
 * itself).
 *
 * @example
 * ```ts
 * import type { PayloadIssue } from "@alkdev/pubsub";
 *
 * const issue: PayloadIssue = { message: "Expected number, received string", path: ["percent"] };
 * ```
 */
export interface PayloadIssue {
  /** The schema's message (at most {@linkcode MAX_ISSUE_MESSAGE} characters). */
  readonly message: string;
  /** Where, from the payload's root. */
  readonly path: readonly PropertyKey[];
}

/**
 * The most issues a {@linkcode PayloadValidationError} keeps.
 *
 * @example
 * ```ts
 * import { MAX_PAYLOAD_ISSUES } from "@alkdev/pubsub";
 *
 * console.log(MAX_PAYLOAD_ISSUES); // 32
 * ```
 */
export const MAX_PAYLOAD_ISSUES = 32;

/**
 * The longest issue message kept, in UTF-16 code units; a longer one is cut
 * and ends with `…`.
 *
 * @example
 * ```ts
 * import { MAX_ISSUE_MESSAGE } from "@alkdev/pubsub";
 *
 * console.log(MAX_ISSUE_MESSAGE); // 200
 * ```
 */
export const MAX_ISSUE_MESSAGE = 200;

/**
 * The longest payload preview a {@linkcode PayloadValidationError} carries,
 * in UTF-16 code units; a longer one is cut and ends with `…`.
 *
 * @example
 * ```ts
 * import { MAX_PAYLOAD_PREVIEW } from "@alkdev/pubsub";
 *
 * console.log(MAX_PAYLOAD_PREVIEW); // 120
 * ```
 */
export const MAX_PAYLOAD_PREVIEW = 120;

/**
 * A payload that arrived from elsewhere (through a transport, or from a hub's
 * connection) failed its event type's schema, or the schema threw. The event
 * was dropped: no subscriber received it. Reported through the pub/sub's or
 * the hub's error channel; other events keep flowing.
 *
 * @example
 * ```ts
 * import { PayloadValidationError } from "@alkdev/pubsub";
 *
 * const error = new PayloadValidationError("job.progress:1", [{ message: "Expected number", path: ["percent"] }], '{"percent":"lol"}');
 * console.log(error.code, error.message); // "ERR_INVALID_PAYLOAD" 'Invalid payload for "job.progress:1": percent: Expected number'
 * ```
 */
export class PayloadValidationError extends PubSubError {
  /** The topic of the dropped event. */
  readonly topic: string;
  /** What the schema found (at most {@linkcode MAX_PAYLOAD_ISSUES}). */
  readonly issues: readonly PayloadIssue[];
  /** The payload as JSON, cut to {@linkcode MAX_PAYLOAD_PREVIEW} characters. */
  readonly preview: string;

  /**
   * Constructs a new instance.
   *
   * @param topic The topic of the dropped event.
   * @param issues What the schema found.
   * @param preview A bounded preview of the payload.
   * @param options The cause (what a throwing schema threw), if any.
   */
  constructor(topic: string, issues: readonly PayloadIssue[], preview: string, options?: ErrorOptions) {
    const shown = issues.slice(0, 3).map((issue) =>
      issue.path.length === 0 ? issue.message : `${issue.path.map(String).join(".")}: ${issue.message}`
    );
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
    const what = shown.length === 0 ? "the schema found issues it did not name" : shown.join("; ");
    super("ERR_INVALID_PAYLOAD", `Invalid payload for ${JSON.stringify(topic)}: ${what}${more}`, options);
    this.name = "PayloadValidationError";
    this.topic = topic;
    this.issues = issues;
    this.preview = preview;
  }
}

/**
 * What a validation gives: the schema's output, or the error.
 *
 * @example
 * ```ts ignore
 * const checked: Checked = { value: 1 };
 * ```
 */
export type Checked = { readonly value: unknown } | PubSubError;

/**
 * Validates `payload` with `schema`, at once when the schema answers at once.
 * Never throws: a schema that throws, rejects or returns no result gives a
 * {@linkcode PayloadValidationError} (its `cause` what was thrown).
 *
 * @param schema The schema.
 * @param topic The event's topic, for the error.
 * @param payload The payload.
 * @returns The output or the error, or a promise of one.
 *
 * @example
 * ```ts ignore
 * const checked = checkPayload(schema, "job.progress:1", { percent: 1 });
 * ```
 */
export function checkPayload(
  schema: StandardSchemaV1,
  topic: string,
  payload: unknown,
): Checked | Promise<Checked> {
  let result: StandardSchemaResult<unknown> | Promise<StandardSchemaResult<unknown>>;
  try {
    result = schema["~standard"].validate(payload);
  } catch (cause) {
    return thrown(topic, payload, cause);
  }
  if (result !== null && typeof (result as Promise<unknown>)?.then === "function") {
    return Promise.resolve(result).then(
      (settled) => toChecked(topic, payload, settled),
      (cause) => thrown(topic, payload, cause),
    );
  }
  return toChecked(topic, payload, result as StandardSchemaResult<unknown>);
}

function toChecked(topic: string, payload: unknown, result: StandardSchemaResult<unknown>): Checked {
  if (result === null || typeof result !== "object") {
    return new PayloadValidationError(
      topic,
      [{ message: "The schema returned no result", path: [] }],
      preview(payload),
    );
  }
  if (result.issues === undefined) return result;
  const issues = Array.isArray(result.issues) ? result.issues : [];
  return new PayloadValidationError(
    topic,
    issues.slice(0, MAX_PAYLOAD_ISSUES).map(toIssue),
    preview(payload),
  );
}

function thrown(topic: string, payload: unknown, cause: unknown): PayloadValidationError {
  const message = cut(`The schema threw: ${cause instanceof Error ? cause.message : String(cause)}`, MAX_ISSUE_MESSAGE);
  return new PayloadValidationError(topic, [{ message, path: [] }], preview(payload), { cause });
}

function toIssue(issue: StandardSchemaIssue): PayloadIssue {
  const message = typeof issue?.message === "string" ? cut(issue.message, MAX_ISSUE_MESSAGE) : "Invalid";
  const path = Array.isArray(issue?.path)
    ? issue.path.map((segment) => typeof segment === "object" && segment !== null ? segment.key : segment)
    : [];
  return { message, path };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function preview(payload: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch {
    // a cycle or a bigint
  }
  return cut(text ?? String(typeof payload), MAX_PAYLOAD_PREVIEW);
}

/**
 * The `schemas` option of every hub (`HubRouter`, and through it the
 * WebSocket and iroh hubs).
 *
 * @example
 * ```ts
 * import type { HubSchemaOptions } from "@alkdev/pubsub";
 * import { z } from "zod";
 *
 * const options: HubSchemaOptions = { schemas: { "job.progress": z.object({ percent: z.number() }) } };
 * ```
 */
export interface HubSchemaOptions {
  /**
   * Standard Schema v1 schemas by event type. A connection's publish of such
   * a type is validated once, before `authorize`, relaying, the upstream and
   * the hub's own listeners, whatever the number of subscribers. An invalid
   * one (or one whose schema throws) is dropped, reported through the hub's
   * error channel as a {@linkcode PayloadValidationError}, and refused with
   * `["pubrefused", topic, "invalid-payload", message]`; the connection stays
   * open, and the refusal counts toward the transport's invalid-frame window.
   * Order is kept per connection, also with asynchronous schemas.
   * Connections and the upstream receive the event as the sender sent it; a
   * pub/sub over the hub with the same schema objects gets the schema's
   * output without validating again. Events that arrive from the upstream
   * are not validated here (the hub that took them did).
   *
   * @default {no validation}
   */
  schemas?: PubSubSchemas;
  /**
   * The most publishes of one connection waiting for an asynchronous schema;
   * one more is refused with `"unavailable"`.
   *
   * @default {1024}
   */
  maxPendingValidations?: number;
}

/**
 * The envelope whose validated output is being handed on right now, with its
 * schema: while a gate's callback runs (a hub relaying an event it has just
 * validated), a gate further down the same synchronous path (the hub's own
 * pub/sub) with the same schema takes the output instead of validating again.
 */
let handingOn: EventEnvelope | undefined;
let handingOnSchema: StandardSchemaV1 | undefined;
let handingOnValue: unknown;

interface Waiting {
  result: Checked | undefined;
  then: (checked: Checked, envelope: EventEnvelope) => void;
  envelope: EventEnvelope;
  schema: StandardSchemaV1 | undefined;
}

/** Calls `then`, marking a valid output as being handed on meanwhile. */
function hand(
  then: (checked: Checked, envelope: EventEnvelope) => void,
  checked: Checked,
  envelope: EventEnvelope,
  schema: StandardSchemaV1 | undefined,
): void {
  if (schema === undefined || checked instanceof PubSubError) {
    then(checked, envelope);
    return;
  }
  const outer = handingOn, outerSchema = handingOnSchema, outerValue = handingOnValue;
  handingOn = envelope;
  handingOnSchema = schema;
  handingOnValue = checked.value;
  try {
    then(checked, envelope);
  } finally {
    handingOn = outer;
    handingOnSchema = outerSchema;
    handingOnValue = outerValue;
  }
}

/**
 * Validates envelopes with the schema of their type and hands each result to
 * its callback in arrival order per key (no envelope is validated twice on
 * one synchronous path: see `handingOn`): at once when nothing waits for the
 * key and the schema answers at once, otherwise after every earlier envelope
 * of the key. Validations of a key run concurrently; results wait for the
 * ones before them.
 *
 * @typeParam K The ordering key (a topic, a connection).
 *
 * @example
 * ```ts ignore
 * const gate = new PayloadGate(schemas, 1024);
 * gate.check(topic, envelope, topic, (checked) => {
 *   if (checked instanceof PubSubError) report(checked);
 *   else deliver(checked.value);
 * });
 * ```
 */
export class PayloadGate<K> {
  readonly #schemas: PubSubSchemas;
  readonly #maxPending: number;
  #queues = new Map<K, Waiting[]>();

  /**
   * @param schemas The schemas by event type.
   * @param maxPending The most envelopes waiting per key; one more is refused.
   */
  constructor(schemas: PubSubSchemas, maxPending: number) {
    if (!Number.isInteger(maxPending) || maxPending <= 0) {
      throw new RangeError(`Expected maxPendingValidations to be a positive integer, got ${String(maxPending)}`);
    }
    this.#schemas = schemas;
    this.#maxPending = maxPending;
  }

  /**
   * The schema for an event type, if any.
   *
   * @param type The event type.
   */
  schemaFor(type: string): StandardSchemaV1 | undefined {
    return Object.hasOwn(this.#schemas, type) ? this.#schemas[type] : undefined;
  }

  /**
   * Validates `envelope` with its type's schema and calls `then` with the
   * output or the error, in arrival order for `key` (at once when nothing
   * waits for it and the schema answers at once). An envelope without a
   * schema, or a `trusted` one (this process made it), passes with its
   * payload, in order too.
   *
   * @param key The ordering key.
   * @param envelope The envelope.
   * @param topic Its topic.
   * @param then Called once with the output or the error.
   * @param trusted Skip the schema.
   */
  check(
    key: K,
    envelope: EventEnvelope,
    topic: string,
    then: (checked: Checked, envelope: EventEnvelope) => void,
    trusted = false,
  ): void {
    const schema = trusted ? undefined : this.schemaFor(envelope.type);
    let checked: Checked | Promise<Checked>;
    if (schema === undefined) checked = { value: envelope.payload };
    else if (handingOn === envelope && handingOnSchema === schema) checked = { value: handingOnValue };
    else checked = checkPayload(schema, topic, envelope.payload);
    const queue = this.#queues.get(key);
    if (queue === undefined && !(checked instanceof Promise)) {
      hand(then, checked, envelope, schema);
      return;
    }
    if (queue !== undefined && queue.length >= this.#maxPending) {
      then(
        new PubSubError("ERR_VALIDATION_BACKLOG", `More than ${this.#maxPending} events wait for validation`),
        envelope,
      );
      return;
    }
    const entry: Waiting = { result: undefined, then, envelope, schema };
    let waiting = queue;
    if (waiting === undefined) this.#queues.set(key, waiting = []);
    waiting.push(entry);
    if (checked instanceof Promise) {
      const list = waiting;
      checked.then((settled) => {
        entry.result = settled;
        this.#flush(key, list);
      });
    } else entry.result = checked;
  }

  /** Forgets what waits for `key` (its callbacks are never called). */
  forget(key: K): void {
    this.#queues.delete(key);
  }

  #flush(key: K, queue: Waiting[]): void {
    if (this.#queues.get(key) !== queue) return; // forgotten
    while (queue.length > 0 && queue[0].result !== undefined) {
      const entry = queue.shift()!;
      hand(entry.then, entry.result!, entry.envelope, entry.schema);
    }
    if (queue.length === 0 && this.#queues.get(key) === queue) this.#queues.delete(key);
  }
}
