"""Deterministic audio synthesis: the jingle under every title card, and the pieces the
voiceovers are built from (see ``speech``).

Only IEEE-754 basic arithmetic is used (no libm, no numpy, no unseeded randomness): ``sin``,
``cos`` and ``exp`` are Taylor polynomials and the noise is a 32-bit LCG, so every machine
computes the same samples, and ffmpeg then encodes the same bytes.

>>> abs(midi_hz(69) - 440.0) < 1e-12
True
>>> wav_bytes([0.0, 0.5], 16000)[:4]
b'RIFF'
"""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Sequence

from .cards import CARD_SECONDS, MUSIC_RATE, EngineTheme

PI = 3.141592653589793
TWO_PI = 6.283185307179586
SEMITONE = 1.0594630943592953  # 2 ** (1 / 12)
TABLE_SIZE = 4096


def sin(x: float) -> float:
    """sin(x) from a Taylor polynomial: no libm, so the same bits on every machine."""
    x -= TWO_PI * round(x / TWO_PI)
    if x > PI / 2:
        x = PI - x
    elif x < -PI / 2:
        x = -PI - x
    x2, term, total = x * x, x, x
    for n in range(1, 10):
        term *= -x2 / ((2 * n) * (2 * n + 1))
        total += term
    return total


def cos(x: float) -> float:
    """cos(x) as sin(x + π/2)."""
    return sin(x + PI / 2)


def exp(x: float) -> float:
    """exp(x) for moderate x, by squaring a Taylor series (basic arithmetic only)."""
    halvings = 0
    while abs(x) > 0.125:
        x /= 2
        halvings += 1
    term, total = 1.0, 1.0
    for n in range(1, 12):
        term *= x / n
        total += term
    for _ in range(halvings):
        total *= total
    return total


_TABLE: list[float] = []


def sine_table() -> list[float]:
    """One period of sin in TABLE_SIZE steps (computed once)."""
    if not _TABLE:
        _TABLE.extend(sin(TWO_PI * i / TABLE_SIZE) for i in range(TABLE_SIZE))
    return _TABLE


def midi_hz(note: int) -> float:
    """The frequency of a MIDI note (A4 = 69 = 440 Hz), by repeated semitone steps."""
    freq = 440.0
    for _ in range(abs(note - 69)):
        freq = freq * SEMITONE if note > 69 else freq / SEMITONE
    return freq


class Noise:
    """A 32-bit LCG: white noise in [-1, 1) that is the same everywhere."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFF

    def __call__(self) -> float:
        self.state = (self.state * 1664525 + 1013904223) & 0xFFFFFFFF
        return self.state / 2147483648.0 - 1.0


def _tone(out: list[float], rate: int, start: float, length: float, freq: float, amp: float,
          harmonics: Sequence[float], attack: float, decay: float) -> None:
    """Add a note: summed harmonics, linear attack, exponential decay, 15 ms release."""
    table, mask = sine_table(), TABLE_SIZE - 1
    first = int(start * rate)
    count = min(int(length * rate), len(out) - first)
    attack_n, release_n = max(1, int(attack * rate)), int(0.015 * rate)
    keep = 1.0 - decay / rate
    step = freq * TABLE_SIZE / rate
    parts = [(h + 1, a) for h, a in enumerate(harmonics) if freq * (h + 1) < rate * 0.45]
    env, phase = 0.0, 0.0
    for i in range(count):
        if i < attack_n:
            env = (i + 1) / attack_n
        else:
            env *= keep
        gain = env * amp
        if i > count - release_n:
            gain *= (count - i) / release_n
        idx = int(phase)
        value = 0.0
        for mult, a in parts:
            value += a * table[(idx * mult) & mask]
        out[first + i] += gain * value
        phase += step
        if phase >= TABLE_SIZE:
            phase -= TABLE_SIZE


def _kick(out: list[float], rate: int, start: float, amp: float) -> None:
    """Add a kick drum: a sine swept down from 155 Hz, decaying."""
    table, mask = sine_table(), TABLE_SIZE - 1
    first, phase, env, sweep = int(start * rate), 0.0, 1.0, 1.0
    for i in range(min(int(0.25 * rate), len(out) - first)):
        freq = 45.0 + 110.0 * sweep
        out[first + i] += amp * env * table[int(phase) & mask]
        phase += freq * TABLE_SIZE / rate
        sweep *= 1.0 - 40.0 / rate
        env *= 1.0 - 14.0 / rate


def _hat(out: list[float], rate: int, start: float, amp: float, noise: Noise) -> None:
    """Add a hi-hat: 60 ms of bright, decaying noise."""
    first, env, last = int(start * rate), 1.0, 0.0
    for i in range(min(int(0.06 * rate), len(out) - first)):
        value = noise()
        out[first + i] += amp * env * (value - last)   # a first difference: bright noise
        last = value
        env *= 1.0 - 70.0 / rate


def finish(samples: list[float], peak: float) -> list[float]:
    """Normalise to ``peak`` and fade the first 10 ms and the last 120 ms."""
    top = max(abs(s) for s in samples) or 1.0
    n, fade_in, fade_out = len(samples), len(samples) // 300, len(samples) // 25
    out = []
    for i, s in enumerate(samples):
        g = peak / top
        if i < fade_in:
            g *= i / fade_in
        if i >= n - fade_out:
            g *= (n - 1 - i) / fade_out
        out.append(s * g)
    return out


def music(t: EngineTheme, transpose: int, seconds: float = CARD_SECONDS) -> list[float]:
    """The jingle of a card: chords, an arpeggiated melody, kick and hats, at MUSIC_RATE."""
    rate, out = MUSIC_RATE, [0.0] * int(seconds * MUSIC_RATE)
    beat, noise = 60.0 / t.bpm, Noise(t.bpm * 7919 + transpose + 100)
    beats = int(seconds / beat) + 1
    for b in range(0, beats, 2):
        chord = [n + transpose for n in t.chords[(b // 2) % len(t.chords)]]
        for note in chord:   # the pad: soft, slow attack, two harmonics
            _tone(out, rate, b * beat, 2 * beat, midi_hz(note), 0.07, (1.0, 0.2), 0.12, 0.6)
        _tone(out, rate, b * beat, 2 * beat, midi_hz(chord[0] - 12), 0.16, (1.0, 0.35),
              0.01, 1.5)   # bass
        pattern = (0, 1, 2, len(chord) - 1, 2, 1, 0, 2)
        for k, pick in enumerate(pattern):   # eighth-note arpeggio an octave up
            note = chord[pick % len(chord)] + 12
            _tone(out, rate, b * beat + k * beat / 2, beat / 2, midi_hz(note), 0.13,
                  t.pluck, 0.004, 7.0)
    for b in range(beats):
        if t.kick and (b % 2 == 0 or t.bpm >= 110):
            _kick(out, rate, b * beat, 0.55 * t.kick)
        _hat(out, rate, b * beat + beat / 2, 0.05, noise)
    return finish(out, 0.7)


def wav_bytes(samples: Sequence[float], rate: int) -> bytes:
    """Mono 16-bit PCM WAV of samples in [-1, 1]."""
    pcm = struct.pack(f"<{len(samples)}h",
                      *(max(-32767, min(32767, round(s * 32767))) for s in samples))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buffer.getvalue()
