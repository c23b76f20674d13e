/**
 * The CLIP tokenizer of the text tower: prompt → token ids `[SOT, …, EOT]`, as EVA-CLIP tokenizes them.
 *
 * Normalisation (NFC, whitespace, lower case), the CLIP split pattern and byte-level BPE run in
 * `@huggingface/tokenizers` from the model's `tokenizer.json`. Around it this module does what that file
 * cannot express, so the ids equal those of the Python reference `models/eva_lens/tokenizer.py` (checked
 * string by string in `tokenizer.test.ts` against `models/tests/fixtures/tokenizer_cases.json`):
 *  - CLIP decodes HTML entities twice and strips with Python's `str.strip` before anything else
 *    (`cleanClipText`);
 *  - EVA-CLIP turns its own special-token names typed in a prompt (`<start_of_text>`, `<end_of_text>`) into
 *    SOT/EOT, but not the OpenAI names (`<|startoftext|>`, `<|endoftext|>`) that `tokenizer.json` lists as
 *    added tokens. So the HF added-token matching is switched off and EVA's rule is applied here
 *    (`splitOnEvaSpecialNames`);
 *  - SOT/EOT/pad ids and the context length come from the manifest's `TextConfig`; a prompt longer than the
 *    context is cut with EOT as its last token, because the text tower pools at the EOT position (argmax of
 *    the ids).
 *
 * Known differences from the reference, all on inputs no label list is expected to contain (listed with their
 * causes in `tokenizer.test.ts`): `'ſ` and U+0345, which Python's IGNORECASE pattern treats specially;
 * characters produced by an entity that NFC composes with a neighbour (`e&#769;`); named entities outside the
 * HTML 4 set.
 *
 * Pure TypeScript, no DOM: runs in a Web Worker and in Node.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ManifestError, ModelFileError } from '../../core/errors';
import type { TextConfig } from '../../core/manifest';

/** One prompt's ids, ready for the text graph. */
export interface EncodedPrompt {
  /** `[SOT, …, EOT]`, at most `contextLength` long, unpadded. */
  ids: number[];
  /** True when the prompt did not fit and was cut (its last id is then EOT, not the last word). */
  truncated: boolean;
}

/** A batch of prompts as the text graph's `input_ids` `[batch, seqLen]` (int64, row-major). */
export interface EncodedBatch {
  inputIds: BigInt64Array;
  batch: number;
  /** Longest prompt of the batch (≤ contextLength); shorter rows are padded with `padTokenId`. */
  seqLen: number;
  truncated: boolean[];
}

/** The parts of `tokenizer.json` read here; the rest goes to `@huggingface/tokenizers` unchanged. */
interface TokenizerJson {
  model: { type: string };
  added_tokens: { id: number; content: string }[];
}

export class ClipTokenizer {
  readonly contextLength: number;
  private hfTokenizer: Tokenizer | null = null;
  private readonly tokenizerJson: object;
  private readonly bosTokenId: number;
  private readonly eosTokenId: number;
  private readonly padTokenId: number;

  /**
   * @param tokenizerJson the parsed `tokenizer.json` of the model (CLIP byte-level BPE).
   * @param config the manifest's text settings (context length and special ids).
   */
  constructor(tokenizerJson: object, config: TextConfig) {
    assertClipTokenizerJson(tokenizerJson, config);
    if (!Number.isInteger(config.contextLength) || config.contextLength < 2) {
      throw new ManifestError(
        `text.contextLength must be an integer ≥ 2 (SOT and EOT), got ${config.contextLength}`,
      );
    }
    this.contextLength = config.contextLength;
    this.bosTokenId = config.bosTokenId;
    this.eosTokenId = config.eosTokenId;
    this.padTokenId = config.padTokenId;
    this.tokenizerJson = tokenizerJson;
  }

  /**
   * The BPE tokenizer, built on first use: building it from CLIP's 49,408-token vocabulary and its merges took
   * 0.2–0.5 s here, and a returning visit with remembered label embeddings never needs it.
   */
  private get hf(): Tokenizer {
    // Without added tokens, "<|endoftext|>" typed in a prompt is BPE-encoded like any text, as EVA-CLIP does;
    // SOT and EOT are added by encode() from the manifest instead of by the post-processor.
    this.hfTokenizer ??= new Tokenizer({ ...this.tokenizerJson, added_tokens: [] }, {});
    return this.hfTokenizer;
  }

