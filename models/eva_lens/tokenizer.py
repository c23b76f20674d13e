"""The CLIP byte-level BPE tokenizer used by EVA-CLIP: a Python reference and a Hugging Face ``tokenizer.json`` builder.

``ClipBpeReference`` is our own implementation of the algorithm in OpenAI CLIP's ``clip/simple_tokenizer.py``, in the
variant EVA-CLIP and open_clip ship (``eva_clip/tokenizer.py``): same merges file, same 49,408-entry vocabulary,
special tokens named ``<start_of_text>`` (49406) and ``<end_of_text>`` (49407), pad id 0, context 77, and an
over-long prompt cut to 77 tokens with the last one set to EOT.

One deliberate difference: CLIP cleans text with ``ftfy.fix_text`` first. ftfy is not installed on this machine (and
the browser has no ftfy), so when it cannot be imported we apply ``unicodedata.normalize("NFC", text)`` in its place,
which is the last step ``fix_text`` performs by default. What ftfy does beyond NFC is then skipped: repairing mojibake,
straightening curly quotes (``’`` → ``'``, so ``it’s`` keeps a separate ``’`` token here), folding full-width forms and
Latin ligatures (``ﬁ``), removing terminal escapes and some control characters, and decoding HTML entities *before*
NFC. The Hugging Face ``tokenizer.json`` that openai/clip-vit-base-patch32 ships has the same limitation (its
normalizer is NFC + whitespace + lowercase), so NFC cleaning is what every runtime of this project can reproduce.

``build_tokenizer_json`` writes that Hugging Face format (the layout of ``transformers``' ``CLIPConverter``), which
``src/engine/text/tokenizer.ts`` loads with ``@huggingface/tokenizers``. ``models/tests/fixtures/tokenizer_cases.json``
holds reference ids for a few hundred strings so the browser tokenizer can be checked against this module.

Regenerate both files with::

    node scripts/python.mjs -m eva_lens.tokenizer \\
        --json public/models/eva-lens-demo/tokenizer.json --fixture models/tests/fixtures/tokenizer_cases.json

Source of the algorithm: https://github.com/openai/CLIP/blob/main/clip/simple_tokenizer.py (MIT, see
``data/CLIP_LICENSE``) and https://github.com/baaivision/EVA/blob/master/EVA-CLIP/rei/eva_clip/tokenizer.py.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import unicodedata
from functools import lru_cache
from html.entities import html5, name2codepoint
from pathlib import Path
from typing import Callable, Literal, Sequence

import numpy as np
import regex

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_BPE_PATH = DATA_DIR / "bpe_simple_vocab_16e6.txt.gz"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOKENIZER_JSON_PATH = REPO_ROOT / "public" / "models" / "eva-lens-demo" / "tokenizer.json"
DEFAULT_FIXTURE_PATH = REPO_ROOT / "models" / "tests" / "fixtures" / "tokenizer_cases.json"
# The ImageNet class names and 80 templates live once in the repo, as the app's preset (source and licence inside).
IMAGENET_PRESET_PATH = REPO_ROOT / "src" / "data" / "presets" / "imagenet-1k.json"

CONTEXT_LENGTH = 77
VOCAB_SIZE = 49408
NUM_MERGES = 49152 - 256 - 2  # 48,894: the merges file holds more; CLIP keeps this many (first line is a header)
SOT_TOKEN_ID = 49406
EOT_TOKEN_ID = 49407
PAD_TOKEN_ID = 0
END_OF_WORD = "</w>"

# EVA-CLIP / open_clip names of the two special tokens; OpenAI CLIP and Hugging Face call them differently.
EVA_SPECIAL_TOKENS = ("<start_of_text>", "<end_of_text>")
HF_SPECIAL_TOKENS = ("<|startoftext|>", "<|endoftext|>")

# The word-splitting pattern of CLIP (without the special-token alternatives that precede it in simple_tokenizer.py).
CLIP_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""

TextFixer = Literal["auto", "ftfy", "nfc"]


# --- the algorithm ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """Map each of the 256 byte values to a printable unicode character, as GPT-2 and CLIP do.

    Printable Latin-1 bytes map to themselves; the other 68 (controls, space, soft hyphen…) are shifted to U+0100 and
    up, in byte order. BPE then works on strings with no whitespace or control characters in them.
    """
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    # Keep the printable-first order: the vocabulary lists byte tokens in this order.
    return {b: mapping[b] for b in printable + [b for b in range(256) if b not in printable]}


def load_merges(bpe_path: Path | str = DEFAULT_BPE_PATH) -> list[tuple[str, str]]:
    """Read the merge rules, best first: lines 1 … 48,894 of the gzip file (line 0 is a version header)."""
    lines = gzip.open(bpe_path).read().decode("utf-8").split("\n")
    merges = []
    for line in lines[1 : NUM_MERGES + 1]:
        first, second = line.split()
        merges.append((first, second))
    return merges


def build_vocab(merges: Sequence[tuple[str, str]], special_tokens: Sequence[str] = EVA_SPECIAL_TOKENS) -> list[str]:
    """Token strings in id order: 256 bytes, 256 bytes + ``</w>``, one token per merge, then the special tokens."""
    byte_tokens = list(bytes_to_unicode().values())
    vocab = byte_tokens + [t + END_OF_WORD for t in byte_tokens]
    vocab += [first + second for first, second in merges]
    vocab += list(special_tokens)
    return vocab


def _ftfy_fix_text() -> Callable[[str], str] | None:
    try:
        import ftfy  # noqa: PLC0415 - optional dependency, absent on this machine
    except ImportError:
        return None
    return ftfy.fix_text


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def resolve_text_fixer(text_fixer: TextFixer) -> Callable[[str], str]:
    """The first cleaning step: ``ftfy.fix_text`` when asked for (or importable, for "auto"), else NFC."""
    fix_text = _ftfy_fix_text() if text_fixer in ("auto", "ftfy") else None
    if text_fixer == "ftfy" and fix_text is None:
        raise ImportError("text_fixer='ftfy' needs the ftfy package, which is not installed")
    return fix_text if fix_text is not None else _nfc


_WHITESPACE = regex.compile(r"\s+")


def clean_text(text: str, fix_text: Callable[[str], str] = _nfc) -> str:
    """CLIP's ``basic_clean`` + ``whitespace_clean`` + lower-casing.

    HTML entities are decoded twice because captions scraped from the web are often escaped twice (``&amp;lt;``).
    ``str.strip`` removes what ``str.isspace`` calls whitespace (which includes U+001C…U+001F), while ``\\s`` in the
    ``regex`` module is Unicode White_Space (which does not); the browser wrapper reproduces both.
    """
    text = html.unescape(html.unescape(fix_text(text))).strip()
    return _WHITESPACE.sub(" ", text).strip().lower()


class ClipBpeReference:
    """The EVA-CLIP / OpenAI CLIP BPE tokenizer, written from the algorithm (not a copy of either file).

    Args:
        bpe_path: the gzip merges file (``bpe_simple_vocab_16e6.txt.gz``).
        text_fixer: "auto" uses ftfy when importable and NFC otherwise (CLIP's behaviour as far as this machine
            allows); "nfc" always uses NFC (what the fixture and the browser use); "ftfy" requires ftfy.
    """

    def __init__(self, bpe_path: Path | str = DEFAULT_BPE_PATH, text_fixer: TextFixer = "auto") -> None:
        self.byte_encoder = bytes_to_unicode()
        self.merges = load_merges(bpe_path)
        self.vocab = build_vocab(self.merges)
        self.encoder = {token: i for i, token in enumerate(self.vocab)}
        self.bpe_ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.sot_token_id = self.encoder[EVA_SPECIAL_TOKENS[0]]
        self.eot_token_id = self.encoder[EVA_SPECIAL_TOKENS[1]]
        self.fix_text = resolve_text_fixer(text_fixer)
        # Special tokens are matched before anything else, so "<end_of_text>" typed in a prompt becomes EOT, as in
        # EVA-CLIP; their BPE result is themselves (the cache is seeded with them, as in simple_tokenizer.py).
        specials = "|".join(regex.escape(t) for t in EVA_SPECIAL_TOKENS)
        self.pattern = regex.compile(specials + "|" + CLIP_SPLIT_PATTERN, regex.IGNORECASE)
        self.cache: dict[str, list[str]] = {t: [t] for t in EVA_SPECIAL_TOKENS}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def bpe(self, word: str) -> list[str]:
        """Split one byte-level word into vocabulary tokens; the last symbol carries ``</w>``.

        Each round merges every occurrence (left to right) of the adjacent pair with the lowest rank, until no
        adjacent pair has a rank.
        """
        cached = self.cache.get(word)
        if cached is not None:
            return cached
        symbols = list(word[:-1]) + [word[-1] + END_OF_WORD]
        while len(symbols) > 1:
            ranked = [(self.bpe_ranks.get(pair, -1), pair) for pair in zip(symbols, symbols[1:])]
            ranked = [(rank, pair) for rank, pair in ranked if rank >= 0]
            if not ranked:
                break
            first, second = min(ranked)[1]
            merged: list[str] = []
            i = 0
            while i < len(symbols):
                if i < len(symbols) - 1 and symbols[i] == first and symbols[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        self.cache[word] = symbols
        return symbols

    def encode_text(self, text: str) -> list[int]:
        """Token ids of ``text`` without SOT/EOT."""
        ids: list[int] = []
        for piece in self.pattern.findall(clean_text(text, self.fix_text)):
            word = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[token] for token in self.bpe(word))
        return ids

    def encode(self, text: str) -> list[int]:
        """``[SOT] + tokens + [EOT]``, unpadded and never truncated."""
        return [self.sot_token_id, *self.encode_text(text), self.eot_token_id]

    def tokenize(self, texts: str | Sequence[str], context_length: int = CONTEXT_LENGTH) -> np.ndarray:
        """EVA-CLIP's ``tokenize``: int64 ``[N, context_length]``, zero padded.

        A prompt longer than the context is cut to ``context_length`` tokens and its last token set to EOT, so the
        text tower's argmax pooling still finds an EOT.
        """
        if isinstance(texts, str):
            texts = [texts]
        result = np.full((len(texts), context_length), PAD_TOKEN_ID, dtype=np.int64)  # [N, context_length]
        for row, text in enumerate(texts):
            ids = self.encode(text)
            if len(ids) > context_length:
                ids = ids[:context_length]
                ids[-1] = self.eot_token_id
            result[row, : len(ids)] = ids
        return result


# --- Hugging Face tokenizer.json ----------------------------------------------------------------------------------


def build_tokenizer_json(bpe_gz_path: Path | str = DEFAULT_BPE_PATH) -> dict:
    """The Hugging Face ``tokenizer.json`` for the CLIP BPE, laid out like the one openai/clip-vit-base-patch32 ships.

    Same vocabulary and merges as ``ClipBpeReference``, with the special tokens under their OpenAI names (ids are
    what matter to the model). The components follow ``transformers``' ``CLIPConverter``: normalizer NFC → ``\\s+`` →
    " " → lowercase; pre-tokenizer Split on the CLIP pattern keeping the matches (``invert``) then ByteLevel without a
    prefix space; BPE with ``end_of_word_suffix="</w>"``; RobertaProcessing adds SOT/EOT. ByteLevel's own GPT-2 regex
    is switched off (``use_regex: false``): the Split pieces contain no whitespace and never split further under it.
    """
    merges = load_merges(bpe_gz_path)
    vocab = build_vocab(merges, HF_SPECIAL_TOKENS)
    sot, eot = HF_SPECIAL_TOKENS

    def added_token(token_id: int, content: str) -> dict:
        return {
            "id": token_id,
            "content": content,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": True,
            "special": True,
        }

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added_token(SOT_TOKEN_ID, sot), added_token(EOT_TOKEN_ID, eot)],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "NFC"},
                {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
                {"type": "Lowercase"},
            ],
        },
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": CLIP_SPLIT_PATTERN}, "behavior": "Removed", "invert": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        },
        "post_processor": {
            "type": "RobertaProcessing",
            "sep": [eot, EOT_TOKEN_ID],
            "cls": [sot, SOT_TOKEN_ID],
            "trim_offsets": False,
            "add_prefix_space": False,
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": eot,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": END_OF_WORD,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": {token: i for i, token in enumerate(vocab)},
            "merges": [f"{first} {second}" for first, second in merges],
        },
    }


def write_tokenizer_json(out_path: Path | str, bpe_gz_path: Path | str = DEFAULT_BPE_PATH) -> Path:
    """Write ``build_tokenizer_json`` as compact UTF-8 JSON (about 1.5 MB, 0.55 MB gzipped) and return the path."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build_tokenizer_json(bpe_gz_path), ensure_ascii=False, separators=(",", ":"))
    out_path.write_text(text + "\n", encoding="utf-8")
    return out_path


