/**
 * Checks for numeric options (limits, timeouts) of core's classes. Internal to
 * core (not re-exported).
 *
 * @module
 */

/**
 * Returns `value` if it is a number above zero (`Infinity` included).
 *
 * @throws {RangeError} Otherwise, naming the option.
 */
export function positiveNumber(name: string, value: number): number {
  if (typeof value !== "number" || !(value > 0)) {
    throw new RangeError(`Expected ${name} to be a positive number, got ${String(value)}`);
  }
  return value;
}

/**
 * Returns `value` if it is an integer above zero.
 *
 * @throws {RangeError} Otherwise, naming the option.
 */
export function positiveInteger(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`Expected ${name} to be a positive integer, got ${String(value)}`);
  }
  return value;
}
