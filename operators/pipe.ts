/**
 * `pipe`: applies operators to a source, or composes operators.
 *
 * @module
 */

import {
  CLOSED,
  describe,
  DONE,
  FUSE,
  type FusedStep,
  FusedStream,
  isSource,
  OneSourceStream,
  StreamBase,
} from "./internal.ts";
import type { Operator, OperatorFunction, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Composes operators into one operator, left to right:
 * `pipe(a, b)(source)` is `pipe(source, a, b)`.
 *
 * @example A reusable operator
 * ```ts
 * import { filter, map, pipe } from "@alkdev/pubsub";
 *
 * const bigTens = pipe(filter((n: number) => n > 1), map((n: number) => n * 10));
 * for await (const n of bigTens([1, 2, 3])) console.log(n); // 20, 30
 * ```
 *
 * @typeParam A The values the composed operator reads.
 * @typeParam B The values the first operator yields.
 * @param op1 The first operator.
 * @returns The composed operator.
 */
export function pipe<A, B>(op1: OperatorFunction<A, B>): Operator<A, B>;
/** Composes 2 operators into one; see the first overload. */
export function pipe<A, B, C>(op1: OperatorFunction<A, B>, op2: OperatorFunction<B, C>): Operator<A, C>;
/** Composes 3 operators into one; see the first overload. */
export function pipe<A, B, C, D>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
): Operator<A, D>;
/** Composes 4 operators into one; see the first overload. */
export function pipe<A, B, C, D, E>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
): Operator<A, E>;
/** Composes 5 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
): Operator<A, F>;
/** Composes 6 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F, G>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
): Operator<A, G>;
/** Composes 7 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F, G, H>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
): Operator<A, H>;
/** Composes 8 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F, G, H, I>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
): Operator<A, I>;
/** Composes 9 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
): Operator<A, J>;
/** Composes 10 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J, K>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
  op10: OperatorFunction<J, K>,
): Operator<A, K>;
/** Composes 11 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J, K, L>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
  op10: OperatorFunction<J, K>,
  op11: OperatorFunction<K, L>,
): Operator<A, L>;
/** Composes 12 operators into one; see the first overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J, K, L, M>(
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
  op10: OperatorFunction<J, K>,
  op11: OperatorFunction<K, L>,
  op12: OperatorFunction<L, M>,
): Operator<A, M>;
/** Composes any number of operators; past 12, values are typed `unknown`. */
export function pipe(...operators: OperatorFunction<never, unknown>[]): Operator<unknown, unknown>;
/**
 * Applies operators to a source, left to right: `pipe(source, a, b)` is
 * `b(a(source))`, typed through every step (overloads cover up to 12
 * operators; more are accepted, typed as `unknown`).
 *
 * The result is lazy: no source opens before its first `next()`. Runs of
 * adjacent `filter` and `map` steps are fused into one stream (same
 * results, fewer promises). A step may be any function from an async
 * iterable to an async iterable, an async generator function included; a
 * sync iterable source is wrapped in an async one before such a step.
 *
 * When the first argument is a function rather than an iterable,
 * `pipe(op1, op2, …)` composes the operators into one operator instead.
 *
 * @example Shaping a subscription
 * ```ts
 * import { createPubSub, filter, map, pipe, take } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ "job.progress": number }>();
 * const sub = pubsub.subscribe("job.progress", "job-1");
 * const percents = pipe(sub, filter((p) => p > 0), map((p) => `${p}%`), take(2));
 * pubsub.publish("job.progress", "job-1", 0);
 * pubsub.publish("job.progress", "job-1", 50);
 * pubsub.publish("job.progress", "job-1", 100);
 * for await (const text of percents) console.log(text); // "50%", "100%"
 * pubsub.close();
 * ```
 *
 * @typeParam A The source's values.
 * @param source The source: any async or sync iterable.
 * @returns The stream.
 */