def export_tokenizer(model_dir: Path | str, bpe_gz_path: Path | str = DEFAULT_BPE_PATH) -> Path:
    """CLI entry: write ``<model_dir>/tokenizer.json`` (the name the manifest expects) and return its path."""
    return write_tokenizer_json(Path(model_dir) / "tokenizer.json", bpe_gz_path)


# --- parity fixture for the browser tokenizer ---------------------------------------------------------------------


def browser_entity_names() -> list[str]:
    """Named HTML entities ``src/engine/text/tokenizer.ts`` decodes: the 252 of HTML 4, ``apos``, and the upper-case
    legacy forms (``AMP``…); values as in HTML 5. Python decodes all 2,231 HTML 5 names; the fixture covers these."""
    legacy = {name for name in html5 if not name.endswith(";")}
    return sorted(set(name2codepoint) | {"apos"} | legacy)


# Texts chosen by hand: each line exercises one rule of the cleaning, the split pattern or BPE.
EDGE_CASE_TEXTS: tuple[str, ...] = (
    # plain prompts, case, whitespace
    "a photo of a cat.",
    "a photo of a dog",
    "A Photo Of A CAT",
    "iPhone eBay NASA McDonald's",
    "a  photo\tof\na   cat",
    "\n\n  leading and trailing spaces \t ",
    "line one\r\nline two\rline three",
    "tab\tseparated\tvalues",
    "non\u00a0breaking\u3000ideographic\u2003em\u2009thin\u202fspace",
    "next\u0085line and line\u2028separator",
    "",
    "   \t\n  ",
    # digits and numbers
    "3.14",
    "1,000",
    "1000000 and 0.001",
    "2024-01-15 at 12:30pm",
    "$9.99 or €5 or £3 or ¥100",
    "50% off, #1 seller",
    "version v2.0.1",
    "½ cup, x² + y³",
    "arabic-indic ٣ and devanagari ५ digits",
    "circled ① and roman Ⅻ",
    # contractions
    "it's",
    "don't stop",
    "we're here, they've gone, I'm fine, you'll see, he'd know",
    "IT'S LOUD",
    "rock 'n' roll",
    "'s",
    "O'Brien's cats' toys",
    "it’s a curly apostrophe",
    "it'ſ a long s",
    # accents, composition, letter case beyond ASCII
    "café",
    "cafe\u0301 (decomposed)",
    "naïve Ångström",
    "crème brûlée and jalapeño",
    "São Paulo, Zürich, Kraków",
    "ﬁsh ligature",
    "Ｆｕｌｌｗｉｄｔｈ text",
    "ΟΔΟΣ final sigma",
    "İstanbul dotted capital i",
    "Straße ß ẞ",
    "ǅemal titlecase",
    "ᾳ ypogegrammeni and ͅ alone",
    # emoji
    "🐱",
    "👍🏽",
    "a photo of a 🐱👍🏽",
    "👨\u200d👩\u200d👧\u200d👦 family",
    "🇫🇷 flag",
    "❤️ heart",
    # CJK and other scripts
    "猫",
    "一只猫的照片",
    "日本語のテキスト",
    "한국어 고양이",
    "Кошка на диване",
    "γάτα",
    "बिल्ली",
    "แมว",
    # right-to-left
    "قطة",
    "صورة قطة",
    "חתול",
    "שלום עולם",
    "a cat قطة חתול mixed",
    "\u202bembedded rtl\u202c",
    # punctuation and symbols
    "hello, world!",
    "what?!",
    "...",
    "— – -",
    "a-b_c",
    "(parenthesis) [brackets] {braces}",
    "C++ & C# & F#",
    "email@example.com",
    "https://example.com/path?q=1&r=2",
    "<b>bold</b>",
    '"quoted"',
    "“curly” «guillemets» ‹single›",
    "@#$%^&*",
    "a/b\\c ~`|",
    # HTML entities (decoded twice)
    "&amp;",
    "&lt;b&gt;",
    "&amp;lt;b&amp;gt;",
    "&amp;amp;amp;",
    "&quot;hi&quot; &apos;there&apos;",
    "&#39;s and &#x27;t",
    "&#65;&#x42;&#X43;&#0067",
    "&#128; &#x85; &#150;",
    "&#0; and &#xD800; and &#1114112;",
    "&#1;&#x7f;&#xFFFE; removed",
    "&#x1F431; cat emoji",
    "&#9;tab &#10;newline &#13;return",
    "fish&nbsp;&amp;&nbsp;chips",
    "caf&eacute; and caf&eacute",
    "&ampxyz &notin; &notit; &copy2024",
    "&Amp; &AMP; &unknown; &;",
    "&constructor; &__proto__; &toString",
    "AT&T and fish & chips",
    "&# &#x; &#xyz; &",
    "e&#769; combining by reference",
    "&#101;\u0301 base by reference",
    # control and invisible characters
    "bell\x07char nul\x00char",
    "\x1cfile separators\x1f",
    "mid\x1cfile separator",
    "zero\u200bwidth soft\u00adhyphen",
    "bom\ufeffchar",
    "\ufeffleading bom",
    # special-token names typed in a prompt
    "<start_of_text>",
    "a photo of <end_of_text> a cat",
    "cat<end_of_text>dog",
    "!<end_of_text>",
    "<START_OF_TEXT> upper case",
    "<end_of_text><end_of_text>",
    "🐱<end_of_text> and 𝐀<end_of_text>",
    "<|startoftext|>a cat<|endoftext|>",
    # lengths around the context
    "a " * 74,
    "a " * 75,
    "a " * 76,
    "a " * 100,
    "supercalifragilisticexpialidocious " * 5,
    "x" * 300,
    "🐱" * 40,
    "the quick brown fox jumps over the lazy dog. " * 12,
)


