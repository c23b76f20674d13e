import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManifestError, ModelFileError } from '../../core/errors';
import type { TextConfig } from '../../core/manifest';
import { ClipTokenizer, cleanClipText, decodeHtmlEntities, splitOnEvaSpecialNames } from './tokenizer';

interface FixtureCase {
  text: string;
  /** Reference ids from models/eva_lens/tokenizer.py: SOT … EOT, unpadded, not truncated. */
  ids: number[];
}

interface Fixture {
  contextLength: number;
  sotTokenId: number;
  eotTokenId: number;
  padTokenId: number;
  cases: FixtureCase[];
}

const readJson = <T>(pathFromRepoRoot: string): T =>
  JSON.parse(readFileSync(new URL(`../../../${pathFromRepoRoot}`, import.meta.url), 'utf8')) as T;

const fixture = readJson<Fixture>('models/tests/fixtures/tokenizer_cases.json');
const tokenizerJson = readJson<object>('public/models/eva-lens-demo/tokenizer.json');

const textConfig: TextConfig = {
  contextLength: fixture.contextLength,
  tokenizer: { path: 'tokenizer.json', bytes: 0, sha256: '' },
  bosTokenId: fixture.sotTokenId,
  eosTokenId: fixture.eotTokenId,
  padTokenId: fixture.padTokenId,
};

/**
 * Fixture strings the browser tokenizer is known to encode differently from the Python reference, with the
 * cause. None can be fixed in the wrapper without re-implementing the HF normalizer or pattern; all are
 * exotic inputs.
 */
const KNOWN_DIFFERENCES = new Map<string, string>([
  [
    "it'ſ a long s",
    "Python's regex runs CLIP's pattern with IGNORECASE, so `'s` also matches `'ſ` (U+017F folds to s); " +
      'the HF pattern is case-sensitive (the text is already lower-cased, so only folding-only characters ' +
      'such as ſ differ).',
  ],
  [
    'ᾳ ypogegrammeni and \u0345 alone',
    'With IGNORECASE, `[\\p{L}]` in the regex module also matches U+0345 (a combining mark that folds to ι), ' +
      'so the reference keeps it inside a letter run; in JS it is punctuation and splits the word.',
  ],
  [
    'e&#769; combining by reference',
    'The reference applies NFC (its stand-in for ftfy) before decoding entities, so the decoded U+0301 ' +
      'stays apart from its base; the HF normalizer applies NFC after the wrapper decodes, composing é. ' +
      'Real ftfy also decodes entities before NFC, so here the browser is the closer to CLIP with ftfy.',
  ],
  [
    '&#101;\u0301 base by reference',
    'Same cause: the base letter comes from an entity and the combining mark follows it; NFC order differs.',
  ],
]);

/** What EVA-CLIP's `tokenize` keeps of a reference sequence: contextLength ids, the last set to EOT. */
function truncateLikeEvaClip(ids: number[]): number[] {
  if (ids.length <= fixture.contextLength) return ids;
  return [...ids.slice(0, fixture.contextLength - 1), fixture.eotTokenId];
}

