"""Speech-like voiceovers, synthesized deterministically (basic IEEE arithmetic only).

:func:`voice` reads an engine theme's ``voice_text`` letter by letter (:func:`phonemes`),
drives a glottal pulse train through three formant resonators (cascade, Klatt-style), adds
noise for fricatives and bursts, lets the pitch fall over the sentence with a lift on every
word's first vowel, then brightens (lip radiation) and evens out (a compressor) the result.

>>> [cls for cls, _, _ in phonemes("Hi, mom.")]
['fric', 'vowel', 'pause', 'pause', 'nasal', 'vowel', 'nasal', 'pause']
"""

from __future__ import annotations

from .audio import PI, TWO_PI, Noise, cos, exp, finish
from .cards import VOICE_RATE, VOICE_SECONDS, EngineTheme

VOWELS = {"a": (730.0, 1090.0, 2440.0), "e": (530.0, 1840.0, 2480.0),
          "i": (300.0, 2200.0, 2950.0), "o": (570.0, 840.0, 2410.0),
          "u": (330.0, 1000.0, 2250.0), "y": (300.0, 2100.0, 2900.0)}
FRICATIVES = {"s": 5200.0, "z": 5000.0, "c": 4800.0, "x": 4500.0, "f": 3800.0, "v": 3500.0,
              "h": 1800.0, "j": 2600.0}
PLOSIVES = {"t": 3600.0, "d": 3000.0, "k": 2200.0, "g": 2000.0, "p": 1200.0, "b": 1000.0,
            "q": 2200.0}
NASALS = {"m": (280.0, 1100.0, 2300.0), "n": (280.0, 1700.0, 2600.0)}
GLIDES = {"l": (360.0, 1300.0, 2700.0), "r": (420.0, 1300.0, 1700.0),
          "w": (300.0, 700.0, 2200.0)}
BANDWIDTHS = (80.0, 100.0, 140.0, 1400.0)   # three formants, then the noise band
BLOCK = 32                                   # samples between two updates of the targets

# (first sample, samples, class, letter, stressed: the first vowel of a word)
Segment = tuple[int, int, str, str, bool]


def phonemes(text: str) -> list[tuple[str, str, float]]:
    """Letters → (class, letter, seconds): a crude reading that keeps the rhythm of speech."""
    out: list[tuple[str, str, float]] = []
    for char in text.lower():
        if char in VOWELS:
            out.append(("vowel", char, 0.095))
        elif char in FRICATIVES:
            out.append(("fric", char, 0.075))
        elif char in PLOSIVES:
            out.append(("stop", char, 0.06))
        elif char in NASALS:
            out.append(("nasal", char, 0.06))
        elif char in GLIDES:
            out.append(("glide", char, 0.05))
        elif char in ".!?":
            out.append(("pause", char, 0.3))
        elif char in ",;:":
            out.append(("pause", char, 0.18))
        elif char == " ":
            out.append(("pause", char, 0.06))
    return out


def segments(text: str, seconds: float, rate: int) -> list[Segment]:
    """The phonemes of ``text`` placed in time: speech from 0.1 s to 0.25 s before the end."""
    plan = phonemes(text)
    while plan and plan[-1][0] == "pause":
        plan.pop()
    speech = seconds - 0.25
    scale = speech / sum(d for _, _, d in plan)
    out: list[Segment] = []
    at, new_word = int(0.1 * rate), True
    for cls, char, dur in plan:
        n = max(1, int(dur * scale * rate))
        out.append((at, n, cls, char, new_word and cls == "vowel"))
        if cls == "vowel":
            new_word = False
        if cls == "pause":
            new_word = True
        at += n
    return out


def _glottal_flow(phase: float) -> float:
    """Glottal flow over one period: a smooth rise for 60 %, a quick close, then closed."""
    if phase < 0.6:
        p = phase / 0.6
        return p * p * (3.0 - 2.0 * p)
    if phase < 0.75:
        p = (phase - 0.6) / 0.15
        return 1.0 - p * p
    return 0.0


