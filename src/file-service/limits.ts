/**
 * The integer parameters of the file API and their ranges: one place for the service, the HTTP
 * layer and the OpenAPI document, and one refusal that states the range, the name and the value.
 */
import { FileServiceError, quoteInput } from './errors.js';

/** An allowed range with its default. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** Listing bounds (`/api/v1/files`) and the drift-record limit (`/api/v1/drift`). */
export const LIMITS = {
  depth: { min: 0, max: 10, default: 3 },
  offset: { min: 0, max: 1_000_000, default: 0 },
  limit: { min: 1, max: 1000, default: 500 },
  driftLimit: { min: 1, max: 500, default: 50 },
} as const satisfies Record<string, IntRange>;

/**
 * `value` (a number, or a query parameter's text: decimal digits only) checked against `range`;
 * the default when it is undefined. 400 naming the parameter, the range and the value otherwise.
 */
export function intIn(name: string, value: number | string | undefined, range: IntRange): number {
  if (value === undefined) return range.default;
  const n = typeof value === 'number' ? value : /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw new FileServiceError(400, `${name} must be an integer from ${range.min} to ${range.max}, got ${quoteInput(String(value))}`);
  }
  return n;
}