describe('ClipTokenizer', () => {
  let tokenizer: ClipTokenizer;
  beforeAll(() => {
    tokenizer = new ClipTokenizer(tokenizerJson, textConfig);
  });

  it('has a fixture of 300+ strings that covers the known differences', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(300);
    const texts = new Set(fixture.cases.map((c) => c.text));
    for (const text of KNOWN_DIFFERENCES.keys()) expect(texts).toContain(text);
  });

  it('gives the reference ids for every fixture string', () => {
    const mismatches: { text: string; expected: number[]; actual: number[] }[] = [];
    for (const { text, ids } of fixture.cases) {
      if (KNOWN_DIFFERENCES.has(text)) continue;
      const expected = truncateLikeEvaClip(ids);
      const { ids: actual, truncated } = tokenizer.encode(text);
      if (
        JSON.stringify(actual) !== JSON.stringify(expected) ||
        truncated !== ids.length > fixture.contextLength
      ) {
        mismatches.push({ text, expected, actual });
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('still differs on the known differences (so the list stays honest)', () => {
    for (const { text, ids } of fixture.cases) {
      if (!KNOWN_DIFFERENCES.has(text)) continue;
      expect(tokenizer.encode(text).ids, text).not.toEqual(truncateLikeEvaClip(ids));
    }
  });

  it('encodes a known prompt and the empty string', () => {
    expect(tokenizer.encode('a photo of a cat.').ids).toEqual([49406, 320, 1125, 539, 320, 2368, 269, 49407]);
    expect(tokenizer.encode('')).toEqual({ ids: [49406, 49407], truncated: false });
    expect(tokenizer.encode(' \t\n ').ids).toEqual([49406, 49407]);
  });

  it('cuts an over-long prompt to the context with EOT last', () => {
    // "a" is one token (320): 75 of them plus SOT and EOT fill the context exactly.
    const fits = tokenizer.encode('a '.repeat(75));
    expect(fits.truncated).toBe(false);
    expect(fits.ids).toHaveLength(77);
    const cut = tokenizer.encode('a '.repeat(76));
    expect(cut.truncated).toBe(true);
    expect(cut.ids).toHaveLength(77);
    expect(cut.ids.at(-1)).toBe(49407);
    expect(cut.ids.at(-2)).toBe(320);
  });

  it('never turns the OpenAI special names typed in a prompt into special ids', () => {
    const { ids } = tokenizer.encode('<|endoftext|> a cat <|startoftext|>');
    expect(ids.slice(1, -1)).not.toContain(49407);
    expect(ids.slice(1, -1)).not.toContain(49406);
  });

  it('pads a batch to its longest prompt and reports truncation per prompt', () => {
    const texts = ['a cat', 'a photo of a small dog', ''];
    const batch = tokenizer.encodeBatch(texts);
    const rows = texts.map((text) => tokenizer.encode(text).ids);
    expect(batch.batch).toBe(3);
    expect(batch.seqLen).toBe(Math.max(...rows.map((r) => r.length)));
    expect(batch.inputIds).toHaveLength(batch.batch * batch.seqLen);
    expect(batch.truncated).toEqual([false, false, false]);
    rows.forEach((row, r) => {
      const got = Array.from(batch.inputIds.slice(r * batch.seqLen, (r + 1) * batch.seqLen), Number);
      expect(got).toEqual([
        ...row,
        ...new Array<number>(batch.seqLen - row.length).fill(textConfig.padTokenId),
      ]);
    });

    const withLong = tokenizer.encodeBatch(['a dog', 'a '.repeat(200)]);
    expect(withLong.seqLen).toBe(77);
    expect(withLong.truncated).toEqual([false, true]);
    expect(withLong.inputIds[77 + 76]).toBe(49407n);
  });

  it('uses the pad id of the manifest', () => {
    const padded = new ClipTokenizer(tokenizerJson, { ...textConfig, padTokenId: 7 }).encodeBatch([
      'a',
      'a b c',
    ]);
    expect(Array.from(padded.inputIds.slice(0, padded.seqLen), Number)).toEqual([49406, 320, 49407, 7, 7]);
  });

  it('returns an empty tensor for an empty batch', () => {
    expect(tokenizer.encodeBatch([])).toEqual({
      inputIds: new BigInt64Array(0),
      batch: 0,
      seqLen: 0,
      truncated: [],
    });
  });

  it('ships a tokenizer.json that works on its own in @huggingface/tokenizers (SOT/EOT by its post-processor)', () => {
    const plain = new Tokenizer(tokenizerJson, {});
    expect(plain.encode('A photo of a CAT.').ids).toEqual([49406, 320, 1125, 539, 320, 2368, 269, 49407]);
  });

  it('rejects a tokenizer.json or text config it cannot use', () => {
    const withConfig = (change: Partial<TextConfig>) => () =>
      new ClipTokenizer(tokenizerJson, { ...textConfig, ...change });
    expect(() => new ClipTokenizer({ model: { type: 'WordPiece' } }, textConfig)).toThrow(ModelFileError);
    expect(withConfig({ eosTokenId: 5 })).toThrow(ManifestError);
    expect(withConfig({ eosTokenId: 5 })).toThrow(/EOS 5/);
    expect(withConfig({ contextLength: 1 })).toThrow(/contextLength/);
  });
});

describe('cleanClipText', () => {
  // Expected strings are what Python's html.unescape(html.unescape(s)).strip() returns.
  it('decodes entities twice like html.unescape', () => {
    expect(decodeHtmlEntities('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;');
    expect(cleanClipText('&amp;lt;b&amp;gt;')).toBe('<b>');
    expect(decodeHtmlEntities('&#128;&#x85;&#0;&#1;&#xD800;&#1114112;')).toBe('€…\ufffd\ufffd\ufffd');
    expect(decodeHtmlEntities('&notit; &ampxyz &eacute &Amp; &constructor; &__proto__;')).toBe(
      '¬it; &xyz é &Amp; &constructor; &__proto__;',
    );
  });

  it("strips what Python's str.strip strips, not what String.trim does", () => {
    expect(cleanClipText('\x1c\u3000 cat \x1f\u0085')).toBe('cat');
    expect(cleanClipText('\ufeffcat\ufeff')).toBe('\ufeffcat\ufeff');
  });
});

describe('splitOnEvaSpecialNames', () => {
  it('finds a name only where the CLIP pattern can start a match', () => {
    expect(splitOnEvaSpecialNames('a <end_of_text> b')).toEqual(['a ', '<end_of_text>', ' b']);
    expect(splitOnEvaSpecialNames('cat<end_of_text><start_of_text>')).toEqual([
      'cat',
      '<end_of_text>',
      '<start_of_text>',
    ]);
    expect(splitOnEvaSpecialNames('!<end_of_text>')).toEqual(['!<end_of_text>']);
    expect(splitOnEvaSpecialNames('🐱<end_of_text>')).toEqual(['🐱<end_of_text>']);
    expect(splitOnEvaSpecialNames('𝐀<end_of_text>')).toEqual(['𝐀', '<end_of_text>']);
  });
});