  /** Token ids of one prompt: SOT, the prompt, EOT; cut to `contextLength` with EOT last if too long. */
  encode(text: string): EncodedPrompt {
    const ids = [this.bosTokenId, ...this.encodeWithoutSpecials(cleanClipText(text)), this.eosTokenId];
    if (ids.length <= this.contextLength) {
      return { ids, truncated: false };
    }
    const cut = ids.slice(0, this.contextLength);
    cut[this.contextLength - 1] = this.eosTokenId;
    return { ids: cut, truncated: true };
  }

  /**
   * Encode prompts into one `[batch, seqLen]` tensor, padded only to the longest prompt: the text graph takes
   * a dynamic sequence length, and with the causal mask, padding after EOT never changes an embedding.
   */
  encodeBatch(texts: readonly string[]): EncodedBatch {
    return this.pack(texts.map((text) => this.encode(text)));
  }

  /** Prompts already encoded, as one `[batch, seqLen]` tensor padded to the longest of them. */
  pack(prompts: readonly EncodedPrompt[]): EncodedBatch {
    const seqLen = prompts.reduce((longest, prompt) => Math.max(longest, prompt.ids.length), 0);
    // [batch, seqLen], row-major
    const inputIds = new BigInt64Array(prompts.length * seqLen).fill(BigInt(this.padTokenId));
    prompts.forEach((prompt, row) => {
      prompt.ids.forEach((id, column) => {
        inputIds[row * seqLen + column] = BigInt(id);
      });
    });
    return { inputIds, batch: prompts.length, seqLen, truncated: prompts.map((prompt) => prompt.truncated) };
  }

  private encodeWithoutSpecials(cleaned: string): number[] {
    if (!MAY_CONTAIN_EVA_SPECIAL_NAME.test(cleaned)) {
      return this.bpe(cleaned);
    }
    // EVA-CLIP looks for its special names after NFC and lower-casing; the HF normalizer repeats both.
    return splitOnEvaSpecialNames(cleaned.normalize('NFC').toLowerCase()).flatMap((segment) => {
      if (segment === START_OF_TEXT) return [this.bosTokenId];
      if (segment === END_OF_TEXT) return [this.eosTokenId];
      return this.bpe(segment);
    });
  }

  private bpe(text: string): number[] {
    return this.hf.encode(text, { add_special_tokens: false }).ids;
  }
}

function assertClipTokenizerJson(json: object, config: TextConfig): asserts json is TokenizerJson {
  const candidate = json as Partial<TokenizerJson>;
  if (candidate.model?.type !== 'BPE') {
    throw new ModelFileError('tokenizer.json: expected a BPE model (the CLIP tokenizer)');
  }
  const addedIds = new Set((candidate.added_tokens ?? []).map((token) => token.id));
  if (!addedIds.has(config.bosTokenId) || !addedIds.has(config.eosTokenId)) {
    const ids = `BOS ${config.bosTokenId} and EOS ${config.eosTokenId}`;
    throw new ManifestError(`tokenizer.json: its added tokens do not contain the manifest's ${ids}`);
  }
}

// --- CLIP's text cleaning ----------------------------------------------------------------------------------

/** What Python's `str.isspace` calls whitespace: Unicode White_Space plus U+001C…U+001F (and no U+FEFF). */
const PYTHON_SPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PYTHON_STRIP = new RegExp(`^[${PYTHON_SPACE}]+|[${PYTHON_SPACE}]+$`, 'g');

/**
 * The part of CLIP's `basic_clean` that the HF normalizer cannot do: `html.unescape` twice (web captions are
 * often escaped twice, `&amp;lt;`), then Python's `strip()`. `String.prototype.trim` would differ: it strips
 * U+FEFF and keeps U+001C…U+001F. NFC, whitespace collapsing and lower-casing follow in the HF normalizer.
 */
export function cleanClipText(text: string): string {
  return decodeHtmlEntities(decodeHtmlEntities(text)).replace(PYTHON_STRIP, '');
}

// --- EVA-CLIP special-token names in a prompt --------------------------------------------------------------

const START_OF_TEXT = '<start_of_text>';
const END_OF_TEXT = '<end_of_text>';
const EVA_SPECIAL_NAME = /<start_of_text>|<end_of_text>/g;
const MAY_CONTAIN_EVA_SPECIAL_NAME = /<(?:start|end)_of_text>/i;
/** CLIP's pattern groups these characters into punctuation runs (`[^\s\p{L}\p{N}]+`). */
const PUNCTUATION_RUN_CHAR = /^[^\p{White_Space}\p{L}\p{N}]$/u;

