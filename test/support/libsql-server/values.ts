// Values in the Hrana JSON encoding, and the SQLite values they stand for.
import { deserializeError, ProtocolError } from './errors.js';

export type SqlValue = null | bigint | number | string | Uint8Array;
export type ProtoValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number | null }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function valueFromProto(value: unknown): SqlValue {
  if (!isObject(value)) throw deserializeError('a value must be an object');
  switch (value.type) {
    case 'null':
      return null;
    case 'integer': {
      if (typeof value.value !== 'string' || !/^[+-]?\d{1,19}$/.test(value.value)) {
        throw deserializeError('an integer value must be a decimal string');
      }
      const int = BigInt(value.value);
      if (int < I64_MIN || int > I64_MAX) throw deserializeError('integer out of range for i64');
      return int;
    }
    case 'float':
      if (typeof value.value !== 'number') throw deserializeError('a float value must be a number');
      return value.value;
    case 'text':
      if (typeof value.value !== 'string') throw deserializeError('a text value must be a string');
      return value.value;
    case 'blob':
      if (typeof value.base64 !== 'string') throw deserializeError('a blob value must have base64');
      return Buffer.from(value.base64, 'base64');
    default:
      throw new ProtocolError('Value type not recognized');
  }
}

export function valueToProto(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { type: 'null' };
  if (typeof value === 'bigint') return { type: 'integer', value: value.toString() };
  if (typeof value === 'number') return { type: 'float', value: Number.isFinite(value) ? value : null };
  if (typeof value === 'string') return { type: 'text', value };
  if (value instanceof Uint8Array) {
    // sqld writes base64 without padding
    return { type: 'blob', base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64').replace(/=+$/, '') };
  }
  return { type: 'text', value: String(value) };
}
