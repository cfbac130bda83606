/**
 * baresip (Debian baresip-core, 1.0) as a real SIP phone for the e2e tests: an
 * auto-answering UAS, or a UAC that dials when told. Each instance has its own
 * config directory in a temp dir (docs: /work/shared/reference/media.md §3):
 * PCMU only, a generated tone WAV as the microphone (aufile), ALSA's null
 * device as the speaker, and the sndfile module recording what it sends and
 * hears (`dump-…-enc.wav` / `dump-…-dec.wav`) into its own directory.
 * Commands (/dial, /hangup) go over the UDP console (cons module) on sipPort+5.
 *
 * Ports: baresip binds SIP on sipPort (UDP/TCP) and TLS on sipPort+1, the console
 * on sipPort+5; give each instance a block of 10.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseWav, rms, SineSource, toneRatio, wavBytes } from "../../src/softphone/audio.js";
import { findCommand, requirePeer } from "./sipp.js";

/** True when baresip is installed; throws under CI=true when it is not. */
export function hasBaresip(): boolean {
  return requirePeer("baresip");
}

/** A 16-bit mono PCM WAV of `seconds` of a sine at `hz` (level 0.5), written with our own WAV writer. */
export function writeToneWav(path: string, hz: number, seconds: number, sampleRate = 8000): string {
  const src = new SineSource(hz, 0.5, sampleRate);
  writeFileSync(path, wavBytes(src.frame(Math.round(seconds * sampleRate)), sampleRate));
  return path;
}

export interface BaresipOptions {
  /** SIP port on 127.0.0.1 (TLS takes the next one, the console +5). */
  sipPort: number;
  /** Account user part (`sip:<user>@127.0.0.1:<sipPort>`). */
  user: string;
  /** Tone it sends (Hz). */
  tone: number;
  /** Answer incoming calls at once (the UAS). */
  autoAnswer: boolean;
  /** Its RTP port range, e.g. [27200, 27299]. */
  rtpPorts: [number, number];
}

export interface ToneCheck {
  ratio: number;
  level: number;
  seconds: number;
}

/** Tone ratio and level of the last second of a recording (8 kHz 16-bit mono). */
export function checkTone(samples: Int16Array, hz: number, other: number, sampleRate = 8000): ToneCheck {
  const tail = samples.subarray(Math.max(0, samples.length - sampleRate));
  return {
    ratio: toneRatio(tail, hz, other, sampleRate),
    level: rms(tail),
    seconds: samples.length / sampleRate,
  };
}

export class Baresip {
  private output = "";
  private readonly exited: Promise<void>;

  private constructor(
    readonly options: BaresipOptions,
    readonly dir: string,
    readonly recordDir: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer): void => {
      if (this.output.length < 500_000) this.output += d.toString();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((r) => child.once("exit", () => r()));
  }

  get uri(): string {
    return `sip:${this.options.user}@127.0.0.1:${this.options.sipPort}`;
  }

  /** Everything it printed so far. */
  log(): string {
    return this.output;
  }

  static async start(options: BaresipOptions): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), "baresip-"));
    const recordDir = join(dir, "rec");
    mkdirSync(recordDir);
    const tone = writeToneWav(join(dir, `tone${options.tone}.wav`), options.tone, 120);
    const config = [
      "poll_method epoll",
      `sip_listen 127.0.0.1:${options.sipPort}`,
      "audio_player alsa,null",
      "audio_alert alsa,null",
      `audio_source aufile,${tone}`,
      "ausrc_srate 8000",
      "auplay_srate 8000",
      "ausrc_channels 1",
      "auplay_channels 1",
      `rtp_ports ${options.rtpPorts[0]}-${options.rtpPorts[1]}`,
      "module_path /usr/lib/baresip/modules",
      "module g711.so",
      "module aufile.so",
      "module sndfile.so",
      "module alsa.so",
      "module cons.so",
      "module_app account.so",
      "module_app menu.so",
      `cons_listen 127.0.0.1:${options.sipPort + 5}`,
      `snd_path ${recordDir}`,
      "",
    ].join("\n");
    writeFileSync(join(dir, "config"), config);
    writeFileSync(
      join(dir, "accounts"),
      `<sip:${options.user}@127.0.0.1:${options.sipPort}>;regint=0;${options.autoAnswer ? "answermode=auto;" : ""}audio_codecs=PCMU\n`,
    );
    const child = spawn(findCommand("baresip") ?? "baresip", ["-4", "-n", "127.0.0.1", "-f", dir], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const b = new Baresip(options, dir, recordDir, child);
    try {
      await b.waitForLog(/baresip is ready/, 10_000);
    } catch (e) {
      await b.stop();
      throw e;
    }
    return b;
  }

  /** Resolves once the output matches `re` (counting from the start), or fails with the log tail. */
  async waitForLog(re: RegExp, timeoutMs: number, count = 1): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const global = new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`);
    for (;;) {
      if ((this.output.match(global)?.length ?? 0) >= count) return;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`baresip exited while waiting for ${re}:\n${this.output.slice(-3000)}`);
      if (Date.now() > deadline)
        throw new Error(`baresip: no ${re} within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One console command (`/dial sip:…`, `/hangup`) over the cons module's UDP port. */
  async command(line: string): Promise<void> {
    const s = createSocket("udp4");
    await new Promise<void>((resolve, reject) =>
      s.send(`${line}\n`, this.options.sipPort + 5, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
    );
    s.close();
  }

  dial(uri: string): Promise<void> {
    return this.command(`/dial ${uri}`);
  }

  hangup(): Promise<void> {
    return this.command("/hangup");
  }

  /** How many calls were established / terminated so far (from its output). */
  established(): number {
    return this.output.match(/Call established/g)?.length ?? 0;
  }

  terminated(): number {
    return this.output.match(/terminated \(duration/g)?.length ?? 0;
  }

  /** The newest `dump-…-<kind>.wav` (kind `dec` = what it heard, `enc` = what it sent). */
  recording(kind: "dec" | "enc" = "dec"): string {
    const files = readdirSync(this.recordDir)
      .filter((f) => f.endsWith(`-${kind}.wav`))
      .map((f) => join(this.recordDir, f))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    const last = files.at(-1);
    if (!last)
      throw new Error(`baresip recorded no ${kind} file in ${this.recordDir}:\n${this.output.slice(-2000)}`);
    return last;
  }

  /** What it heard in its newest call, decoded (read after the call terminated: sndfile closes the file then). */
  heard(): Int16Array {
    const wav = parseWav(readFileSync(this.recording("dec")));
    if (wav.sampleRate !== 8000 || wav.channels !== 1)
      throw new Error(`baresip recording: ${wav.sampleRate} Hz, ${wav.channels} channels`);
    return wav.samples;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill("SIGKILL");
        await this.exited;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