/**
 * Split normalised text at the special names EVA-CLIP's pattern would match (text pieces and names).
 *
 * The pattern is `<start_of_text>|<end_of_text>|'s|…|[^\s\p{L}\p{N}]+`, scanned left to right: a name is
 * matched only where a match can start, so not when the character before its `<` is punctuation (that run
 * swallows the `<`), unless that character closes a name matched just before.
 */
export function splitOnEvaSpecialNames(text: string): string[] {
  const segments: string[] = [];
  let textStart = 0;
  let lastNameEnd = -1;
  for (const match of text.matchAll(EVA_SPECIAL_NAME)) {
    const at = match.index;
    if (at > 0 && at !== lastNameEnd && PUNCTUATION_RUN_CHAR.test(codePointBefore(text, at))) {
      continue;
    }
    if (at > textStart) segments.push(text.slice(textStart, at));
    segments.push(match[0]);
    textStart = lastNameEnd = at + match[0].length;
  }
  if (textStart < text.length) segments.push(text.slice(textStart));
  return segments;
}

/** The whole code point ending at UTF-16 index `at` (an astral letter is a letter, not two halves). */
function codePointBefore(text: string, at: number): string {
  const low = text.charCodeAt(at - 1);
  const isLowSurrogate = low >= 0xdc00 && low <= 0xdfff;
  return isLowSurrogate && at >= 2
    ? String.fromCodePoint(text.codePointAt(at - 2) ?? low)
    : text.charAt(at - 1);
}

// --- HTML character references, as Python's html.unescape decodes them -------------------------------------

/** Python's `html._charref`; with the `u` flag `{1,32}` counts code points, as Python does. */
const CHARACTER_REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/**
 * Decode HTML character references like Python's `html.unescape` (HTML 5 rules).
 *
 * Numeric references are decoded exactly as Python does, including the Windows-1252 remapping of 0x80–0x9F,
 * U+FFFD for 0, surrogates and out-of-range values, and dropping non-characters. Named references cover the
 * 252 HTML 4 entities plus `&apos;` (values as in HTML 5, so `&lang;` is U+27E8); the 106 legacy names
 * (`&amp`, `&eacute`, `&AMP`…) also decode without `;` and as the longest prefix of an unknown name
 * (`&notit;` → `¬it;`), as in Python. The other ~2,000 HTML 5 names (`&check;`, `&NewLine;`…) are kept
 * as they are; Python decodes them.
 */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARACTER_REFERENCE, (_match, reference: string) =>
    reference.startsWith('#') ? decodeNumericReference(reference) : decodeNamedReference(reference),
  );
}

