import { describe, expect, it } from 'vitest';
import { cleanLabelText } from './labelsSlice';
import { loadPreset, parsePreset, presetRun, PRESETS } from './presets';

describe('label presets', () => {
  it('each preset file loads, names its source and licence, and every template holds the label', async () => {
    for (const entry of PRESETS) {
      const preset = await loadPreset(entry.id);
      expect(preset.id).toBe(entry.id);
      expect(preset.source.length).toBeGreaterThan(20);
      expect(preset.licence).toMatch(/^(MIT|CC0-1\.0)$/);
      for (const template of preset.templates) expect(template, `${entry.id}: ${template}`).toContain('{}');
      // A first-ranking subset is drawn from the preset's own templates.
      for (const template of preset.fastTemplates ?? []) expect(preset.templates).toContain(template);
    }
  });

  it('has the published class and template counts', async () => {
    const counts = async (id: string) => {
      const preset = await loadPreset(id);
      return [preset.labels.length, new Set(preset.labels).size, preset.templates.length];
    };
    // ImageNet: 1,000 names of which 'missile' and 'sunglasses' appear twice (as in CLIP's list); 80 templates.
    expect(await counts('imagenet-1k')).toEqual([1000, 998, 80]);
    // The first ranking: the 7 templates CLIP's notebook kept by sequential forward selection, in its order.
    expect((await loadPreset('imagenet-1k')).fastTemplates).toEqual([
      'itap of a {}.',
      'a bad photo of the {}.',
      'a origami {}.',
      'a photo of the large {}.',
      'a {} in a video game.',
      'art of the {}.',
      'a photo of the small {}.',
    ]);
    expect(await counts('cifar-10')).toEqual([10, 10, 18]);
    expect(await counts('cifar-100')).toEqual([100, 100, 18]);
  });

  it('refuses a damaged preset file and an unknown id with a message', async () => {
    expect(() => parsePreset({ id: 'x', name: 'X', labels: [], templates: ['{}'] })).toThrow('damaged');
    const valid = { id: 'x', name: 'X', source: 's', licence: 'MIT', labels: ['a'], templates: ['{}'] };
    expect(() => parsePreset({ ...valid, fastTemplates: [] })).toThrow('damaged');
    expect(parsePreset(valid)).not.toHaveProperty('fastTemplates');
    await expect(loadPreset('nope')).rejects.toThrow('There is no preset "nope".');
  });
});

describe('preset menu', () => {
  it('knows before loading how many labels (repeats merged as the labels slice merges them) and templates', async () => {
    for (const entry of PRESETS) {
      const preset = await loadPreset(entry.id);
      const distinct = new Set(preset.labels.map((label) => cleanLabelText(label).toLocaleLowerCase()));
      // The menu counts the templates of the first ranking: the fast set where the preset has one.
      expect([entry.labelCount, entry.templateCount], entry.id).toEqual([
        distinct.size,
        (preset.fastTemplates ?? preset.templates).length,
      ]);
    }
  });

  it('says how long a preset takes only from a measured time per prompt', () => {
    const imagenet = PRESETS.find((entry) => entry.id === 'imagenet-1k')!;
    expect(presetRun(imagenet, null)).toEqual({ labels: 998, templates: 7, prompts: 6_986, seconds: null });
    expect(presetRun(imagenet, 1.25).seconds).toBeCloseTo(8.7325, 6);
  });

  it('names each preset as its file does', async () => {
    for (const entry of PRESETS) expect((await loadPreset(entry.id)).name).toBe(entry.name);
  });
});
