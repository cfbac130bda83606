/**
 * Bencode for rtpengine's ng protocol. Strings are decoded as UTF-8 (SDP and
 * flag names are text); integers are JS numbers (ng never needs more than 2^53).
 */

export type BValue = string | number | BValue[] | { [key: string]: BValue };

export class BencodeError extends Error {}

export function bencode(value: BValue): Buffer {
  const parts: Buffer[] = [];
  const write = (v: BValue): void => {
    if (typeof v === "string") {
      const b = Buffer.from(v, "utf8");
      parts.push(Buffer.from(`${b.length}:`), b);
    } else if (typeof v === "number") {
      if (!Number.isInteger(v)) throw new BencodeError(`bencode integers only: ${v}`);
      parts.push(Buffer.from(`i${v}e`));
    } else if (Array.isArray(v)) {
      parts.push(Buffer.from("l"));
      for (const item of v) write(item);
      parts.push(Buffer.from("e"));
    } else {
      parts.push(Buffer.from("d"));
      // The spec orders keys by raw bytes; rtpengine does not care, but determinism helps tests.
      for (const k of Object.keys(v).sort()) {
        const item = v[k];
        if (item === undefined) continue;
        write(k);
        write(item);
      }
      parts.push(Buffer.from("e"));
    }
  };
  write(value);
  return Buffer.concat(parts);
}

export function bdecode(input: Buffer | string): BValue {
  const buf = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  let pos = 0;
  const fail = (why: string): never => {
    throw new BencodeError(`bencode: ${why} at offset ${pos}`);
  };
  const digitsUntil = (stop: number): number => {
    const end = buf.indexOf(stop, pos);
    if (end < 0) fail("unterminated number");
    const text = buf.toString("latin1", pos, end);
    if (!/^-?\d+$/.test(text)) fail(`bad number "${text}"`);
    pos = end + 1;
    return Number(text);
  };
  const read = (depth: number): BValue => {
    if (depth > 64) fail("nesting too deep");
    const c = buf[pos];
    if (c === undefined) return fail("unexpected end");
    if (c === 0x69 /* i */) {
      pos++;
      return digitsUntil(0x65);
    }
    if (c === 0x6c /* l */) {
      pos++;
      const list: BValue[] = [];
      while (buf[pos] !== 0x65) {
        if (pos >= buf.length) fail("unterminated list");
        list.push(read(depth + 1));
      }
      pos++;
      return list;
    }
    if (c === 0x64 /* d */) {
      pos++;
      const dict: { [key: string]: BValue } = {};
      while (buf[pos] !== 0x65) {
        if (pos >= buf.length) fail("unterminated dict");
        const key = read(depth + 1);
        if (typeof key !== "string") fail("dict key is not a string");
        dict[key as string] = read(depth + 1);
      }
      pos++;
      return dict;
    }
    if (c >= 0x30 && c <= 0x39) {
      const len = digitsUntil(0x3a);
      if (pos + len > buf.length) fail("string past end");
      const s = buf.toString("utf8", pos, pos + len);
      pos += len;
      return s;
    }
    return fail(`unexpected byte 0x${c.toString(16)}`);
  };
  const value = read(0);
  if (pos !== buf.length) fail("trailing bytes");
  return value;
}
