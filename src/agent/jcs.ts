/**
 * RFC 8785 JSON Canonicalization Scheme: the exact bytes a DSIP signature covers.
 *
 * Our own rather than the `canonicalize` package because it sits on the verify
 * hot path: strings and numbers go through the native JSON.stringify (whose
 * number form is the ECMAScript one RFC 8785 §3.2.2.3 prescribes), object keys
 * are sorted by UTF-16 code units (the default sort, as §3.2.3 requires), and
 * lone surrogates are looked for with one native regular-expression test
 * instead of a JavaScript loop over every character.
 */

const SURROGATE = /[\uD800-\uDFFF]/;
/** JSON from JSON.parse cannot be circular, but it can be deep: bound the recursion. */
const MAX_DEPTH = 64;

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      if (SURROGATE.test(value) && hasLoneSurrogate(value)) throw new TypeError("lone surrogate in string");
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("NaN and Infinity have no JSON form");
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth >= MAX_DEPTH) throw new TypeError("JSON nested too deeply");
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          const item = value[i];
          // as JSON.stringify: undefined and functions in arrays become null
          out += item === undefined || typeof item === "function" ? "null" : write(item, depth + 1);
        }
        return `${out}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
        return write((value as { toJSON: () => unknown }).toJSON(), depth + 1);
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = "{";
      let first = true;
      for (const key of keys) {
        const v = obj[key];
        if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
        if (SURROGATE.test(key) && hasLoneSurrogate(key)) throw new TypeError("lone surrogate in key");
        out += `${first ? "" : ","}${JSON.stringify(key)}:${write(v, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} has no JSON form`);
  }
}

export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), "utf8");
}
