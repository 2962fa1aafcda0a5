"""What the sandbox media are: the engine themes, the render cards and the layer samples.

Plain data, no I/O: :data:`ENGINE_THEMES` (an engine's badge, music and voice),
:data:`CARDS` (one 9:16 title-card render each: title, colours, call to action),
:data:`LAYER_SAMPLES` (voiceovers, b-roll clips, backgrounds) and :data:`OTHER_SAMPLES`
(uploads that are not layer outputs). The sizes, durations and sample rates every file shares
are here too, and where the files and the committed font live.

>>> theme("recipe-shorts").badge
'60-SECOND RECIPE'
>>> [c.stem for c in CARDS if c.engine == "weekly-tips"][0]
'render_a'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MEDIA_DIR = Path(__file__).resolve().parent.parent / "media"
FONT_FILE = MEDIA_DIR / "fonts" / "Poppins-Bold.ttf"

WIDTH, HEIGHT, FPS = 360, 640, 25
CARD_SECONDS = 3.0
BROLL_SECONDS = 3.0
VOICE_SECONDS = 3.0
MUSIC_RATE = 22050
VOICE_RATE = 16000
WORKSPACE_HANDLE = "@brightside.studio"


@dataclass(frozen=True)
class EngineTheme:
    """One engine's look and sound: its badge, call to action, music and voice."""

    slug: str                 # matches the sandbox world's engine slug
    title: str
    badge: str                # the pill above every title of this engine
    voiceover: str            # its voiceover layer sample (file name)
    bpm: int
    chords: tuple[tuple[int, ...], ...]   # MIDI notes, two beats each, looped
    pluck: tuple[float, ...]  # harmonic amplitudes of the melody instrument
    kick: float               # kick drum level (0: none)
    voice_f0: float           # the voiceover's pitch (Hz)
    voice_formants: float     # formant scale (1.0 ≈ adult male, 1.17 ≈ adult female)
    voice_text: str           # what the voiceover "says" (its syllables drive the synthesis)


@dataclass(frozen=True)
class Card:
    """One render clip: a 9:16 title card with its own title and colour scheme."""

    stem: str                 # file stem: ``<stem>.mp4`` and ``<stem>.jpg``
    engine: str               # EngineTheme.slug
    title: str
    subtitle: str
    cta: str                  # the bouncing call-to-action pill
    top: str                  # background gradient, top-left colour
    bottom: str               # background gradient, bottom-right colour
    text: str                 # title and subtitle colour
    accent: str               # badge, underline, CTA pill and progress bar colour
    accent_text: str          # text colour on the accent
    transpose: int = 0        # the jingle's key, in semitones from the engine's

    @property
    def video(self) -> str:
        return f"{self.stem}.mp4"

    @property
    def thumbnail(self) -> str:
        return f"{self.stem}.jpg"


@dataclass(frozen=True)
class LayerSample:
    """A layer output sample (voiceover, b-roll, background) or another uploadable file."""

    file: str
    kind: str                 # content resource type: video | audio | image | zip | safe_tensors
    layer: str | None         # voiceover | broll | background | None (not a layer output)
    title: str
    engine: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    thumbnail: str | None = None


ENGINE_THEMES: tuple[EngineTheme, ...] = (
    EngineTheme("launch-teasers", "Launch teasers", "PRODUCT DROP",
                "voiceover_launch-teasers.mp3", 120,
                ((57, 60, 64), (53, 57, 60), (48, 55, 60), (55, 59, 62)),
                (1.0, 0.5, 0.33, 0.25, 0.2), 0.9, 104.0, 1.0,
                "Meet Aurora. Our lightest earbuds yet, this Friday."),
    EngineTheme("recipe-shorts", "Recipe shorts", "60-SECOND RECIPE",
                "voiceover_recipe-shorts.mp3", 104,
                ((60, 64, 67), (53, 57, 60), (55, 59, 62), (60, 64, 67)),
                (1.0, 0.62, 0.3, 0.14), 0.45, 196.0, 1.17,
                "One pan, one pot of pasta, ready in sixty seconds."),
    EngineTheme("weekly-tips", "Weekly tips", "WEEKLY TIPS",
                "voiceover_weekly-tips.mp3", 84,
                ((53, 57, 60, 64), (52, 55, 59, 62), (50, 53, 57, 60), (55, 59, 62, 65)),
                (1.0, 0.22, 0.06), 0.5, 142.0, 1.06,
                "Three tips to stop scrolling, and take your evening back."),
)

