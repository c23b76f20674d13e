/** The warning on a hub-built model that named the build's test pictures badly (and silence otherwise). */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SemanticCheck } from '../../core/manifest';
import { SemanticWarning } from './SemanticWarning';

const check = (correct: number): SemanticCheck => ({
  dtype: 'int8',
  correct,
  total: 19,
  minShare: 0.5,
  passed: correct >= 9.5,
  items: [
    { image: 'red circle on grey', expected: 'a red circle', answered: 'a green circle' },
    { image: 'solid red', expected: 'red', answered: 'red' },
  ],
});

describe('SemanticWarning', () => {
  it('names the score and the likely cause on a model that failed the check, and lists its misses on hover', () => {
    const html = renderToStaticMarkup(<SemanticWarning manifest={{ semanticCheck: check(4) }} />);
    expect(html).toContain(
      'Its answers on simple test images look wrong: 4 of 19 right. The checkpoint may not be the official one or may be damaged.',
    );
    expect(html).toContain('title="red circle on grey: answered “a green circle”"');
    expect(html).not.toContain('solid red');
  });

  it('says it in one line in the status bar', () => {
    const html = renderToStaticMarkup(<SemanticWarning manifest={{ semanticCheck: check(4) }} compact />);
    expect(html).toContain('This model’s answers on simple test images look wrong (4 of 19 right)');
  });

  it('shows nothing for a model that passed or was never checked', () => {
    expect(renderToStaticMarkup(<SemanticWarning manifest={{ semanticCheck: check(15) }} />)).toBe('');
    expect(renderToStaticMarkup(<SemanticWarning manifest={{}} />)).toBe('');
  });
});
