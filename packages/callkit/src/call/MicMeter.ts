/**
 * The microphone level before a call connects (the preview and the outgoing ring). During a call
 * the engine reports the own level (`onUserVoiceVolumeChanged`, from WebRTC statistics), but
 * before there is a connection it has nothing to measure, so the kit listens itself: its own
 * capture of the same microphone (browsers share the device between captures) through a Web Audio
 * analyser. The capture ends as soon as the meter stops.
 * @packageDocumentation
 */

/** How often the level is read (ms). */
const TICK_MS = 100;

/** Level 0–100 of one block of samples (−1…1): RMS on a decibel scale, −60 dBFS and below read 0. */
export function levelOf(samples: Float32Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.round(Math.min(100, Math.max(0, ((db + 60) / 60) * 100)));
}

/** A running level meter on one microphone. */
export class MicMeter {
  #run = 0;
  #stream: MediaStream | null = null;
  #audio: AudioContext | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  /** @param onLevel called every ~100 ms with the level 0–100 (0 once stopped). */
  constructor(private readonly onLevel: (level: number) => void) {}

  /** True while a meter runs (or is starting). */
  get running(): boolean {
    return this.#run % 2 === 1;
  }

  /** Starts (or restarts, e.g. on another device) metering `deviceId` ('' = the default microphone). */
  async start(deviceId: string): Promise<void> {
    this.stop();
    const run = ++this.#run;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: deviceId ? { deviceId: { exact: deviceId } } : true });
    } catch {
      // No meter then: the call itself reports a missing or refused microphone.
      return;
    }
    if (run !== this.#run) {
      // Stopped (or restarted) while the browser opened the device.
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.#stream = stream;
    const audio = new AudioContext();
    this.#audio = audio;
    const analyser = audio.createAnalyser();
    analyser.fftSize = 1024;
    audio.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this.#timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      this.onLevel(levelOf(samples));
    }, TICK_MS);
  }

  /** Stops metering and releases the capture (idempotent). */
  stop(): void {
    if (this.running) this.#run++;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    this.#stream = null;
    void this.#audio?.close().catch(() => undefined);
    this.#audio = null;
    this.onLevel(0);
  }
}
