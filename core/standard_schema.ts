/**
 * The Standard Schema v1 interface (https://standardschema.dev), declared
 * here as types only, as the specification allows, so that core depends on
 * no schema library. zod, valibot, arktype, effect/schema and others
 * implement it: any of their schemas can be passed where a
 * {@linkcode StandardSchemaV1} is expected.
 *
 * @module
 */

/**
 * A schema that implements Standard Schema v1: its `~standard` property
 * validates a value and, in types only, carries its input and output types.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What validation returns (differs from `Input` when the schema transforms).
 *
 * @example A hand-written schema
 * ```ts
 * import type { StandardSchemaV1 } from "@alkdev/pubsub";
 *
 * const percent: StandardSchemaV1<number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "number" && value >= 0 && value <= 100
 *         ? { value }
 *         : { issues: [{ message: "Expected a percentage" }] },
 *   },
 * };
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": StandardSchemaProps<Input, Output>;
}

/**
 * The `~standard` property of a {@linkcode StandardSchemaV1}.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What validation returns.
 *
 * @example
 * ```ts
 * import type { StandardSchemaProps } from "@alkdev/pubsub";
 *
 * const props: StandardSchemaProps<string> = {
 *   version: 1,
 *   vendor: "example",
 *   validate: (value) => typeof value === "string" ? { value } : { issues: [{ message: "Expected a string" }] },
 * };
 * ```
 */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The version of the specification: 1. */
  readonly version: 1;
  /** The library that made the schema, for example `"zod"`. */
  readonly vendor: string;
  /** Validates `value`, at once or asynchronously. */
  readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** The input and output types, for inference only (absent at run time). */
  readonly types?: StandardSchemaTypes<Input, Output> | undefined;
}

/**
 * The result of `validate`: the output value, or the issues found.
 *
 * @typeParam Output The output type.
 *
 * @example
 * ```ts
 * import type { StandardSchemaResult } from "@alkdev/pubsub";
 *
 * const ok: StandardSchemaResult<number> = { value: 1 };
 * const bad: StandardSchemaResult<number> = { issues: [{ message: "Expected a number", path: ["percent"] }] };
 * ```
 */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

/**
 * One problem `validate` found.
 *
 * @example
 * ```ts
 * import type { StandardSchemaIssue } from "@alkdev/pubsub";
 *
 * const issue: StandardSchemaIssue = { message: "Expected a number", path: ["items", 0, { key: "percent" }] };
 * ```
 */
export interface StandardSchemaIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where: property keys, or segments holding one, from the root. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/**
 * The types a schema carries for inference.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What validation returns.
 *
 * @example
 * ```ts
 * import type { StandardSchemaTypes } from "@alkdev/pubsub";
 *
 * type DateFromString = StandardSchemaTypes<string, Date>;
 * ```
 */
export interface StandardSchemaTypes<Input = unknown, Output = Input> {
  /** The input type. */
  readonly input: Input;
  /** The output type. */
  readonly output: Output;
}

/**
 * The output type of a schema: what subscribers receive.
 *
 * @typeParam S The schema.
 *
 * @example
 * ```ts
 * import type { InferSchemaOutput, StandardSchemaV1 } from "@alkdev/pubsub";
 *
 * type N = InferSchemaOutput<StandardSchemaV1<string, number>>; // number
 * ```
 */
export type InferSchemaOutput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["output"];

/**
 * The input type of a schema.
 *
 * @typeParam S The schema.
 *
 * @example
 * ```ts
 * import type { InferSchemaInput, StandardSchemaV1 } from "@alkdev/pubsub";
 *
 * type S = InferSchemaInput<StandardSchemaV1<string, number>>; // string
 * ```
 */
export type InferSchemaInput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["input"];
