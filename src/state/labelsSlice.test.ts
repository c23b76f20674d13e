import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES } from '../core/templates';
import { UNDO_DEPTH, cleanLabelList, cleanLabelListInSteps } from './labelsSlice';
import { mergePersisted, persistOptions, writeOnlyChanges } from './persistence';
import { resetStore } from './resetStore.testing';
import { useLensStore } from './store';

const state = () => useLensStore.getState();
const texts = () => state().labels.map((label) => label.text);

afterEach(resetStore);

describe('labels slice', () => {
  it('adds cleaned labels and refuses blanks and case-insensitive duplicates', () => {
    expect(state().addLabel('  red   circle ')).toBe(true);
    expect(state().addLabel('Red Circle')).toBe(false);
    expect(state().addLabel('   ')).toBe(false);
    expect(state().addLabel('blue square')).toBe(true);
    expect(texts()).toEqual(['red circle', 'blue square']);
    expect(new Set(state().labels.map((label) => label.id)).size).toBe(2);
  });

  it('renames a label unless the new text is blank or taken by another label', () => {
    state().replaceLabels(['cat', 'dog']);
    const [cat, dog] = state().labels;
    expect(state().updateLabel(cat!.id, 'Dog')).toBe(false);
    expect(state().updateLabel(cat!.id, '')).toBe(false);
    expect(state().updateLabel(cat!.id, 'CAT')).toBe(true);
    expect(texts()).toEqual(['CAT', 'dog']);
    expect(state().labels[1]!.id).toBe(dog!.id);
  });

  it('replaces the list from pasted lines, dropping blank and repeated lines', () => {
    expect(state().replaceLabels(['a', '', ' b ', 'A', 'c', '   ', 'b  '])).toEqual({
      kept: 3,
      blank: 2,
      duplicates: 2,
    });
    expect(texts()).toEqual(['a', 'b', 'c']);
  });

  it('takes a list of 10,000 labels at once', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `thing ${i}`);
    expect(state().replaceLabels([...many, ...many]).duplicates).toBe(10_000);
    expect(texts()).toHaveLength(10_000);
  });

  it('clears the sort when the selected label is removed, and toggles selection', () => {
    state().replaceLabels(['cat', 'dog']);
    const [cat, dog] = state().labels;
    state().toggleSelectedLabel(cat!.id);
    expect(state().selectedLabelId).toBe(cat!.id);
    state().toggleSelectedLabel(cat!.id);
    expect(state().selectedLabelId).toBeNull();
    state().toggleSelectedLabel(dog!.id);
    state().removeLabel(dog!.id);
    expect(state().selectedLabelId).toBeNull();
    expect(texts()).toEqual(['cat']);
  });

  it('falls back to the default template when every template line is blank', () => {
    state().setTemplates(['  a sketch of {}. ', '', 'art of {}']);
    expect(state().templates).toEqual(['a sketch of {}.', 'art of {}']);
    state().setTemplates(['', '  ']);
    expect(state().templates).toEqual([...DEFAULT_TEMPLATES]);
  });
});

describe('persistence', () => {
  it('keeps only labels, templates, the backend preference, the model in use, the model server and hub, and the mode', () => {
    state().replaceLabels(['cat']);
    state().setBackendPreference('wasm');
    state().pushNotice('hello');
    const saved = persistOptions.partialize!(state());
    expect(Object.keys(saved).sort()).toEqual([
      'activeModelId',
      'allowNone',
      'backendPreference',
      'classificationMode',
      'hubBaseUrl',
      'labelThresholds',
      'labels',
      'modelBaseUrl',
      'templates',
    ]);
    expect(saved.backendPreference).toBe('wasm');
  });

  it('ignores persisted fields of the wrong shape', () => {
    const current = state();
    const merged = mergePersisted(
      {
        labels: [
          { id: 'a', text: 'cat' },
          { id: 3, text: 'bad' },
          { id: 'b', text: ' ' },
        ],
        templates: 'not a list',
        backendPreference: 'cuda',
      },
      current,
    );
    expect(merged.labels).toEqual([{ id: 'a', text: 'cat' }]);
    expect(merged.templates).toEqual(current.templates);
    expect(merged.backendPreference).toBe('auto');
    expect(mergePersisted(null, current)).toBe(current);
  });
});