export function pipe<A>(source: OperatorSource<A>): OperatorStream<A>;
/** Applies 1 operator to a source; see the source overload. */
export function pipe<A, B>(source: OperatorSource<A>, op1: OperatorFunction<A, B>): OperatorStream<B>;
/** Applies 2 operators to a source; see the source overload. */
export function pipe<A, B, C>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
): OperatorStream<C>;
/** Applies 3 operators to a source; see the source overload. */
export function pipe<A, B, C, D>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
): OperatorStream<D>;
/** Applies 4 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
): OperatorStream<E>;
/** Applies 5 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
): OperatorStream<F>;
/** Applies 6 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F, G>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
): OperatorStream<G>;
/** Applies 7 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F, G, H>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
): OperatorStream<H>;
/** Applies 8 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F, G, H, I>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
): OperatorStream<I>;
/** Applies 9 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
): OperatorStream<J>;
/** Applies 10 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J, K>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
  op10: OperatorFunction<J, K>,
): OperatorStream<K>;
/** Applies 11 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J, K, L>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
  op10: OperatorFunction<J, K>,
  op11: OperatorFunction<K, L>,
): OperatorStream<L>;
/** Applies 12 operators to a source; see the source overload. */
export function pipe<A, B, C, D, E, F, G, H, I, J, K, L, M>(
  source: OperatorSource<A>,
  op1: OperatorFunction<A, B>,
  op2: OperatorFunction<B, C>,
  op3: OperatorFunction<C, D>,
  op4: OperatorFunction<D, E>,
  op5: OperatorFunction<E, F>,
  op6: OperatorFunction<F, G>,
  op7: OperatorFunction<G, H>,
  op8: OperatorFunction<H, I>,
  op9: OperatorFunction<I, J>,
  op10: OperatorFunction<J, K>,
  op11: OperatorFunction<K, L>,
  op12: OperatorFunction<L, M>,
): OperatorStream<M>;
/** Applies any number of operators to a source; past 12, values are typed `unknown`. */
export function pipe(
  source: OperatorSource<unknown>,
  ...operators: OperatorFunction<never, unknown>[]
): OperatorStream<unknown>;
export function pipe(...args: unknown[]): OperatorStream<unknown> | Operator<unknown, unknown> {
  if (args.length === 0) throw new TypeError("pipe: expected a source or an operator, got nothing");
  const first = args[0];
  if (typeof first === "function") {
    const operators = checkOperators(args, 0);
    return (source: OperatorSource<unknown>): OperatorStream<unknown> => {
      if (!isSource(source)) {
        throw new TypeError(`pipe: the source must be an async iterable or an iterable, got ${describe(source)}`);
      }
      return apply(source, operators);
    };
  }
  if (!isSource(first)) {
    throw new TypeError(`pipe: the source must be an async iterable or an iterable, got ${describe(first)}`);
  }
  return apply(first, checkOperators(args, 1));
}

type AnyOperator = OperatorFunction<unknown, unknown> & { [FUSE]?: FusedStep };

function checkOperators(args: unknown[], from: number): AnyOperator[] {
  const operators = args.slice(from) as AnyOperator[];
  for (let i = 0; i < operators.length; i++) {
    if (typeof operators[i] !== "function") {
      throw new TypeError(`pipe: operator ${i + 1} must be a function, got ${describe(operators[i])}`);
    }
  }
  return operators;
}

function apply(source: OperatorSource<unknown>, operators: AnyOperator[]): OperatorStream<unknown> {
  let current: OperatorSource<unknown> = source;
  for (let i = 0; i < operators.length; i++) {
    const operator = operators[i];
    const step = operator[FUSE];
    if (step !== undefined) {
      const steps = [step];
      while (i + 1 < operators.length && operators[i + 1][FUSE] !== undefined) steps.push(operators[++i][FUSE]!);
      current = new FusedStream(current, steps);
      continue;
    }
    const input: AsyncIterable<unknown> = isAsyncIterable(current) ? current : new SourceStream(current);
    const output: unknown = operator(input);
    if (!isAsyncIterable(output)) {
      throw new TypeError(`pipe: operator ${i + 1} must return an async iterable, got ${describe(output)}`);
    }
    current = output;
  }
  return current instanceof StreamBase ? current : new SourceStream(current);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/** A lazy, closable async stream over any source: what `pipe` returns when the last step is not an operator. */
class SourceStream<T> extends OneSourceStream<T, T> {
  protected async step(): Promise<IteratorResult<T, undefined>> {
    try {
      const it = this.it ?? this.open();
      const result = await it.next();
      if (this.state === CLOSED) return DONE;
      if (result.done) return this.end();
      return { value: result.value, done: false };
    } catch (error) {
      if (this.returned) return DONE;
      this.end();
      throw error;
    } finally {
      this.unlock();
    }
  }
}
