import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateManifest } from '../engine/library/manifestValidation';
import { BUILT_IN_CATALOG } from './catalog';
import { modelInUseVocabulary, unknownWords, unknownWordsHint, vocabularySummary } from './vocabulary';

// The committed demo manifest, as the toolchain wrote it: the decisions below come from its data alone.
const demo = validateManifest(
  JSON.parse(readFileSync('public/models/eva-lens-demo/manifest.json', 'utf8')),
  'demo manifest',
);
const vocabulary = demo.vocabulary!;

describe('what a closed-vocabulary model can know', () => {
  it('summarises the demo manifest as 8 colours × 6 shapes, not photos', () => {
    expect(vocabularySummary(vocabulary)).toBe('knows 8 colours × 6 shapes, not photos');
  });

  it('finds the words of a label outside the vocabulary', () => {
    expect(unknownWords('a dog', vocabulary)).toEqual(['dog']);
    expect(unknownWords('a red car on a street', vocabulary)).toEqual(['car', 'street']);
    expect(unknownWords('Red Star!', vocabulary)).toEqual([]);
    expect(unknownWords('a photo of a blue circle.', vocabulary)).toEqual([]);
    expect(unknownWords('something pink', vocabulary)).toEqual([]);
    expect(unknownWords('cat cat', vocabulary)).toEqual(['cat']);
    expect(unknownWords('', vocabulary)).toEqual([]);
  });

  it('an open-vocabulary model (no vocabulary) knows every word', () => {
    expect(unknownWords('a dog', undefined)).toEqual([]);
    expect(modelInUseVocabulary({ ...demo, vocabulary: undefined }, BUILT_IN_CATALOG)).toBeNull();
    expect(modelInUseVocabulary(undefined, BUILT_IN_CATALOG)).toBeNull();
  });

  it('names the demo as the demo, another closed-vocabulary model by its name', () => {
    expect(modelInUseVocabulary(demo, BUILT_IN_CATALOG)).toMatchObject({
      title: 'Demo model',
      subject: 'The demo model',
    });
    expect(
      modelInUseVocabulary({ ...demo, id: 'shapes-2', name: 'Shapes 2' }, BUILT_IN_CATALOG),
    ).toMatchObject({
      title: 'Shapes 2',
      subject: 'Shapes 2',
    });
  });

  it('writes the hint beside a label', () => {
    expect(unknownWordsHint('The demo model', ['dog'])).toBe('The demo model does not know ‘dog’');
    expect(unknownWordsHint('The demo model', ['red', 'car', 'street'])).toBe(
      'The demo model does not know ‘red’, ‘car’ or ‘street’',
    );
  });
});
