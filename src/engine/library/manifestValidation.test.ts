import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../core/errors';
import { validateManifest } from './manifestValidation';
import { makeManifest } from '../../test/manifestFixture';

type Json = Record<string, unknown>;

/** A deep copy of the valid manifest with `edit` applied. */
function broken(edit: (m: Json) => void): Json {
  const copy = JSON.parse(JSON.stringify(makeManifest())) as Json;
  edit(copy);
  return copy;
}

const at = (m: Json, ...keys: (string | number)[]): Json =>
  keys.reduce<Json>((obj, key) => obj[key] as Json, m);

describe('validateManifest', () => {
  it('accepts a valid manifest and returns the same data', () => {
    const manifest = makeManifest();
    expect(validateManifest(JSON.parse(JSON.stringify(manifest)), 'm.json')).toEqual(manifest);
  });

  it('accepts a manifest without metrics', () => {
    const result = validateManifest(
      broken((m) => delete m.metrics),
      'm.json',
    );
    expect(result.metrics).toBeUndefined();
  });

  it('reads an optional vocabulary (a closed-vocabulary model)', () => {
    const vocabulary = {
      groups: [{ name: 'colours', words: ['red', 'blue'] }],
      otherWords: ['a'],
      notFor: 'photos',
    };
    const result = validateManifest(
      broken((m) => (m.vocabulary = vocabulary)),
      'm.json',
    );
    expect(result.vocabulary).toEqual(vocabulary);
    expect(
      validateManifest(
        broken(() => undefined),
        'm.json',
      ).vocabulary,
    ).toBeUndefined();
  });

  const cases: [string, (m: Json) => void, RegExp][] = [
    ['a non-object', () => undefined, /\(root\) must be a JSON object/],
    ['a missing id', (m) => delete m.id, /: id is missing/],
    ['an empty name', (m) => (m.name = ' '), /: name must not be empty/],
    ['another schema version', (m) => (m.schemaVersion = 2), /schemaVersion must be 1 \(got 2\)/],
    ['a zero embedDim', (m) => (m.embedDim = 0), /embedDim must be greater than 0/],
    ['a fractional embedDim', (m) => (m.embedDim = 1.5), /embedDim must be an integer/],
    [
      'a string logitScale',
      (m) => (m.logitScale = '100'),
      /logitScale must be a finite number \(got "100"\)/,
    ],
    [
      'two mean values',
      (m) => (at(m, 'image').mean = [0.5, 0.5]),
      /image\.mean must have 3 values \(has 2\)/,
    ],
    ['a zero std', (m) => (at(m, 'image').std = [0.2, 0, 0.2]), /image\.std\[1\] must be greater than 0/],
    [
      'a squash resize',
      (m) => (at(m, 'image').resizeMode = 'squash'),
      /image\.resizeMode must be one of 'shortest'/,
    ],
    ['a bilinear filter', (m) => (at(m, 'image').interpolation = 'bilinear'), /image\.interpolation/],
    ['a negative token id', (m) => (at(m, 'text').padTokenId = -1), /text\.padTokenId must be at least 0/],
    ['no variants', (m) => (m.variants = []), /variants must not be empty/],
    ['an unknown dtype', (m) => (at(m, 'variants', 0).dtype = 'int4'), /variants\[0\]\.dtype must be one of/],
    ['an unknown backend', (m) => (at(m, 'variants', 0).backends = ['cuda']), /variants\[0\]\.backends\[0\]/],
    ['no backends', (m) => (at(m, 'variants', 0).backends = []), /variants\[0\]\.backends must not be empty/],
    ['a bad feature', (m) => (at(m, 'variants', 0).requiredFeatures = [3]), /requiredFeatures\[0\]/],
    [
      'an upper-case sha256',
      (m) => (at(m, 'variants', 0, 'imageModel').sha256 = 'A'.repeat(64)),
      /variants\[0\]\.imageModel\.sha256 must be 64 lower-case hex/,
    ],
    [
      'a negative size',
      (m) => (at(m, 'variants', 0, 'textModel').bytes = -1),
      /textModel\.bytes must be greater/,
    ],
    [
      'an absolute file URL',
      (m) => (at(m, 'text', 'tokenizer').path = 'https://x.org/t.json'),
      /text\.tokenizer\.path must be relative/,
    ],
    ['a cosine above 1', (m) => (at(m, 'variants', 0).minProbeCosine = 2), /minProbeCosine must be at most/],
    [
      'a short probe embedding',
      (m) => (at(m, 'probe').imageEmbedding = [1]),
      /probe\.imageEmbedding must have 4/,
    ],
    [
      'a probe text longer than the context',
      (m) => (at(m, 'probe').textInputIds = Array(9).fill(1)),
      /probe\.textInputIds must have between 1 and 8/,
    ],
    ['an unknown probe formula', (m) => (at(m, 'probe').imageFormula = 'v2'), /probe\.imageFormula/],
    ['a NaN in the probe', (m) => (at(m, 'probe').textEmbedding = [1, 2, null, 4]), /textEmbedding\[2\]/],
    [
      'a vocabulary word that is not a string',
      (m) => (m.vocabulary = { groups: [{ name: 'colours', words: [3] }], otherWords: [], notFor: '' }),
      /vocabulary\.groups\[0\]\.words\[0\] must be a word/,
    ],
    ['an object metric', (m) => (m.metrics = { a: {} }), /metrics\.a must be a number or a string/],
  ];

  it.each(cases)('rejects %s, naming the field', (_, edit, message) => {
    const value = _ === 'a non-object' ? [] : broken(edit);
    expect(() => validateManifest(value, 'https://host/m.json')).toThrow(ManifestError);
    expect(() => validateManifest(value, 'https://host/m.json')).toThrow(message);
  });

  it('mentions the manifest URL', () => {
    expect(() =>
      validateManifest(
        broken((m) => delete m.id),
        'https://host/m.json',
      ),
    ).toThrow('The model manifest at https://host/m.json is invalid');
  });
});
