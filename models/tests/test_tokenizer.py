"""Tests of the CLIP BPE reference, the Hugging Face tokenizer.json built from it, and the browser parity fixture."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eva_lens import tokenizer as tok
from eva_lens.tokenizer import (
    CONTEXT_LENGTH,
    EOT_TOKEN_ID,
    SOT_TOKEN_ID,
    ClipBpeReference,
    build_tokenizer_json,
    bytes_to_unicode,
)


@pytest.fixture(scope="module")
def reference() -> ClipBpeReference:
    return ClipBpeReference(text_fixer="nfc")


@pytest.fixture(scope="module")
def tokenizer_json() -> dict:
    return build_tokenizer_json()


@pytest.fixture(scope="module")
def fixture_cases() -> list[dict]:
    return json.loads(tok.DEFAULT_FIXTURE_PATH.read_text(encoding="utf-8"))["cases"]


# --- the reference algorithm ----------------------------------------------------------------------------------------


def test_bytes_to_unicode_is_a_printable_bijection() -> None:
    mapping = bytes_to_unicode()
    assert sorted(mapping) == list(range(256))
    assert len(set(mapping.values())) == 256
    assert mapping[ord("a")] == "a" and mapping[ord("!")] == "!"
    assert mapping[ord(" ")] == "Ġ"  # space is shifted to U+0120, as in GPT-2
    assert all(not ch.isspace() and ch.isprintable() for ch in mapping.values())


def test_vocab_size_and_special_ids(reference: ClipBpeReference) -> None:
    assert len(reference.merges) == 48894
    assert reference.vocab_size == tok.VOCAB_SIZE == 49408
    assert len(set(reference.vocab)) == reference.vocab_size  # no token string appears twice
    assert reference.sot_token_id == SOT_TOKEN_ID == 49406
    assert reference.eot_token_id == EOT_TOKEN_ID == 49407
    assert reference.vocab[49406:] == ["<start_of_text>", "<end_of_text>"]
    # Layout: 256 bytes, the same 256 with </w>, then one token per merge in rank order.
    assert reference.vocab[256] == reference.vocab[0] + "</w>"
    assert reference.vocab[512] == "".join(reference.merges[0]) == "in"


def test_known_prompt_ids(reference: ClipBpeReference) -> None:
    assert reference.encode("a photo of a cat.") == [49406, 320, 1125, 539, 320, 2368, 269, 49407]
    # Each of these words is one whole-word token, so the ids can be read off the vocabulary.
    words = ["a", "photo", "of", "a", "cat", "dog"]
    expected = [reference.encoder[w + "</w>"] for w in words]
    assert reference.encode("A  Photo\tof\na CAT dog") == [SOT_TOKEN_ID, *expected, EOT_TOKEN_ID]
    assert reference.encode("") == [SOT_TOKEN_ID, EOT_TOKEN_ID]


def test_bpe_splits_unknown_words_into_vocabulary_pieces(reference: ClipBpeReference) -> None:
    word = "supercalifragilistic"
    pieces = reference.bpe(word)
    assert len(pieces) > 1 and "".join(pieces) == word + "</w>"
    assert all(p in reference.encoder for p in pieces)
    assert reference.bpe("x") == ["x</w>"]  # a single character needs no merge


def test_cleaning_follows_clip(reference: ClipBpeReference) -> None:
    assert tok.clean_text("  &amp;lt;B&amp;gt;  Café\u3000\t ") == "<b> café"
    assert tok.clean_text("cafe\u0301") == "café"  # NFC, the stand-in for ftfy
    assert tok.clean_text("\x1cfile\x1f") == "file"  # str.strip removes U+001C…U+001F
    assert reference.encode("&lt;b&gt;") == reference.encode("<b>")


def test_special_names_in_a_prompt_follow_eva_clip(reference: ClipBpeReference) -> None:
    assert reference.encode("<END_OF_TEXT>") == [SOT_TOKEN_ID, EOT_TOKEN_ID, EOT_TOKEN_ID]
    # After punctuation the name is part of a punctuation run and is BPE-encoded like text.
    assert EOT_TOKEN_ID not in reference.encode("!<end_of_text>")[1:-1]
    # The OpenAI / Hugging Face names are plain text to EVA-CLIP.
    assert EOT_TOKEN_ID not in reference.encode("<|endoftext|>")[1:-1]


def test_ftfy_is_required_only_when_asked_for() -> None:
    if tok._ftfy_fix_text() is not None:
        pytest.skip("ftfy is installed here")
    assert tok.resolve_text_fixer("auto") is tok._nfc
    with pytest.raises(ImportError, match="ftfy"):
        ClipBpeReference(text_fixer="ftfy")


def test_tokenize_pads_with_zeros(reference: ClipBpeReference) -> None:
    tokens = reference.tokenize(["a photo of a cat.", ""])
    assert tokens.dtype == np.int64 and tokens.shape == (2, CONTEXT_LENGTH)
    assert tokens[0, :8].tolist() == reference.encode("a photo of a cat.")
    assert not tokens[0, 8:].any()
    assert tokens[1, :3].tolist() == [SOT_TOKEN_ID, EOT_TOKEN_ID, 0]
    assert reference.tokenize("a cat").shape == (1, CONTEXT_LENGTH)


def test_tokenize_truncates_with_eot_last(reference: ClipBpeReference) -> None:
    fits = "a " * 75  # 75 one-token words + SOT + EOT = 77
    assert len(reference.encode(fits)) == CONTEXT_LENGTH
    assert reference.tokenize(fits)[0].tolist() == reference.encode(fits)

    long_text = "a photo of " * 40
    ids = reference.encode(long_text)
    assert len(ids) > CONTEXT_LENGTH
    row = reference.tokenize(long_text)[0].tolist()
    assert row == ids[: CONTEXT_LENGTH - 1] + [EOT_TOKEN_ID]
    assert int(np.argmax(reference.tokenize(long_text)[0])) == CONTEXT_LENGTH - 1  # pooling position
    assert reference.tokenize(long_text, context_length=10)[0].tolist() == ids[:9] + [EOT_TOKEN_ID]


# --- tokenizer.json ---------------------------------------------------------------------------------------------------


def test_tokenizer_json_vocab_and_merges_match_the_reference(reference: ClipBpeReference, tokenizer_json: dict) -> None:
    model = tokenizer_json["model"]
    vocab = model["vocab"]
    assert len(vocab) == tok.VOCAB_SIZE
    hf_names = dict(zip(["<start_of_text>", "<end_of_text>"], ["<|startoftext|>", "<|endoftext|>"]))
    assert vocab == {hf_names.get(t, t): i for i, t in enumerate(reference.vocab)}
    assert model["merges"] == [f"{a} {b}" for a, b in reference.merges]
    assert all(len(m.split(" ")) == 2 for m in model["merges"])  # byte-level tokens contain no space


def test_tokenizer_json_components(tokenizer_json: dict) -> None:
    assert tokenizer_json["model"]["type"] == "BPE"
    assert tokenizer_json["model"]["end_of_word_suffix"] == "</w>"
    assert [(t["id"], t["content"], t["special"]) for t in tokenizer_json["added_tokens"]] == [
        (SOT_TOKEN_ID, "<|startoftext|>", True),
        (EOT_TOKEN_ID, "<|endoftext|>", True),
    ]
    assert [n["type"] for n in tokenizer_json["normalizer"]["normalizers"]] == ["NFC", "Replace", "Lowercase"]
    split, byte_level = tokenizer_json["pre_tokenizer"]["pretokenizers"]
    assert split["pattern"]["Regex"] == tok.CLIP_SPLIT_PATTERN and split["invert"] is True
    assert byte_level == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    post = tokenizer_json["post_processor"]
    assert post["cls"] == ["<|startoftext|>", SOT_TOKEN_ID] and post["sep"] == ["<|endoftext|>", EOT_TOKEN_ID]


def test_committed_tokenizer_json_is_up_to_date(tokenizer_json: dict) -> None:
    committed = json.loads(tok.DEFAULT_TOKENIZER_JSON_PATH.read_text(encoding="utf-8"))
    assert committed == tokenizer_json, "regenerate with: python -m eva_lens.tokenizer --json ..."


def test_write_tokenizer_json_round_trips(tmp_path, tokenizer_json: dict) -> None:
    path = tok.export_tokenizer(tmp_path / "model")
    assert path.name == "tokenizer.json"
    assert json.loads(path.read_text(encoding="utf-8")) == tokenizer_json


# --- the parity fixture for src/engine/text/tokenizer.ts --------------------------------------------------------------


def test_fixture_is_up_to_date(reference: ClipBpeReference, fixture_cases: list[dict]) -> None:
    stale = [c["text"] for c in fixture_cases if reference.encode(c["text"]) != c["ids"]]
    assert stale == [], "regenerate with: python -m eva_lens.tokenizer --fixture ..."


def test_fixture_covers_the_required_kinds_of_text(fixture_cases: list[dict]) -> None:
    texts = [c["text"] for c in fixture_cases]
    assert len(texts) >= 300 and len(set(texts)) == len(texts)
    assert "" in texts
    assert any(len(c["ids"]) > CONTEXT_LENGTH for c in fixture_cases)
    for needle in ["3.14", "1,000", "it's", "café", "🐱", "猫", "قطة", "&amp;", "&lt;b&gt;", "\t"]:
        assert any(needle in t for t in texts), needle
    assert len({t for t in texts if t.startswith("&")}) >= len(tok.browser_entity_names())


def test_fixture_texts_come_from_the_generator(fixture_cases: list[dict]) -> None:
    classnames, templates = tok.load_imagenet_prompt_data()
    assert [c["text"] for c in fixture_cases] == tok.fixture_texts(classnames, templates)
