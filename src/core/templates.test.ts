import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES, fillTemplate, normalizeTemplates } from './templates';

describe('fillTemplate', () => {
  it('puts the label in place of {}', () => {
    expect(fillTemplate('a photo of a {}.', 'cat')).toBe('a photo of a cat.');
    expect(fillTemplate(DEFAULT_TEMPLATES[0]!, '  red circle ')).toBe('a photo of a red circle.');
  });

  it('replaces every {}', () => {
    expect(fillTemplate('{} or not {}', 'dog')).toBe('dog or not dog');
  });

  it('appends the label when the template has no placeholder', () => {
    expect(fillTemplate('a sketch of', 'horse')).toBe('a sketch of horse');
  });
});

describe('normalizeTemplates', () => {
  it('drops blanks and duplicates, keeping order', () => {
    expect(normalizeTemplates([' a {}. ', '', 'a {}.', 'the {}'])).toEqual(['a {}.', 'the {}']);
  });

  it('falls back to the default template', () => {
    expect(normalizeTemplates(['  '])).toEqual([...DEFAULT_TEMPLATES]);
  });
});