function decodeNumericReference(reference: string): string {
  const isHex = reference[1] === 'x' || reference[1] === 'X';
  const digits = reference.slice(isHex ? 2 : 1).replace(/;$/, '');
  const codePoint = Number.parseInt(digits, isHex ? 16 : 10);
  const remapped = INVALID_CHARACTER_REFERENCES.get(codePoint);
  if (remapped !== undefined) return String.fromCodePoint(remapped);
  if ((codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) return '\ufffd';
  if (isDroppedCodePoint(codePoint)) return '';
  return String.fromCodePoint(codePoint);
}

function decodeNamedReference(reference: string): string {
  const exact = lookupNamedReference(reference);
  if (exact !== undefined) return exact;
  // The longest known prefix wins (only legacy names can match without their ';').
  const chars = Array.from(reference);
  for (let length = chars.length - 1; length > 1; length--) {
    const value = lookupNamedReference(chars.slice(0, length).join(''));
    if (value !== undefined) return value + chars.slice(length).join('');
  }
  return `&${reference}`;
}

function lookupNamedReference(key: string): string | undefined {
  const name = key.endsWith(';') ? key.slice(0, -1) : key;
  if (!key.endsWith(';') && !LEGACY_ENTITY_NAMES.has(name)) return undefined;
  const codePoint = NAMED_ENTITIES.get(name);
  return codePoint === undefined ? undefined : String.fromCodePoint(codePoint);
}

/** Python `html._invalid_codepoints`: C0/C1 controls, U+FDD0…U+FDEF, the last two code points of a plane. */
function isDroppedCodePoint(codePoint: number): boolean {
  return (
    (codePoint >= 0x1 && codePoint <= 0x8) ||
    codePoint === 0xb ||
    (codePoint >= 0xe && codePoint <= 0x1f) ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    (codePoint >= 0xfdd0 && codePoint <= 0xfdef) ||
    (codePoint & 0xfffe) === 0xfffe
  );
}

/** Python `html._invalid_charrefs`: what HTML 5 decodes these numeric references to (mostly Windows-1252). */
// prettier-ignore
const INVALID_CHARACTER_REFERENCES = new Map<number, number>([
  [0x00, 0xfffd], [0x0d, 0x0d], [0x80, 0x20ac], [0x81, 0x81], [0x82, 0x201a], [0x83, 0x0192],
  [0x84, 0x201e], [0x85, 0x2026], [0x86, 0x2020], [0x87, 0x2021], [0x88, 0x02c6], [0x89, 0x2030],
  [0x8a, 0x0160], [0x8b, 0x2039], [0x8c, 0x0152], [0x8d, 0x8d], [0x8e, 0x017d], [0x8f, 0x8f], [0x90, 0x90],
  [0x91, 0x2018], [0x92, 0x2019], [0x93, 0x201c], [0x94, 0x201d], [0x95, 0x2022], [0x96, 0x2013],
  [0x97, 0x2014], [0x98, 0x02dc], [0x99, 0x2122], [0x9a, 0x0161], [0x9b, 0x203a], [0x9c, 0x0153],
  [0x9d, 0x9d], [0x9e, 0x017e], [0x9f, 0x0178],
]);

/**
 * Entity name → code point, generated from Python's `html.entities.html5`. A Map, so names such as
 * `constructor` never hit Object.prototype.
 */
// prettier-ignore
const NAMED_ENTITIES = new Map<string, number>(
  Object.entries({
    AElig: 0xc6, AMP: 0x26, Aacute: 0xc1, Acirc: 0xc2, Agrave: 0xc0, Alpha: 0x391, Aring: 0xc5,
    Atilde: 0xc3, Auml: 0xc4, Beta: 0x392, COPY: 0xa9, Ccedil: 0xc7, Chi: 0x3a7, Dagger: 0x2021,
    Delta: 0x394, ETH: 0xd0, Eacute: 0xc9, Ecirc: 0xca, Egrave: 0xc8, Epsilon: 0x395, Eta: 0x397,
    Euml: 0xcb, GT: 0x3e, Gamma: 0x393, Iacute: 0xcd, Icirc: 0xce, Igrave: 0xcc, Iota: 0x399, Iuml: 0xcf,
    Kappa: 0x39a, LT: 0x3c, Lambda: 0x39b, Mu: 0x39c, Ntilde: 0xd1, Nu: 0x39d, OElig: 0x152, Oacute: 0xd3,
    Ocirc: 0xd4, Ograve: 0xd2, Omega: 0x3a9, Omicron: 0x39f, Oslash: 0xd8, Otilde: 0xd5, Ouml: 0xd6,
    Phi: 0x3a6, Pi: 0x3a0, Prime: 0x2033, Psi: 0x3a8, QUOT: 0x22, REG: 0xae, Rho: 0x3a1, Scaron: 0x160,
    Sigma: 0x3a3, THORN: 0xde, Tau: 0x3a4, Theta: 0x398, Uacute: 0xda, Ucirc: 0xdb, Ugrave: 0xd9,
    Upsilon: 0x3a5, Uuml: 0xdc, Xi: 0x39e, Yacute: 0xdd, Yuml: 0x178, Zeta: 0x396, aacute: 0xe1,
    acirc: 0xe2, acute: 0xb4, aelig: 0xe6, agrave: 0xe0, alefsym: 0x2135, alpha: 0x3b1, amp: 0x26,
    and: 0x2227, ang: 0x2220, apos: 0x27, aring: 0xe5, asymp: 0x2248, atilde: 0xe3, auml: 0xe4,
    bdquo: 0x201e, beta: 0x3b2, brvbar: 0xa6, bull: 0x2022, cap: 0x2229, ccedil: 0xe7, cedil: 0xb8,
    cent: 0xa2, chi: 0x3c7, circ: 0x2c6, clubs: 0x2663, cong: 0x2245, copy: 0xa9, crarr: 0x21b5,
    cup: 0x222a, curren: 0xa4, dArr: 0x21d3, dagger: 0x2020, darr: 0x2193, deg: 0xb0, delta: 0x3b4,
    diams: 0x2666, divide: 0xf7, eacute: 0xe9, ecirc: 0xea, egrave: 0xe8, empty: 0x2205, emsp: 0x2003,
    ensp: 0x2002, epsilon: 0x3b5, equiv: 0x2261, eta: 0x3b7, eth: 0xf0, euml: 0xeb, euro: 0x20ac,
    exist: 0x2203, fnof: 0x192, forall: 0x2200, frac12: 0xbd, frac14: 0xbc, frac34: 0xbe, frasl: 0x2044,
    gamma: 0x3b3, ge: 0x2265, gt: 0x3e, hArr: 0x21d4, harr: 0x2194, hearts: 0x2665, hellip: 0x2026,
    iacute: 0xed, icirc: 0xee, iexcl: 0xa1, igrave: 0xec, image: 0x2111, infin: 0x221e, int: 0x222b,
    iota: 0x3b9, iquest: 0xbf, isin: 0x2208, iuml: 0xef, kappa: 0x3ba, lArr: 0x21d0, lambda: 0x3bb,
    lang: 0x27e8, laquo: 0xab, larr: 0x2190, lceil: 0x2308, ldquo: 0x201c, le: 0x2264, lfloor: 0x230a,
    lowast: 0x2217, loz: 0x25ca, lrm: 0x200e, lsaquo: 0x2039, lsquo: 0x2018, lt: 0x3c, macr: 0xaf,
    mdash: 0x2014, micro: 0xb5, middot: 0xb7, minus: 0x2212, mu: 0x3bc, nabla: 0x2207, nbsp: 0xa0,
    ndash: 0x2013, ne: 0x2260, ni: 0x220b, not: 0xac, notin: 0x2209, nsub: 0x2284, ntilde: 0xf1, nu: 0x3bd,
    oacute: 0xf3, ocirc: 0xf4, oelig: 0x153, ograve: 0xf2, oline: 0x203e, omega: 0x3c9, omicron: 0x3bf,
    oplus: 0x2295, or: 0x2228, ordf: 0xaa, ordm: 0xba, oslash: 0xf8, otilde: 0xf5, otimes: 0x2297,
    ouml: 0xf6, para: 0xb6, part: 0x2202, permil: 0x2030, perp: 0x22a5, phi: 0x3c6, pi: 0x3c0, piv: 0x3d6,
    plusmn: 0xb1, pound: 0xa3, prime: 0x2032, prod: 0x220f, prop: 0x221d, psi: 0x3c8, quot: 0x22,
    rArr: 0x21d2, radic: 0x221a, rang: 0x27e9, raquo: 0xbb, rarr: 0x2192, rceil: 0x2309, rdquo: 0x201d,
    real: 0x211c, reg: 0xae, rfloor: 0x230b, rho: 0x3c1, rlm: 0x200f, rsaquo: 0x203a, rsquo: 0x2019,
    sbquo: 0x201a, scaron: 0x161, sdot: 0x22c5, sect: 0xa7, shy: 0xad, sigma: 0x3c3, sigmaf: 0x3c2,
    sim: 0x223c, spades: 0x2660, sub: 0x2282, sube: 0x2286, sum: 0x2211, sup: 0x2283, sup1: 0xb9,
    sup2: 0xb2, sup3: 0xb3, supe: 0x2287, szlig: 0xdf, tau: 0x3c4, there4: 0x2234, theta: 0x3b8,
    thetasym: 0x3d1, thinsp: 0x2009, thorn: 0xfe, tilde: 0x2dc, times: 0xd7, trade: 0x2122, uArr: 0x21d1,
    uacute: 0xfa, uarr: 0x2191, ucirc: 0xfb, ugrave: 0xf9, uml: 0xa8, upsih: 0x3d2, upsilon: 0x3c5,
    uuml: 0xfc, weierp: 0x2118, xi: 0x3be, yacute: 0xfd, yen: 0xa5, yuml: 0xff, zeta: 0x3b6, zwj: 0x200d,
    zwnj: 0x200c,
  }),
);

/** Names HTML 5 also decodes without their `;`: the Latin-1 characters, plus upper-case AMP, COPY… */
const LEGACY_ENTITY_NAMES = new Set<string>(
  [
    'AElig AMP Aacute Acirc Agrave Aring Atilde Auml COPY Ccedil ETH Eacute Ecirc Egrave Euml GT Iacute',
    'Icirc Igrave Iuml LT Ntilde Oacute Ocirc Ograve Oslash Otilde Ouml QUOT REG THORN Uacute Ucirc Ugrave',
    'Uuml Yacute aacute acirc acute aelig agrave amp aring atilde auml brvbar ccedil cedil cent copy curren',
    'deg divide eacute ecirc egrave eth euml frac12 frac14 frac34 gt iacute icirc iexcl igrave iquest iuml',
    'laquo lt macr micro middot nbsp not ntilde oacute ocirc ograve ordf ordm oslash otilde ouml para plusmn',
    'pound quot raquo reg sect shy sup1 sup2 sup3 szlig thorn times uacute ucirc ugrave uml uuml yacute yen',
    'yuml',
  ]
    .join(' ')
    .split(' '),
);