def fixture_texts(classnames: Sequence[str], templates: Sequence[str]) -> list[str]:
    """The fixture strings: every 4th ImageNet class name in a template (cycling through the 80 OpenAI templates
    by class index), a long list of class names, then ``EDGE_CASE_TEXTS``, then one string per decoded entity name."""
    texts = [templates[i % len(templates)].format(classnames[i]) for i in range(0, len(classnames), 4)]
    texts.append(", ".join(classnames[:60]))
    texts.extend(EDGE_CASE_TEXTS)
    texts.extend(f"&{name}; &{name} x&{name}y" for name in browser_entity_names())
    return texts


def build_fixture(texts: Sequence[str], reference: ClipBpeReference) -> dict:
    """Reference ids (``encode``: SOT … EOT, unpadded, untruncated) for each text."""
    return {
        "description": "CLIP BPE reference ids (models/eva_lens/tokenizer.py, NFC text cleaning) for parity tests",
        "generator": "node scripts/python.mjs -m eva_lens.tokenizer --fixture "
        "models/tests/fixtures/tokenizer_cases.json",
        "contextLength": CONTEXT_LENGTH,
        "sotTokenId": SOT_TOKEN_ID,
        "eotTokenId": EOT_TOKEN_ID,
        "padTokenId": PAD_TOKEN_ID,
        "cases": [{"text": text, "ids": reference.encode(text)} for text in texts],
    }


