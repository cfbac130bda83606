/**
 * Audio helpers for the softphone: a sine source cut into RTP frames, 16-bit
 * PCM WAV files, RMS; G.711 μ-law and the Goertzel tone detector come from
 * src/media/tone.ts.
 */
import { writeFile } from "node:fs/promises";

export const SAMPLE_RATE = 8000;
/** 20 ms at 8 kHz: one PCMU RTP payload. */
export const FRAME_SAMPLES = 160;

// G.711 μ-law and the Goertzel detector are the media tests' own (src/media/tone.ts, a leaf that
// imports nothing of the project), under the names the softphone has always used.
export {
  decodePcmu as decodeUlaw,
  encodePcmu as encodeUlaw,
  goertzelPower,
  linearToUlaw as ulawEncode,
  toneRatio,
  ulawToLinear as ulawDecode,
} from "../media/tone.js";

/** μ-law of digital silence, for frames sent when there is no tone. */
export const ULAW_SILENCE = 0xff;

/**
 * A continuous sine cut into frames; the phase carries over from one frame to
 * the next so the far end hears a clean tone, not a click every 20 ms.
 */
export class SineSource {
  private n = 0;

  constructor(
    readonly hz: number,
    /** Peak amplitude as a fraction of full scale. */
    readonly level = 0.5,
    readonly sampleRate = SAMPLE_RATE,
  ) {
    if (!(hz > 0 && hz < sampleRate / 2)) throw new RangeError(`tone ${hz} Hz is not below Nyquist`);
  }

  frame(samples = FRAME_SAMPLES): Int16Array {
    const out = new Int16Array(samples);
    const w = (2 * Math.PI * this.hz) / this.sampleRate;
    for (let i = 0; i < samples; i++) out[i] = Math.round(this.level * 32767 * Math.sin(w * (this.n + i)));
    // Wrap on whole periods of the sample rate to keep the float argument small on long calls.
    this.n = (this.n + samples) % this.sampleRate;
    return out;
  }
}

/** A canonical 44-byte-header WAV: PCM, 16 bit, mono. */
export function wavBytes(samples: Int16Array, sampleRate = SAMPLE_RATE): Buffer {
  const dataBytes = samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write("WAVE", 8, "ascii");
  out.write("fmt ", 12, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28); // byte rate
  out.writeUInt16LE(2, 32); // block align
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, 44 + 2 * i);
  return out;
}

export async function writeWav(path: string, samples: Int16Array, sampleRate = SAMPLE_RATE): Promise<void> {
  await writeFile(path, wavBytes(samples, sampleRate));
}

export interface Wav {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  samples: Int16Array;
}

/** Reads a 16-bit PCM WAV, walking the chunks so files from other tools (LIST chunks…) work too. */
export function parseWav(buf: Buffer): Wav {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE")
    throw new Error("not a RIFF/WAVE file");
  let fmt: Omit<Wav, "samples"> | undefined;
  for (let at = 12; at + 8 <= buf.length; ) {
    const id = buf.toString("ascii", at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "fmt ") {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === "data") {
      if (!fmt) throw new Error("data chunk before fmt chunk");
      if (fmt.format !== 1 || fmt.bitsPerSample !== 16) throw new Error("only 16-bit PCM is supported");
      const end = Math.min(buf.length, body + size);
      const samples = new Int16Array(Math.floor((end - body) / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return { ...fmt, samples };
    }
    at = body + size + (size & 1); // chunks are word aligned
  }
  throw new Error("no data chunk");
}

/** Root mean square as a fraction of full scale (> 0.01 means not silence). */
export function rms(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length) / 32768;
}
