/**
 * Ringtone, ringback and end-of-call tones synthesised with Web Audio: nothing to download, and
 * the page keeps working if audio is unavailable (every failure is swallowed: a silent ring is
 * better than a broken call screen).
 * @packageDocumentation
 */

type Pattern = 'ringtone' | 'ringback';

/** Plays the page's call sounds. One pattern at a time. */
export class Tones {
  #ctx: AudioContext | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #out: GainNode | null = null;
  #playing: Pattern | null = null;
  #bell: string | null = null;
  #bellEl: HTMLAudioElement | null = null;
  #muted = false;

  /** Plays `url` (looped) instead of the synthesised ringtone for incoming calls; null restores it. */
  setBell(url: string | null): void {
    this.#bell = url;
  }

  /** Mute mode: no ringtone, ringback or end tone at all. */
  setMuted(muted: boolean): void {
    this.#muted = muted;
    if (muted) this.stop();
  }

  /** Creates or resumes the audio context; call from a user gesture (browsers' autoplay rules). */
  unlock(): void {
    try {
      this.#ctx ??= new AudioContext();
      if (this.#ctx.state === 'suspended') void this.#ctx.resume().catch(() => undefined);
    } catch {
      this.#ctx = null;
    }
  }

  /** The pattern playing now, if any. */
  get playing(): Pattern | null {
    return this.#playing;
  }

  /** Starts the incoming-call ringtone (a bright two-note trill every 3 s) until {@link stop}. */
  ringtone(): void {
    if (this.#muted) return;
    if (this.#bell !== null) {
      this.stop();
      const el = new Audio(this.#bell);
      el.loop = true;
      this.#bellEl = el;
      this.#playing = 'ringtone';
      void el.play().catch(() => undefined);
      return;
    }
    this.#start('ringtone', 3, (ctx, out, t) => {
      for (let i = 0; i < 6; i++) this.#note(ctx, out, t + i * 0.13, i % 2 === 0 ? 1318.5 : 987.8, 0.12, 0.35);
      for (let i = 0; i < 6; i++) this.#note(ctx, out, t + 1 + i * 0.13, i % 2 === 0 ? 1318.5 : 987.8, 0.12, 0.35);
    });
  }

  /** Starts the outgoing ringback (440 + 480 Hz, 1.5 s on, 2.5 s off) until {@link stop}. */
  ringback(): void {
    if (this.#muted) return;
    this.#start('ringback', 4, (ctx, out, t) => {
      this.#note(ctx, out, t, 440, 1.5, 0.08);
      this.#note(ctx, out, t, 480, 1.5, 0.08);
    });
  }

  /** Three short falling beeps: the call is over. */
  endTone(): void {
    this.stop();
    if (this.#muted) return;
    const ctx = this.#context();
    if (!ctx) return;
    const out = ctx.createGain();
    out.connect(ctx.destination);
    const t = ctx.currentTime + 0.02;
    [620, 520, 420].forEach((f, i) => this.#note(ctx, out, t + i * 0.18, f, 0.14, 0.12));
    setTimeout(() => out.disconnect(), 1000);
  }

  /** Stops whatever plays. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#playing = null;
    if (this.#bellEl) {
      this.#bellEl.pause();
      this.#bellEl.removeAttribute('src');
      this.#bellEl = null;
    }
    const out = this.#out;
    this.#out = null;
    if (out && this.#ctx) {
      out.gain.setTargetAtTime(0, this.#ctx.currentTime, 0.02);
      setTimeout(() => out.disconnect(), 200);
    }
  }

  #context(): AudioContext | null {
    this.unlock();
    return this.#ctx;
  }

  #start(pattern: Pattern, periodSeconds: number, schedule: (ctx: AudioContext, out: GainNode, at: number) => void): void {
    if (this.#playing === pattern) return;
    this.stop();
    const ctx = this.#context();
    if (!ctx) return;
    const out = ctx.createGain();
    out.connect(ctx.destination);
    this.#out = out;
    this.#playing = pattern;
    let next = ctx.currentTime + 0.05;
    const tick = (): void => {
      // Schedule one period ahead on the audio clock so timer jitter never makes the ring stutter.
      while (next < ctx.currentTime + periodSeconds) {
        schedule(ctx, out, next);
        next += periodSeconds;
      }
    };
    tick();
    this.#timer = setInterval(tick, 500);
  }

  /** One enveloped sine note (5 ms attack, exponential decay) so the tone never clicks. */
  #note(ctx: AudioContext, out: AudioNode, at: number, freq: number, length: number, volume: number): void {
    const osc = ctx.createOscillator();
    const env = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    env.gain.setValueAtTime(0.0001, at);
    env.gain.exponentialRampToValueAtTime(volume, at + 0.005);
    env.gain.setValueAtTime(volume, at + Math.max(0.006, length - 0.06));
    env.gain.exponentialRampToValueAtTime(0.0001, at + length);
    osc.connect(env).connect(out);
    osc.start(at);
    osc.stop(at + length + 0.02);
  }
}