def load_imagenet_prompt_data(preset_path: Path = IMAGENET_PRESET_PATH) -> tuple[list[str], list[str]]:
    """ImageNet class names (all 1,000, duplicates included) and OpenAI's 80 templates, from the app's preset."""
    preset = json.loads(preset_path.read_text(encoding="utf-8"))
    return preset["labels"], preset["templates"]


def dump_fixture(fixture: dict) -> str:
    """JSON with one case per line, so a diff of the fixture shows which strings changed."""
    header = {k: v for k, v in fixture.items() if k != "cases"}
    lines = [json.dumps(header, ensure_ascii=False)[:-1] + ', "cases": [']
    cases = [json.dumps(case, ensure_ascii=False, separators=(",", ":")) for case in fixture["cases"]]
    lines.append(",\n".join(cases))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def write_fixture(out_path: Path | str = DEFAULT_FIXTURE_PATH, preset_path: Path = IMAGENET_PRESET_PATH) -> Path:
    """Regenerate the parity fixture with the NFC reference (independent of whether ftfy is installed)."""
    out_path = Path(out_path)
    classnames, templates = load_imagenet_prompt_data(preset_path)
    fixture = build_fixture(fixture_texts(classnames, templates), ClipBpeReference(text_fixer="nfc"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(dump_fixture(fixture), encoding="utf-8")
    return out_path


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m eva_lens.tokenizer``: write tokenizer.json and/or the parity fixture."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--json", type=Path, help="where to write the Hugging Face tokenizer.json")
    parser.add_argument("--fixture", type=Path, help="where to write the parity fixture")
    args = parser.parse_args(argv)
    if args.json is None and args.fixture is None:
        parser.error("nothing to do: pass --json and/or --fixture")
    if args.json is not None:
        path = write_tokenizer_json(args.json)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    if args.fixture is not None:
        path = write_fixture(args.fixture)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
