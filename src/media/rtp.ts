/** Minimal RTP (RFC 3550) header read/write: enough to relay, count and generate test streams. */

export interface RtpPacket {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Buffer;
}

/** True when `buf` looks like RTP (version 2, not an RTCP packet type 200–207 under rtcp-mux). */
export function isRtp(buf: Buffer): boolean {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) return false;
  const pt = buf[1]! & 0x7f;
  return pt < 64 || pt > 95;
}

export function parseRtp(buf: Buffer): RtpPacket | undefined {
  if (!isRtp(buf)) return undefined;
  const cc = buf[0]! & 0x0f;
  let off = 12 + cc * 4;
  if (buf[0]! & 0x10) {
    if (buf.length < off + 4) return undefined;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (buf[0]! & 0x20) end -= buf[buf.length - 1]!;
  if (off > end) return undefined;
  return {
    payloadType: buf[1]! & 0x7f,
    marker: (buf[1]! & 0x80) !== 0,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, end),
  };
}

export function buildRtp(p: RtpPacket): Buffer {
  const out = Buffer.allocUnsafe(12 + p.payload.length);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  out.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(p.timestamp >>> 0, 4);
  out.writeUInt32BE(p.ssrc >>> 0, 8);
  p.payload.copy(out, 12);
  return out;
}
