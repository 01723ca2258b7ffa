// Argument checks shared by every entry point. Each throws ERR_NSA_TOPK_INVALID_ARGUMENT (or
// ERR_NSA_TOPK_UNKNOWN_OPTION) naming the argument, before anything reaches native code.
import { ErrorCodes, NsaTopkError, invalidArgument, render } from './errors';

/** The largest size or index native code takes (an int32). */
export const INT32_MAX = 2 ** 31 - 1;

/** An integer in [min, max]; returns it. */
export function checkInt(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw invalidArgument(name, `an integer ${range}`, value);
  }
  return value;
}

/** An optional integer: `fallback` when undefined. */
export function optionalInt(name: string, value: unknown, min: number, fallback: number, max?: number): number {
  return value === undefined ? fallback : checkInt(name, value, min, max);
}

export function optionalBool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgument(name, 'a boolean', value);
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw invalidArgument(name, `one of ${choices.join(', ')}`, value);
  return value as T;
}

export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(name, 'an options object', value);
  return value as Record<string, unknown>;
}

/** Refuses keys the caller does not know (a typo must not silently fall back to a default). */
export function checkKeys(name: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new NsaTopkError(`Unknown option ${render(key)} in ${name}; known options: ${known.join(', ')}`, ErrorCodes.UnknownOption);
    }
  }
}

/**
 * An int32 array of exactly `length` entries: an Int32Array passes through, a number array is
 * checked entry by entry and copied.
 */
export function toInt32Array(name: string, value: unknown, length: number): Int32Array {
  if (value instanceof Int32Array) {
    if (value.length !== length) throw invalidArgument(name, `an array of length ${length}`, value);
    return value;
  }
  if (!Array.isArray(value)) throw invalidArgument(name, 'an Int32Array or an array of integers', value);
  if (value.length !== length) throw invalidArgument(name, `an array of length ${length}`, value);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = checkInt(`${name}[${i}]`, value[i], -INT32_MAX - 1, INT32_MAX);
  }
  return out;
}

/** Any int array whose length is only known to the caller (checked by them). */
export function toInt32ArrayAnyLength(name: string, value: unknown): Int32Array {
  const length = value instanceof Int32Array || Array.isArray(value) ? value.length : -1;
  if (length < 0) throw invalidArgument(name, 'an Int32Array or an array of integers', value);
  return toInt32Array(name, value, length);
}
