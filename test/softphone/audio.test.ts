import { describe, expect, it } from "vitest";
import {
  decodeUlaw,
  encodeUlaw,
  FRAME_SAMPLES,
  goertzelPower,
  parseWav,
  rms,
  SineSource,
  toneRatio,
  ulawDecode,
  ulawEncode,
  wavBytes,
} from "../../src/softphone/audio.js";

function tone(hz: number, seconds: number): Int16Array {
  const src = new SineSource(hz);
  const frames = Math.round((seconds * 8000) / FRAME_SAMPLES);
  const out = new Int16Array(frames * FRAME_SAMPLES);
  for (let i = 0; i < frames; i++) out.set(src.frame(), i * FRAME_SAMPLES);
  return out;
}

describe("μ-law", () => {
  it("maps every code back to itself (0x7F is negative zero and decodes like 0xFF)", () => {
    for (let b = 0; b < 256; b++) {
      if (b === 0x7f) continue;
      expect(ulawEncode(ulawDecode(b)), `code ${b}`).toBe(b);
    }
    expect(ulawDecode(0x7f)).toBe(-0);
    expect(ulawDecode(0xff)).toBe(0);
  });

  it("has the G.711 reference points", () => {
    expect(ulawEncode(0)).toBe(0xff);
    expect(ulawEncode(32767)).toBe(0x80);
    expect(ulawEncode(-32768)).toBe(0x00);
    expect(ulawDecode(0x80)).toBe(32124);
    expect(ulawDecode(0x00)).toBe(-32124);
  });

  it("round-trips samples within the quantisation step of their segment", () => {
    for (let s = -32000; s <= 32000; s += 37) {
      const back = ulawDecode(ulawEncode(s));
      // The step doubles per segment: at most 1/16 of the magnitude plus the first segment's step.
      expect(Math.abs(back - s), `sample ${s}`).toBeLessThanOrEqual(Math.abs(s) / 16 + 8);
    }
  });

  it("keeps a tone a tone through encode/decode", () => {
    const pcm = tone(700, 1);
    const back = decodeUlaw(encodeUlaw(pcm));
    expect(back.length).toBe(pcm.length);
    expect(toneRatio(back, 700, 1300)).toBeGreaterThan(1e4);
  });
});

describe("Goertzel", () => {
  it("tells 700 Hz from 1300 Hz by far more than 100×", () => {
    const a = tone(700, 1);
    const b = tone(1300, 1);
    expect(toneRatio(a, 700, 1300)).toBeGreaterThanOrEqual(100);
    expect(toneRatio(b, 1300, 700)).toBeGreaterThanOrEqual(100);
    expect(toneRatio(a, 1300, 700)).toBeLessThan(0.01);
    expect(goertzelPower(new Int16Array(8000), 700)).toBe(0);
    expect(rms(a)).toBeGreaterThan(0.3);
    expect(rms(new Int16Array(160))).toBe(0);
  });

  it("has no click at frame boundaries (phase carries over)", () => {
    const pcm = tone(700, 0.1);
    let maxStep = 0;
    for (let i = 1; i < pcm.length; i++) maxStep = Math.max(maxStep, Math.abs(pcm[i]! - pcm[i - 1]!));
    const ideal = 0.5 * 32767 * 2 * Math.sin((Math.PI * 700) / 8000);
    expect(maxStep).toBeLessThanOrEqual(Math.ceil(ideal) + 1);
  });
});

describe("WAV", () => {
  it("writes a 44-byte canonical header for 16-bit PCM 8 kHz mono", () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768]);
    const buf = wavBytes(samples);
    expect(buf.length).toBe(44 + 10);
    expect(buf.toString("ascii", 0, 4)).toBe("RIFF");
    expect(buf.readUInt32LE(4)).toBe(36 + 10);
    expect(buf.toString("ascii", 8, 16)).toBe("WAVEfmt ");
    expect(buf.readUInt32LE(16)).toBe(16);
    expect(buf.readUInt16LE(20)).toBe(1);
    expect(buf.readUInt16LE(22)).toBe(1);
    expect(buf.readUInt32LE(24)).toBe(8000);
    expect(buf.readUInt32LE(28)).toBe(16000);
    expect(buf.readUInt16LE(32)).toBe(2);
    expect(buf.readUInt16LE(34)).toBe(16);
    expect(buf.toString("ascii", 36, 40)).toBe("data");
    expect(buf.readUInt32LE(40)).toBe(10);
    expect(buf.readInt16LE(50)).toBe(32767);
    const wav = parseWav(buf);
    expect(wav).toMatchObject({ format: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16 });
    expect(Array.from(wav.samples)).toEqual(Array.from(samples));
  });

  it("skips unknown chunks when reading and refuses what is not WAV", () => {
    const plain = wavBytes(Int16Array.from([5, -5]));
    const list = Buffer.concat([Buffer.from("LIST"), Buffer.from([3, 0, 0, 0]), Buffer.from("abc\0")]);
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    expect(Array.from(parseWav(withList).samples)).toEqual([5, -5]);
    expect(() => parseWav(Buffer.from("not a wav file at all"))).toThrow(/RIFF/);
  });
});
