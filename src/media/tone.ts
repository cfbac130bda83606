/**
 * Test-tone tooling shared by the media tests and the softphone: G.711 μ-law,
 * a sine generator that yields 20 ms PCMU payloads, and a Goertzel detector.
 */

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;

/** One 16-bit linear sample → one G.711 μ-law byte. */
export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > ULAW_CLIP) s = ULAW_CLIP;
  s += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One G.711 μ-law byte → one 16-bit linear sample. */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

export function encodePcmu(samples: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToUlaw(samples[i]!);
  return out;
}

export function decodePcmu(payload: Uint8Array): Int16Array {
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = ulawToLinear(payload[i]!);
  return out;
}

/** A continuous sine: successive calls continue the phase, so frames join without clicks. */
export class ToneGenerator {
  private n = 0;
  constructor(
    readonly frequency: number,
    /** 0..1 of full scale. */
    readonly amplitude = 0.5,
    readonly sampleRate = 8000,
  ) {}

  samples(count: number): Int16Array {
    const out = new Int16Array(count);
    const w = (2 * Math.PI * this.frequency) / this.sampleRate;
    for (let i = 0; i < count; i++, this.n++)
      out[i] = Math.round(Math.sin(w * this.n) * this.amplitude * 32767);
    // Keep n bounded so long runs do not lose precision in w * n.
    if (this.n >= this.sampleRate * 1000) this.n %= this.sampleRate;
    return out;
  }

  /** The next 20 ms (160 samples at 8 kHz) as a PCMU RTP payload. */
  pcmuFrame(ms = 20): Buffer {
    return encodePcmu(this.samples((this.sampleRate * ms) / 1000));
  }
}

/** Goertzel power of `frequency` in `samples` (unnormalised; compare powers from the same block). */
export function goertzelPower(samples: ArrayLike<number>, frequency: number, sampleRate = 8000): number {
  const coeff = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** P(expected) / P(other); a clean tone gives 1e6 and more, silence or the wrong tone well under 1. */
export function toneRatio(
  samples: ArrayLike<number>,
  expected: number,
  other: number,
  sampleRate = 8000,
): number {
  const p = goertzelPower(samples, expected, sampleRate);
  const q = goertzelPower(samples, other, sampleRate);
  return q === 0 ? (p === 0 ? 0 : Number.POSITIVE_INFINITY) : p / q;
}

/** Concatenates decoded PCMU payloads (e.g. the last second of received packets) for the detector. */
export function decodePcmuPayloads(payloads: readonly Uint8Array[]): Int16Array {
  const total = payloads.reduce((n, p) => n + p.length, 0);
  const out = new Int16Array(total);
  let off = 0;
  for (const p of payloads) {
    out.set(decodePcmu(p), off);
    off += p.length;
  }
  return out;
}