describe('undo', () => {
  it('takes back adds, renames, removals, pasted lists, templates and presets, newest first', () => {
    state().addLabel('cat');
    state().addLabel('dog');
    const dog = state().labels[1]!.id;
    state().updateLabel(dog, 'puppy');
    state().removeLabel(state().labels[0]!.id);
    state().setTemplates(['a drawing of a {}.']);
    state().replaceLabelSet(['car', 'bus'], ['a photo of a {}.', 'a blurry photo of a {}.'], 'use Vehicles');
    expect(state().labelUndo.at(-1)?.description).toBe('use Vehicles');

    expect(state().undoLabelEdit()).toBe(true);
    expect(texts()).toEqual(['puppy']);
    expect(state().templates).toEqual(['a drawing of a {}.']);
    state().undoLabelEdit();
    expect(state().templates).toEqual(['a photo of a {}.']);
    state().undoLabelEdit();
    expect(texts()).toEqual(['cat', 'puppy']);
    state().undoLabelEdit();
    expect(texts()).toEqual(['cat', 'dog']);
    expect(state().labels[1]!.id).toBe(dog); // the same label comes back, not a copy
    state().undoLabelEdit();
    state().undoLabelEdit();
    expect(texts()).toEqual([]);
    expect(state().undoLabelEdit()).toBe(false);
  });

  it('records nothing for an edit that changes nothing, and keeps at most UNDO_DEPTH steps', () => {
    state().addLabel('cat');
    state().addLabel('CAT');
    state().updateLabel(state().labels[0]!.id, 'cat');
    expect(state().labelUndo).toHaveLength(1);
    for (let i = 0; i < UNDO_DEPTH + 10; i++) state().addLabel(`label ${i}`);
    expect(state().labelUndo).toHaveLength(UNDO_DEPTH);
  });
});

describe('label embedding progress', () => {
  it('keeps the start of a run while done grows, and starts the clock again for a new total', () => {
    state().setLabelEmbeddingProgress(0, 100, 1000);
    state().setLabelEmbeddingProgress(32, 100, 1500);
    expect(state().labelEmbeddingProgress).toEqual({
      done: 32,
      total: 100,
      startedAt: 1000,
      updatedAt: 1500,
    });
    state().setLabelEmbeddingProgress(0, 40, 2000);
    expect(state().labelEmbeddingProgress).toEqual({ done: 0, total: 40, startedAt: 2000, updatedAt: 2000 });
    state().setLabelEmbeddings(null);
    expect(state().labelEmbeddingProgress).toBeNull();
  });

  it('Cancel puts back the labels and templates the embeddings were made for; Undo brings the cancelled set back', () => {
    state().replaceLabels(['cat', 'dog']);
    const shown = state().labels;
    state().setLabelEmbeddings({
      labelIds: shown.map((label) => label.id),
      labelTexts: shown.map((label) => label.text),
      templates: ['a photo of a {}.'],
      embeddings: new Float32Array(4),
      dim: 2,
      truncated: [false, false],
      ms: 1,
      fromCache: 0,
    });
    state().replaceLabelSet(['tench', 'goldfish'], ['a {}', 'the {}'], 'use a preset');
    state().startLabelEmbedding();
    state().cancelLabelEmbedding();
    expect(state().labels).toEqual(shown);
    expect(state().templates).toEqual(['a photo of a {}.']);
    expect(state().labelEmbeddingStatus).toBe('ready');
    expect(state().undoLabelEdit()).toBe(true);
    expect(texts()).toEqual(['tench', 'goldfish']);
  });
});

describe('persistence', () => {
  it('writes only when a persisted field changed (compared by identity)', () => {
    const written: unknown[] = [];
    const storage = writeOnlyChanges<{ labels: string[]; mode: string }>({
      getItem: () => null,
      setItem: (_name, value) => void written.push(value),
      removeItem: () => undefined,
    });
    const labels = ['a'];
    void storage.setItem('k', { state: { labels, mode: 'single' }, version: 1 });
    void storage.setItem('k', { state: { labels, mode: 'single' }, version: 1 });
    expect(written).toHaveLength(1);
    void storage.setItem('k', { state: { labels: [...labels], mode: 'single' }, version: 1 });
    void storage.setItem('k', { state: { labels, mode: 'multi' }, version: 1 });
    expect(written).toHaveLength(3);
  });
});

describe('cleaning a pasted list in steps', () => {
  it('gives what cleaning at once gives, pausing between steps', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? '' : `Label ${i % 3000}`));
    let pauses = 0;
    const stepped = await cleanLabelListInSteps(lines, async () => void pauses++, 2000);
    const atOnce = cleanLabelList(lines);
    expect(pauses).toBe(2);
    expect(stepped.labels.map((label) => label.text)).toEqual(atOnce.labels.map((label) => label.text));
    expect([stepped.kept, stepped.blank, stepped.duplicates]).toEqual([
      atOnce.kept,
      atOnce.blank,
      atOnce.duplicates,
    ]);
  });
});
