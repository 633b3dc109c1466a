/**
 * Writes `JSON.stringify(value, replacer, 2)` in pieces of about `chunkChars`, the same text byte
 * for byte, so that a large document (an import's million created ids) is never one string and one
 * buffer of its whole size on top of the data it is made of.
 */
export function writeJsonDocument(write: (chunk: string) => void, value: unknown, replacer: (key: string, value: unknown) => unknown, chunkChars = 1 << 16): void {
  let pending = '';
  const emit = (text: string) => {
    pending += text;
    if (pending.length >= chunkChars) {
      write(pending);
      pending = '';
    }
  };

  /**
   * The value JSON.stringify would serialise for `holder[key]`: after toJSON and the replacer. A
   * list with `jsonItems` (an import's ids) is kept as it is and written item by item: its toJSON
   * array, without making that array.
   */
  const prepared = (holder: unknown, key: string, raw: unknown): unknown => {
    let current = raw;
    if (streamed(current)) return current;
    if ((typeof current === 'object' && current !== null) || typeof current === 'bigint') {
      const toJSON = (current as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') current = toJSON.call(current, key);
    }
    current = replacer.call(holder, key, current);
    if (current instanceof Number || current instanceof String || current instanceof Boolean) current = current.valueOf();
    return current;
  };

  /** Writes the value (already prepared); false when it has no JSON form (undefined, a function). */
  const writeValue = (current: unknown, indent: string): boolean => {
    if (current === null || typeof current !== 'object') {
      if (typeof current === 'undefined' || typeof current === 'function' || typeof current === 'symbol') return false;
      emit(JSON.stringify(current));
      return true;
    }
    const inner = `${indent}  `;
    if (streamed(current)) {
      let index = 0;
      for (const item of current.jsonItems()) {
        emit(`${index === 0 ? '[' : ','}\n${inner}`);
        if (!writeValue(prepared(current, String(index), item), inner)) emit('null');
        index++;
      }
      emit(index === 0 ? '[]' : `\n${indent}]`);
      return true;
    }
    if (Array.isArray(current)) {
      if (current.length === 0) {
        emit('[]');
        return true;
      }
      emit('[');
      for (let index = 0; index < current.length; index++) {
        emit(`${index === 0 ? '' : ','}\n${inner}`);
        if (!writeValue(prepared(current, String(index), current[index]), inner)) emit('null');
      }
      emit(`\n${indent}]`);
      return true;
    }
    let any = false;
    for (const key of Object.keys(current)) {
      const member = prepared(current, key, (current as Record<string, unknown>)[key]);
      if (typeof member === 'undefined' || typeof member === 'function' || typeof member === 'symbol') continue;
      emit(`${any ? ',' : '{'}\n${inner}${JSON.stringify(key)}: `);
      writeValue(member, inner);
      any = true;
    }
    emit(any ? `\n${indent}}` : '{}');
    return true;
  };

  writeValue(prepared({ '': value }, '', value), '');
  emit('\n');
  if (pending.length > 0) write(pending);
}

/** A list written item by item; its `toJSON` must give the same items as an array. */
interface StreamedList {
  jsonItems(): Iterable<unknown>;
}

function streamed(value: unknown): value is StreamedList {
  return typeof value === 'object' && value !== null && typeof (value as Partial<StreamedList>).jsonItems === 'function';
}