class _Tract:
    """The synthesizer's running state: what it aims at, the resonators and the pitch."""

    def __init__(self, t: EngineTheme, total: int, rate: int) -> None:
        self.t, self.total, self.rate = t, total, rate
        self.noise = Noise(int(t.voice_f0 * 1000))
        self.formants = list(VOWELS["e"])
        self.state = [[0.0, 0.0] for _ in range(4)]
        self.voiced_amp = self.noise_amp = 0.0
        self.phase, self.noise_freq, self.lift = 0.0, 4000.0, 0.0

    def aim(self, seg: Segment | None, start: int) -> None:
        """Move the amplitudes, formants and pitch lift towards phoneme ``seg`` at ``start``."""
        target_v, target_n, target_f = 0.0, 0.0, self.formants
        if seg and start < seg[0] + seg[1]:
            _, length, cls, char, stressed = seg
            pos = (start - seg[0]) / length
            if cls == "vowel":
                target_v, target_f = 1.0, list(VOWELS[char])
                if stressed:
                    self.lift = 0.22 * (1.0 - pos)
            elif cls == "fric":
                target_n, self.noise_freq = 0.5, FRICATIVES[char]
                target_v = 0.25 if char in "zvj" else 0.0
            elif cls == "stop":
                target_n = 0.7 if pos > 0.55 else 0.0
                self.noise_freq = PLOSIVES[char]
            elif cls == "nasal":
                target_v, target_f = 0.45, list(NASALS[char])
            elif cls == "glide":
                target_v, target_f = 0.7, list(GLIDES[char])
        self.voiced_amp += (target_v - self.voiced_amp) * 0.35
        self.noise_amp += (target_n - self.noise_amp) * 0.5
        self.formants = [f + (g - f) * 0.3 for f, g in zip(self.formants, target_f, strict=True)]
        self.lift *= 0.97

    def resonators(self) -> list[tuple[float, float, float]]:
        """(gain, a1, a2) of the three formant resonators and the noise band, for now."""
        coeffs = []
        for i, (freq, bandwidth) in enumerate(zip([*self.formants, self.noise_freq],
                                                  BANDWIDTHS, strict=True)):
            freq = freq * self.t.voice_formants if i < 3 else freq
            r = exp(-PI * bandwidth / self.rate)
            a1, a2 = 2 * r * cos(TWO_PI * freq / self.rate), -r * r
            coeffs.append((1.0 - a1 - a2, a1, a2))
        return coeffs

    def run(self, start: int, out: list[float], hiss: list[float]) -> None:
        """Synthesize one block from ``start``: the voiced part into ``out``, noise into
        ``hiss``."""
        coeffs, state = self.resonators(), self.state
        f0 = self.t.voice_f0 * (1.08 - 0.2 * (start / self.total) + self.lift)
        step = f0 / self.rate
        for i in range(start, min(start + BLOCK, self.total)):
            self.phase += step
            if self.phase >= 1.0:
                self.phase -= 1.0
            x = self.voiced_amp * _glottal_flow(self.phase)
            for k in range(3):
                g, a1, a2 = coeffs[k]
                y = g * x + a1 * state[k][0] + a2 * state[k][1]
                state[k][1], state[k][0] = state[k][0], y
                x = y
            g, a1, a2 = coeffs[3]
            burst = g * self.noise() * self.noise_amp
            y = burst + a1 * state[3][0] + a2 * state[3][1]
            state[3][1], state[3][0] = state[3][0], y
            out[i] = x
            hiss[i] = y


def _radiate(out: list[float], hiss: list[float], rate: int) -> list[float]:
    """Lip radiation (a first difference brightens the flow into a voice), then a compressor
    (instant attack, 120 ms release, gain ≤ 8) so every syllable is about as loud; the noise
    of fricatives and bursts goes on top, about 12 dB below the vowels."""
    radiated, last, env = [], 0.0, 0.0
    release = 1.0 - 1.0 / (0.12 * rate)
    top = max(abs(h) for h in hiss) or 1.0
    for s, h in zip(out, hiss, strict=True):
        value = s - last
        last = s
        env = max(abs(value), env * release)
        value = value * min(8.0, 0.5 / env) if env > 0 else 0.0
        radiated.append(value + 0.13 * h / top)
    return radiated


def voice(t: EngineTheme, seconds: float = VOICE_SECONDS) -> list[float]:
    """Speech-like audio for ``t.voice_text``: VOICE_RATE samples, ``seconds`` long."""
    rate, total = VOICE_RATE, int(seconds * VOICE_RATE)
    placed = segments(t.voice_text, seconds, rate)
    tract = _Tract(t, total, rate)
    out, hiss = [0.0] * total, [0.0] * total
    index = 0
    for start in range(0, total, BLOCK):
        while index + 1 < len(placed) and placed[index + 1][0] <= start:
            index += 1
        tract.aim(placed[index] if placed and start >= placed[0][0] else None, start)
        tract.run(start, out, hiss)
    return finish(_radiate(out, hiss, rate), 0.85)
