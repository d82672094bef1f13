#!/usr/bin/env python3
"""Builds the tokenizer test corpus (corpus/*.txt.gz) from text that ships with a Debian system and Python.

Run once by a developer; the output is committed, so tests never run this. Each file is cut at the last
newline before its size budget. Sources are redistributable: licence texts, gettext translations, the
freedesktop MIME database, Python's standard library, cfn-lint's AWS schemas; edge-cases.txt is generated
here (fixed seed) plus hand-written lines.
"""
import glob, gzip, os, random, subprocess, sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
BUDGET = 1 << 20


def cut(data: bytes, budget: int = BUDGET) -> bytes:
    data = data[:budget]
    return data[: data.rfind(b"\n") + 1]


def msgstrs(langs):
    out = []
    for lang in langs:
        for mo in sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo")):
            po = subprocess.run(["msgunfmt", mo], capture_output=True).stdout.decode("utf-8", "replace")
            for line in po.splitlines():
                if line.startswith("msgstr") or (line.startswith('"') and out and out[-1] is not None):
                    text = line.split('"', 1)[1].rsplit('"', 1)[0] if '"' in line else ""
                    text = text.replace("\\n", "\n").replace('\\"', '"').replace("\\t", "\t")
                    if text:
                        out.append(text)
    return "\n".join(out).encode("utf-8") + b"\n"


def english():
    parts = []
    for f in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(f):
            parts.append(open(f, "rb").read())
    for f in sorted(glob.glob("/usr/share/doc/*/copyright")):
        parts.append(open(f, "rb").read())
    return b"".join(parts).decode("utf-8", "replace").encode("utf-8")


def code():
    lib = os.path.dirname(os.__file__)
    return b"".join(open(f, "rb").read() for f in sorted(glob.glob(os.path.join(lib, "*.py"))))


def json_schemas():
    import cfnlint
    root = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
    files = sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True))
    random.Random(7).shuffle(files)  # sorted order starts with near-identical enum files
    return b"".join(open(f, "rb").read() + b"\n" for f in files[:4000])


def edge_cases():
    rng = random.Random(20261122)
    lines = [
        "Hello, world! It's a test: don't, WON'T, I'm, you're, we've, they'll, he'd, 'S 'T 'RE 'VE 'M 'LL 'D.",
        "x'ſa x'ſt O'ſ Kelvin 'K İstanbul ıi ß ẞ ǅungla ʰaspirated \u2019s curly",
        "\ufeffBOM at start, \ufeff inside, word\ufeffword, \u200bzero\u200bwidth\u200b",
        "crlf line\r\n\r\n\r\nafter blank crlf lines\r\n",
        "tabs\t\t\tand  many     spaces      here\u00a0nbsp\u3000ideographic\u2028ls\u2029ps\u0085nel",
        "digits 1234567890 12345678901234567890 ٠١٢٣٤٥٦٧٨٩ ۱۲۳ ⅠⅡⅫ ½ ² 𝟏𝟐𝟑 𝟘𝟙",
        "emoji 👋🏽 👩‍👩‍👧‍👦 🏳️‍🌈 👨🏿‍💻 ❤️ 🇫🇷🇯🇵 🫠🫶🏻",
        "combining: e\u0301 a\u0308 n\u0303 Z\u0335\u0321a\u0336l\u0337g\u0338o\u0334 क्षि नमस्ते ที่ นี่",
        "non-BMP letters: 𠀀.t 𠀁𠀂𠀃 𝐀𝐁𝐂𝐚𝐛𝐜 𐌰𐌱𐌲 𞤀𞤢 𑄃𑄧 𱍐𱍑 𮯰 𞓐𞓑",
        " \U0001D7CFab \U00020000.t \U0001D400\U0001D401 x\U0001D41Ay",
        "中文：你好，世界！今天天气很好。日本語：こんにちは世界、カタカナ、ｶﾀｶﾅ。한국어: 안녕하세요 세계.",
        "العربية: مرحبا بالعالم، هذا اختبار. עברית: שלום עולם. Ελληνικά: Γειά σου Κόσμε. Русский: Привет мир.",
        "<|endoftext|> <|fim_prefix|> <|endofprompt|> <|start|>user<|message|>hi<|end|>",
        "path/to/file.txt?q=1&x=2#frag /usr/bin/env //comment /* c */ \\\\server\\share",
        "ALLCAPS WORDS and CamelCaseWords and mixedCASEwords ÀÉÎõü ÆØÅæøå",
        "trailing spaces   ",
        "   \n   \n\n  \t\n",
    ]
    pool = (
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        + list(" \t\n\r'\".,;:!?()[]{}<>/\\|-_=+*&^%$#@~`")
        + ["\r\n", "  ", "\u00a0", "\ufeff", "\u200b", "\u0085", "\u2028", "\u3000", "ſ", "\u212a", "İ", "ı", "\u2019",
           "é", "ñ", "ü", "ø", "\u0301", "\u0308", "\u20dd", "\u0903", "中", "文", "日", "本", "語", "한", "국", "ع", "ر", "ب",
           "\U00020000", "\U0002a6d6", "\U0001d7cf", "\U0001d400", "\U0001d41a", "\U00010330", "\U0001e900", "\U00031350",
           "\U0002ebf0", "\U0001e4d0", "👋", "🏽", "\u200d", "👩", "❤", "\ufe0f", "٣", "Ⅻ", "²", "ǅ", "ʰ", "'s", "'S", "'ll", "'RE"]
    )
    for _ in range(12000):
        n = rng.randint(1, 60)
        lines.append("".join(rng.choice(pool) for _ in range(n)).replace("\n", " ").replace("\r", " "))
    # Long runs: whitespace, digits, one 20 KB letter run and one of punctuation (BPE on long pieces).
    lines.append(" " * 5000 + "x")
    lines.append("\t" * 300 + "\n" * 300 + " end")
    lines.append("9" * 5000)
    lines.append("".join(rng.choice("abcdefghij") for _ in range(20000)))
    lines.append("".join(rng.choice("!@#$%^&*()") for _ in range(5000)))
    lines.append("中" * 3000 + "文字" * 1000)
    text = "\n".join(lines) + "\n"
    # Sprinkle some CRLF line ends.
    return text.replace("\n", "\r\n", 50).encode("utf-8")


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        "english.txt": cut(english()),
        "chinese.txt": cut(msgstrs(["zh_CN", "zh_TW"]) + open("/usr/share/gnupg/help.zh_CN.txt", "rb").read() + open("/usr/share/gnupg/help.zh_TW.txt", "rb").read()),
        "japanese-korean-arabic.txt": cut(b"".join(cut(msgstrs([lang]), 350_000) for lang in ["ja", "ko", "ar"])),
        "code.txt": cut(code()),
        "json.txt": cut(json_schemas()),
        "multilingual.txt": cut(open("/usr/share/mime/packages/freedesktop.org.xml", "rb").read()),
        "edge-cases.txt": cut(edge_cases(), 2 << 20),
    }
    total = 0
    for name, data in files.items():
        data.decode("utf-8")  # must be valid UTF-8
        with gzip.GzipFile(os.path.join(OUT, name + ".gz"), "wb", compresslevel=9, mtime=0) as f:
            f.write(data)
        total += len(data)
        print(f"{name}\t{len(data)} B\tgz {os.path.getsize(os.path.join(OUT, name + '.gz'))} B")
    print(f"total\t{total} B")


if __name__ == "__main__":
    sys.exit(main())