CARDS: tuple[Card, ...] = (
    Card("render_a", "weekly-tips", "3 tips to stop scrolling", "Tip 1: turn on grayscale",
         "Follow for tip 2", "#4338CA", "#9333EA", "#FFFFFF", "#FDE047", "#2E1065", 0),
    Card("render_b", "recipe-shorts", "One-pan pasta in 60 s", "Fewer dishes, more flavour",
         "Save this recipe", "#EA580C", "#BE123C", "#FFFFFF", "#FEF3C7", "#7C2D12", 0),
    Card("render_aurora_earbuds", "launch-teasers", "Meet Aurora: our lightest earbuds yet",
         "Launching March 14", "Set a reminder", "#0F172A", "#4C1D95", "#FFFFFF", "#5EEAD4",
         "#042F2E", 0),
    Card("render_drop_friday", "launch-teasers", "Drop 02 lands this Friday",
         "Only 500 pieces", "Turn on alerts", "#111827", "#9D174D", "#FFFFFF", "#F472B6",
         "#500724", 3),
    Card("render_rebuilt_from_scratch", "launch-teasers", "We rebuilt it from scratch",
         "Here's what changed", "Watch part 2", "#18181B", "#3F3F46", "#FAFAFA", "#FACC15",
         "#1C1917", -2),
    Card("render_banana_pancakes", "recipe-shorts", "3-ingredient banana pancakes",
         "No flour, no sugar", "Save this recipe", "#FDE68A", "#FB923C", "#431407", "#7C2D12",
         "#FFF7ED", 2),
    Card("render_crispy_chickpeas", "recipe-shorts", "Crispy chickpeas, no oil",
         "Air fryer, 12 minutes", "Comment 'recipe'", "#BE185D", "#9F1239", "#FFFFFF",
         "#FDE68A", "#831843", 5),
    Card("render_iced_matcha", "recipe-shorts", "Café-style iced matcha at home",
         "2 ingredients, 1 minute", "Share with a friend", "#D9F99D", "#65A30D", "#1A2E05",
         "#1A2E05", "#ECFCCB", -3),
    Card("render_two_minute_rule", "weekly-tips", "The 2-minute rule, explained",
         "Small tasks, done now", "Follow for more", "#0F766E", "#115E59", "#FFFFFF",
         "#FDBA74", "#431407", 2),
    Card("render_plan_your_week", "weekly-tips", "Plan your week in 10 minutes",
         "Your Monday reset", "Save for Sunday", "#1E3A8A", "#0369A1", "#FFFFFF", "#FCD34D",
         "#422006", -4),
)

LAYER_SAMPLES: tuple[LayerSample, ...] = (
    LayerSample("voiceover.mp3", "audio", "voiceover", "Narrator voiceover", None,
                VOICE_SECONDS),
    *(LayerSample(t.voiceover, "audio", "voiceover", f"{t.title} voiceover", t.slug,
                  VOICE_SECONDS) for t in ENGINE_THEMES),
    LayerSample("broll_a.mp4", "video", "broll", "Bokeh city lights", "launch-teasers",
                BROLL_SECONDS, WIDTH, HEIGHT, "broll_a.jpg"),
    LayerSample("broll_b.mp4", "video", "broll", "Sunrise over the hills", "weekly-tips",
                BROLL_SECONDS, WIDTH, HEIGHT, "broll_b.jpg"),
    LayerSample("broll_c.mp4", "video", "broll", "Fizzy bubbles", "recipe-shorts",
                BROLL_SECONDS, WIDTH, HEIGHT, "broll_c.jpg"),
    LayerSample("background.jpg", "image", "background", "Bokeh background", None,
                None, WIDTH, HEIGHT),
    LayerSample("background.png", "image", "background", "Sunrise background", None,
                None, WIDTH, HEIGHT),
)
OTHER_SAMPLES: tuple[LayerSample, ...] = (
    LayerSample("brand-kit.zip", "zip", None, "Brand kit"),
    LayerSample("style-lora.safetensors", "safe_tensors", None, "Style LoRA"),
)
NARRATOR = EngineTheme("narrator", "Narrator", "", "voiceover.mp3", 0, (), (), 0.0, 124.0, 1.03,
                       "Welcome back. Here is the video you asked for.")


def theme(slug: str) -> EngineTheme:
    """The engine theme with this slug (KeyError if there is none)."""
    for item in ENGINE_THEMES:
        if item.slug == slug:
            return item
    raise KeyError(slug)
